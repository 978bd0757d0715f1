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

/// The neuron equations of `IFLayerState.Lanes.fire16` on 16 lanes, shared by the steps
/// below: potential = v + current; fire where potential > theta; v = potential - theta
/// there. The fired lanes' fan-out adds to `weighted`; the spikes (theta or 0) go to
/// `spikes` and add to `probe` when those are not null. Returns the mask.
#if defined(__x86_64__) && defined(__AVX512F__)
__attribute__((always_inline))
static inline __mmask16 snn_fire16(float *v, __m512 current, const float *theta, const float *fanout, __m512 *weighted,
                                   float *spikes, float *probe) {
    const __m512 potential = _mm512_add_ps(_mm512_loadu_ps(v), current);
    const __m512 th = _mm512_loadu_ps(theta);
    const __mmask16 fire = _mm512_cmp_ps_mask(th, potential, _CMP_LT_OQ);
    _mm512_storeu_ps(v, _mm512_mask_sub_ps(potential, fire, potential, th));
    *weighted = _mm512_mask_add_ps(*weighted, fire, *weighted, _mm512_loadu_ps(fanout));
    if (spikes) _mm512_storeu_ps(spikes, _mm512_maskz_mov_ps(fire, th));
    if (probe) _mm512_storeu_ps(probe, _mm512_add_ps(_mm512_loadu_ps(probe), _mm512_maskz_mov_ps(fire, th)));
    return fire;
}
#endif

/// One lane of `snn_fire16`, for builds without AVX-512: returns whether it fired.
static inline int snn_fire1(float *v, float current, float theta, float fanout, float *weighted, float *spikes, float *probe) {
    const float potential = *v + current;
    const int fire = potential > theta;
    *v = fire ? potential - theta : potential;
    if (fire) *weighted += fanout;
    if (spikes) *spikes = fire ? theta : 0;
    if (probe) *probe = *probe + (fire ? theta : 0);
    return fire;
}

/// The buffers of one step of a fused neuron layer (`snn_fire_rows`): `count` pixel rows
/// of `row_stride` lanes (a multiple of 16), pixel-major.
struct snn_fire_rows_args {
    int count, row_stride;
    /// Membranes, updated in place; the currents (replaced by the spikes, theta or 0, when
    /// `store_spikes`).
    float *v, *input;
    int store_spikes;
    /// A second current added to `input` first: floats (`extra`, same layout), or the
    /// spike bits of a neuron layer (`extra_bits`, lane 8g + j of pixel q at bit j of
    /// extra_bits[g * plane + q]) each carrying `amplitude[lane]`; both may be null.
    const float *extra;
    const uint8_t *extra_bits;
    const float *amplitude;
    /// Per lane threshold (padding lanes +infinity) and per value fan-out.
    const float *theta, *fanout;
    /// Output spike bits (same layout as `extra_bits`, `groups` bytes per pixel, planes
    /// `plane` apart), and the fired neurons' fan-out summed per lane into weighted[0..15].
    uint8_t *bits;
    long plane;
    int groups;
    float *weighted;
    /// Gap-probe sums laid out like `v`, += the spikes (null without diagnostics).
    float *probe;
};

