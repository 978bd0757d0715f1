#ifndef SNN_AMX_H
#define SNN_AMX_H

#include <stdint.h>

/// 1 when this CPU has AMX int8 tiles and the kernel let this process use them
/// (checked once: CPUID, then the Linux permission request for the tile state).
int snn_amx_usable(void);

/// `count` tile products (a multiple of 4) with every operand already in tile registers:
/// the tile unit's own throughput, for `snnkit bench amx`.
void snn_amx_register_products(long count);

/// The spike convolution's product on AMX tiles and the float values from it. A: m rows
/// of `k` unsigned bytes (m a multiple of 16, k a multiple of 64, rows 64-byte aligned).
/// B: k x n signed bytes packed by `snn_amx_pack_index`, n a multiple of 48: per block b
/// of 16 outputs, the high, middle and low weight bytes in columns 48b, 48b+16, 48b+32.
/// The int32 sums s2, s1, s0 are exact; value = (65536 s2 + 256 s1 + s0) x scale + bias
/// in float: every sum below 2^24 in magnitude converts exactly, 65536 s2 + 256 s1 rounds
/// once (one fused multiply-add) and adding s0 once more, so the value is within one unit
/// in the last place of the exact sum before the bias (scales are powers of two). Row r
/// of the first `rows` goes to out + (r / per_image) * image_stride + (r % per_image) *
/// row_stride, 16 values per block. `c`: scratch for m rows of 96 int32 (the sums of six
/// column tiles, recombined as soon as they are complete).
void snn_amx_gemm_combine(const uint8_t *a, int m, int k, const int8_t *b, int n, int32_t *c, int rows,
                          const float *scales, const float *bias, float *out, int per_image, long image_stride, long row_stride);

/// Where B[row k][column n] goes in the packed layout `snn_amx_gemm_combine` reads:
/// 1 KB tiles of 64 rows of K by 16 columns, four K values of a column side by side.
static inline long snn_amx_pack_index(int row, int column, int k) {
    long tile = (long)(column / 16) * (k / 64) + row / 64;
    return tile * 1024 + ((row % 64) / 4) * 64 + (column % 16) * 4 + row % 4;
}

#if defined(__x86_64__) && defined(__AVX512F__)
#include <immintrin.h>
#endif

/// One step of a fused neuron layer over `count` pixel rows of `row_stride` lanes (a
/// multiple of 16), the equations of `IFLayerState.Lanes.fire16`: v += input (+ extra,
/// summed first); fire where v > theta; subtract theta there. Lane 8g + j of pixel q is
/// bit j of bits[g * plane + q] (a last odd group of 8 lanes writes no byte past the
/// `groups`). With `store_spikes` the spikes (theta or 0) replace `input`. Returns how
/// many fired; the fired neurons' fan-out adds up per lane into weighted[0..15]. In C
/// because every use of the compare (subtract, count, bits) wants its mask, which Swift
/// reaches only through a vector of 0 / -1 lanes.
#if defined(__x86_64__) && defined(__AVX512F__)
__attribute__((always_inline))
static inline long snn_fire_rows(int count, int row_stride, float *v, float *input, const float *extra, const float *theta,
                                 const float *fanout, uint8_t *bits, long plane, int groups, int store_spikes, float *weighted) {
    __m512 w = _mm512_loadu_ps(weighted);
    long fired = 0;
    for (int q = 0; q < count; q++) {
        for (int k = 0; k < row_stride; k += 16) {
            const long at = (long)q * row_stride + k;
            __m512 current = _mm512_loadu_ps(input + at);
            if (extra) current = _mm512_add_ps(current, _mm512_loadu_ps(extra + at));
            const __m512 potential = _mm512_add_ps(_mm512_loadu_ps(v + at), current);
            const __m512 th = _mm512_loadu_ps(theta + k);
            const __mmask16 fire = _mm512_cmp_ps_mask(th, potential, _CMP_LT_OQ);
            _mm512_storeu_ps(v + at, _mm512_mask_sub_ps(potential, fire, potential, th));
            w = _mm512_mask_add_ps(w, fire, w, _mm512_loadu_ps(fanout + at));
            if (store_spikes) _mm512_storeu_ps(input + at, _mm512_maskz_mov_ps(fire, th));
            const unsigned m = _cvtmask16_u32(fire);
            fired += __builtin_popcount(m);
            uint8_t *b = bits + (long)(k >> 3) * plane + q;
            b[0] = (uint8_t)m;
            if ((k >> 3) + 1 < groups) b[plane] = (uint8_t)(m >> 8);
        }
    }
    _mm512_storeu_ps(weighted, w);
    return fired;
}
#else
static inline long snn_fire_rows(int count, int row_stride, float *v, float *input, const float *extra, const float *theta,
                                 const float *fanout, uint8_t *bits, long plane, int groups, int store_spikes, float *weighted) {
    long fired = 0;
    for (int q = 0; q < count; q++) {
        for (int k = 0; k < row_stride; k += 16) {
            unsigned m = 0;
            for (int j = 0; j < 16; j++) {
                const long at = (long)q * row_stride + k + j;
                const float current = extra ? input[at] + extra[at] : input[at];
                const float potential = v[at] + current;
                const int fire = potential > theta[k + j];
                v[at] = fire ? potential - theta[k + j] : potential;
                if (fire) { weighted[j] += fanout[at]; fired++; m |= 1u << j; }
                if (store_spikes) input[at] = fire ? theta[k + j] : 0;
            }
            uint8_t *b = bits + (long)(k >> 3) * plane + q;
            b[0] = (uint8_t)m;
            if ((k >> 3) + 1 < groups) b[plane] = (uint8_t)(m >> 8);
        }
    }
    return fired;
}
#endif

#endif