/// One step of a fused neuron layer, the equations of `IFLayerState.Lanes.fire16`:
/// v += input (+ the second current, summed first); fire where v > theta; subtract theta
/// there. Returns how many fired. In C because every use of the compare (subtract,
/// count, bits) wants its mask, which Swift reaches only through a vector of 0 / -1 lanes,
/// and a spike bypass becomes a masked move of the amplitudes straight from its bits.
#if defined(__x86_64__) && defined(__AVX512F__)
__attribute__((always_inline))
static inline long snn_fire_rows(const struct snn_fire_rows_args *a) {
    const int count = a->count, row_stride = a->row_stride, groups = a->groups;
    const long plane = a->plane;
    float *const v = a->v, *const input = a->input;
    const float *const extra = a->extra, *const theta = a->theta, *const fanout = a->fanout;
    const uint8_t *const extra_bits = a->extra_bits;
    uint8_t *const bits = a->bits;
    __m512 w = _mm512_loadu_ps(a->weighted);
    long fired = 0;
    for (int q = 0; q < count; q++) {
        for (int k = 0; k < row_stride; k += 16) {
            const long at = (long)q * row_stride + k;
            const long byte = (long)(k >> 3) * plane + q;
            const int high = (k >> 3) + 1 < groups;
            __m512 current = _mm512_loadu_ps(input + at);
            if (extra) current = _mm512_add_ps(current, _mm512_loadu_ps(extra + at));
            if (extra_bits) {
                const __mmask16 on = (__mmask16)(extra_bits[byte] | (high ? extra_bits[byte + plane] << 8 : 0));
                current = _mm512_add_ps(current, _mm512_maskz_mov_ps(on, _mm512_loadu_ps(a->amplitude + k)));
            }
            const __mmask16 fire = snn_fire16(v + at, current, theta + k, fanout + at, &w, a->store_spikes ? input + at : 0,
                                              a->probe ? a->probe + at : 0);
            const unsigned m = _cvtmask16_u32(fire);
            fired += __builtin_popcount(m);
            bits[byte] = (uint8_t)m;
            if (high) bits[byte + plane] = (uint8_t)(m >> 8);
        }
    }
    _mm512_storeu_ps(a->weighted, w);
    return fired;
}
#else
static inline long snn_fire_rows(const struct snn_fire_rows_args *a) {
    long fired = 0;
    for (int q = 0; q < a->count; q++) {
        for (int k = 0; k < a->row_stride; k += 16) {
            const long byte = (long)(k >> 3) * a->plane + q;
            const int high = (k >> 3) + 1 < a->groups;
            const unsigned on = a->extra_bits ? (a->extra_bits[byte] | (high ? a->extra_bits[byte + a->plane] << 8 : 0u)) : 0u;
            unsigned m = 0;
            for (int j = 0; j < 16; j++) {
                const long at = (long)q * a->row_stride + k + j;
                float current = a->input[at];
                if (a->extra) current = current + a->extra[at];
                if (a->extra_bits) current = current + ((on >> j) & 1 ? a->amplitude[k + j] : 0.0f);
                if (snn_fire1(a->v + at, current, a->theta[k + j], a->fanout[at], a->weighted + j, a->store_spikes ? a->input + at : 0,
                              a->probe ? a->probe + at : 0)) { fired++; m |= 1u << j; }
            }
            a->bits[byte] = (uint8_t)m;
            if (high) a->bits[byte + a->plane] = (uint8_t)(m >> 8);
        }
    }
    return fired;
}
#endif

/// One step of an unfused neuron layer on `channels` (at most 8) planes of `inner`
/// neurons each, 16 pixels at a time (pixels past the last multiple of 16 are left to the
/// caller): the same equations as `snn_fire_rows`, per-value thresholds and fan-outs, and
/// each pixel's byte of spike bits (bit j = plane j). All pointers are at the group's
/// first value; `bypass`, `out` (the spikes as floats) and `probe` (gap-probe sums, += the
/// spikes) may be null.
struct snn_fire_planes_args {
    int channels;
    long inner;
    const float *z, *bypass;
    float *out, *v, *probe;
    const float *theta, *fanout;
    uint8_t *patterns;
    float *weighted;
};

#if defined(__x86_64__) && defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__)
__attribute__((always_inline))
static inline long snn_fire_planes(const struct snn_fire_planes_args *a) {
    const long inner = a->inner;
    __m512 w = _mm512_loadu_ps(a->weighted);
    long fired = 0;
    for (long p = 0; p + 16 <= inner; p += 16) {
        __m128i pattern = _mm_setzero_si128();
        for (int j = 0; j < a->channels; j++) {
            const long at = j * inner + p;
            __m512 current = _mm512_loadu_ps(a->z + at);
            if (a->bypass) current = _mm512_add_ps(current, _mm512_loadu_ps(a->bypass + at));
            const __mmask16 fire = snn_fire16(a->v + at, current, a->theta + at, a->fanout + at, &w, a->out ? a->out + at : 0,
                                              a->probe ? a->probe + at : 0);
            fired += __builtin_popcount(_cvtmask16_u32(fire));
            pattern = _mm_mask_mov_epi8(pattern, fire, _mm_or_si128(pattern, _mm_set1_epi8((char)(1 << j))));
        }
        _mm_storeu_si128((__m128i *)(a->patterns + p), pattern);
    }
    _mm512_storeu_ps(a->weighted, w);
    return fired;
}
#else
static inline long snn_fire_planes(const struct snn_fire_planes_args *a) {
    long fired = 0;
    for (long p = 0; p + 16 <= a->inner; p += 16) {
        uint8_t pattern[16] = {0};
        for (int j = 0; j < a->channels; j++) {
            for (int l = 0; l < 16; l++) {
                const long at = j * a->inner + p + l;
                float current = a->z[at];
                if (a->bypass) current = current + a->bypass[at];
                if (snn_fire1(a->v + at, current, a->theta[at], a->fanout[at], a->weighted + l, a->out ? a->out + at : 0,
                              a->probe ? a->probe + at : 0)) { fired++; pattern[l] |= (uint8_t)(1 << j); }
            }
        }
        for (int l = 0; l < 16; l++) a->patterns[p + l] = pattern[l];
    }
    return fired;
}
#endif

#endif
