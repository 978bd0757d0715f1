#ifndef SNN_AMX_H
#define SNN_AMX_H

#include <stdint.h>
#include "SNNPeak.h"

// The 16-lane helpers below pass snn_f32x16 by value; built for AVX2, clang warns that
// such arguments change the ABI without AVX-512. They are static and always inlined, so
// no call crosses an ABI boundary: the 68 warnings per haswell build say nothing.
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wpsabi"

/// The CPU the calling thread runs on, or -1 where unknown (for `Parallel`'s shares).
int snn_current_cpu(void);

/// Whether `Parallel` runs loops on the calling thread alone (1), set while a thread
/// carries a batch shard of its own through the network.
int snn_thread_serial(void);
void snn_set_thread_serial(int serial);

/// 1 when this CPU has AMX int8 tiles and the kernel let this process use them
/// (checked once: CPUID, then the Linux permission request for the tile state).
int snn_amx_usable(void);

/// `count` tile products (a multiple of 4) with every operand already in tile registers:
/// the tile unit's own throughput, for `snnkit bench amx`.
void snn_amx_register_products(long count);

/// Which tile products of an im2col product can be skipped: a K tile whose taps are all
/// outside the input (padding) for every row of a row tile holds only zero bytes there,
/// and its products add exactly 0. Rows are ordered so that a row tile holds output
/// pixels that miss the same taps (a border pixel of a 4x4 map misses 3-5 of 9), and each
/// row's values go to out + offsets[r].
struct snn_tile_taps {
    /// Per row: its output row's offset from `out`, in floats.
    const long *offsets;
    /// Per 16-row tile: a bit per kernel tap that some row of the tile has inside the input.
    const uint64_t *row_tiles;
    /// Per K tile (64 bytes of an im2col row): a bit per tap whose bytes it holds.
    const uint64_t *k_tiles;
};

/// The spike convolution's product on AMX tiles and the float values from it. A: m rows
/// of `k` unsigned bytes (m a multiple of 16, k a multiple of 64, rows 64-byte aligned).
/// B: k x n signed bytes packed by `snn_amx_pack_index`, n a multiple of 48: per block b
/// of 16 outputs, the high, middle and low weight bytes in columns 48b, 48b+16, 48b+32.
/// The int32 sums s2, s1, s0 are exact; value = (65536 s2 + 256 s1 + s0) x scale + bias
/// in float: every sum below 2^24 in magnitude converts exactly, 65536 s2 + 256 s1 rounds
/// once (one fused multiply-add) and adding s0 once more, so the value is within one unit
/// in the last place of the exact sum before the bias (scales are powers of two). Row r
/// of the first `rows` goes to out + (r / per_image) * image_stride + (r % per_image) *
/// row_stride, 16 values per block, or with `taps` to out + taps->offsets[r]. `c`:
/// scratch for m rows of 96 int32 (the sums of six column tiles, recombined as soon as
/// they are complete).
void snn_amx_gemm_combine(const uint8_t *a, int m, int k, const int8_t *b, int n, int32_t *c, int rows,
                          const float *scales, const float *bias, float *out, int per_image, long image_stride, long row_stride,
                          const struct snn_tile_taps *taps);

/// Where B[row k][column n] goes in the packed layout `snn_amx_gemm_combine` reads:
/// 1 KB tiles of 64 rows of K by 16 columns, four K values of a column side by side.
static inline long snn_amx_pack_index(int row, int column, int k) {
    long tile = (long)(column / 16) * (k / 64) + row / 64;
    return tile * 1024 + ((row % 64) / 4) * 64 + (column % 16) * 4 + row % 4;
}

#if defined(__x86_64__) && (defined(__AVX512F__) || defined(__AVX2__))
#include <immintrin.h>
#endif

/// The neuron equations of `IFLayerState.Lanes.fire16` on 16 lanes, shared by the steps
/// below: potential = v + current, clamped to [`lower`, `upper`] when those are not null (a
/// saturating membrane); fire where potential > theta (`th`); v = potential - theta there
/// (with `zero_reset`: v = 0 there, the reset of NIR's IF and most hardware).
/// The fired lanes' fan-out adds to `weighted`; the spikes (theta or 0) go to `spikes` and
/// add to `probe` when those are not null. Returns the mask.
#if defined(__x86_64__) && defined(__AVX512F__)
__attribute__((always_inline))
static inline __mmask16 snn_fire16(float *v, __m512 current, __m512 th, const float *fanout, __m512 *weighted,
                                   float *spikes, float *probe, int zero_reset, const float *lower, const float *upper) {
    __m512 potential = _mm512_add_ps(_mm512_loadu_ps(v), current);
    if (lower) potential = _mm512_min_ps(_mm512_max_ps(potential, _mm512_loadu_ps(lower)), _mm512_loadu_ps(upper));
    const __mmask16 fire = _mm512_cmp_ps_mask(th, potential, _CMP_LT_OQ);
    _mm512_storeu_ps(v, _mm512_mask_sub_ps(potential, fire, potential, zero_reset ? potential : th));
    *weighted = _mm512_mask_add_ps(*weighted, fire, *weighted, _mm512_loadu_ps(fanout));
    if (spikes) _mm512_storeu_ps(spikes, _mm512_maskz_mov_ps(fire, th));
    if (probe) _mm512_storeu_ps(probe, _mm512_add_ps(_mm512_loadu_ps(probe), _mm512_maskz_mov_ps(fire, th)));
    return fire;
}
#elif defined(__x86_64__) && defined(__AVX2__)
/// `snn_fire16`'s equations on 8 lanes for AVX2 hosts (e.g. AMD EPYC), the compare as a
/// vector of 0 / -1 lanes: the same values (a lane that does not fire adds +0 to its
/// fan-out sum and probe, which hold no -0). Returns the mask's 8 bits.
__attribute__((always_inline))
static inline unsigned snn_fire8(float *v, __m256 current, __m256 th, const float *fanout, __m256 *weighted, float *spikes, float *probe,
                                 int zero_reset, const float *lower, const float *upper) {
    __m256 potential = _mm256_add_ps(_mm256_loadu_ps(v), current);
    if (lower) potential = _mm256_min_ps(_mm256_max_ps(potential, _mm256_loadu_ps(lower)), _mm256_loadu_ps(upper));
    const __m256 fire = _mm256_cmp_ps(th, potential, _CMP_LT_OQ);
    _mm256_storeu_ps(v, _mm256_blendv_ps(potential, _mm256_sub_ps(potential, zero_reset ? potential : th), fire));
    *weighted = _mm256_add_ps(*weighted, _mm256_and_ps(fire, _mm256_loadu_ps(fanout)));
    const __m256 spike = _mm256_and_ps(fire, th);
    if (spikes) _mm256_storeu_ps(spikes, spike);
    if (probe) _mm256_storeu_ps(probe, _mm256_add_ps(_mm256_loadu_ps(probe), spike));
    return (unsigned)_mm256_movemask_ps(fire);
}

/// Two `snn_fire8`: lanes 0-7 and 8-15 of a 16-lane segment, `weighted` in two halves.
__attribute__((always_inline))
static inline unsigned snn_fire16_avx2(float *v, __m256 low, __m256 high, const float *th, const float *fanout, __m256 *w_low, __m256 *w_high,
                                       float *spikes, float *probe, int zero_reset, const float *lower, const float *upper) {
    const unsigned m = snn_fire8(v, low, _mm256_loadu_ps(th), fanout, w_low, spikes, probe, zero_reset, lower, upper);
    return m | snn_fire8(v + 8, high, _mm256_loadu_ps(th + 8), fanout + 8, w_high, spikes ? spikes + 8 : 0, probe ? probe + 8 : 0,
                         zero_reset, lower ? lower + 8 : 0, upper ? upper + 8 : 0) << 8;
}
#endif

/// One lane of `snn_fire16`, for builds without AVX-512: returns whether it fired.
static inline int snn_fire1(float *v, float current, float theta, float fanout, float *weighted, float *spikes, float *probe,
                            int zero_reset, const float *lower, const float *upper) {
    float potential = *v + current;
    if (lower) potential = potential < *lower ? *lower : (potential > *upper ? *upper : potential);
    const int fire = potential > theta;
    *v = fire ? (zero_reset ? 0.0f : potential - theta) : potential;
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
    /// Per lane membrane bounds of a saturating layer (`snn_fire16`), or both null.
    const float *lower, *upper;
    /// Output spike bits (same layout as `extra_bits`, `groups` bytes per pixel, planes
    /// `plane` apart), and the fired neurons' fan-out summed per lane into weighted[0..15].
    uint8_t *bits;
    long plane;
    int groups;
    float *weighted;
    /// Gap-probe sums laid out like `v`, += the spikes (null without diagnostics).
    float *probe;
    /// Nonzero: a neuron that fires resets to 0 instead of subtracting its threshold.
    int zero_reset;
};

/// Sixteen floats, SIMD16<Float> in Swift: a convolution's output segment handed to
/// `snn_fire_segment` in a register; and the same at any 4-byte aligned address.
typedef float snn_f32x16 __attribute__((vector_size(64)));
typedef float snn_f32x16u __attribute__((vector_size(64), aligned(4)));

/// The neuron equations on lanes `k` to `k` + 15 of one pixel (`at`: its first value in
/// the rows of `a`), the convolution current given: the float bypass and the spike bypass
/// (`on`: its bits for these lanes) are added to it first, then `snn_fire16`'s equations.
/// The fired lanes' fan-out adds to `*weighted`. Returns the mask. One form per
/// instruction set; `snn_fire_segment` around it is shared.
#if defined(__x86_64__) && defined(__AVX512F__)
__attribute__((always_inline))
static inline unsigned snn_fire_lanes16(const struct snn_fire_rows_args *const a, long at, int k, unsigned on,
                                        snn_f32x16 convolution, snn_f32x16 *weighted) {
    __m512 current = (__m512)convolution;
    if (a->extra) current = _mm512_add_ps(current, _mm512_loadu_ps(a->extra + at));
    if (a->extra_bits) current = _mm512_add_ps(current, _mm512_maskz_mov_ps((__mmask16)on, _mm512_loadu_ps(a->amplitude + k)));
    __m512 w = (__m512)*weighted;
    const __mmask16 fire = snn_fire16(a->v + at, current, _mm512_loadu_ps(a->theta + k), a->fanout + at, &w,
                                      a->store_spikes ? a->input + at : 0, a->probe ? a->probe + at : 0, a->zero_reset,
                                      a->lower ? a->lower + k : 0, a->upper ? a->upper + k : 0);
    *weighted = (snn_f32x16)w;
    return _cvtmask16_u32(fire);
}
#elif defined(__x86_64__) && defined(__AVX2__)
typedef float snn_f32x8 __attribute__((vector_size(32)));

/// Lanes of -1 where bit j of `bits` is set, 0 elsewhere (j = 0..7).
__attribute__((always_inline))
static inline __m256 snn_lanes8(unsigned bits) {
    const __m256i select = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
    return _mm256_castsi256_ps(_mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32((int)bits), select), select));
}

__attribute__((always_inline))
static inline unsigned snn_fire_lanes16(const struct snn_fire_rows_args *const a, long at, int k, unsigned on,
                                        snn_f32x16 convolution, snn_f32x16 *weighted) {
    __m256 low_current = (__m256)__builtin_shufflevector(convolution, convolution, 0, 1, 2, 3, 4, 5, 6, 7);
    __m256 high_current = (__m256)__builtin_shufflevector(convolution, convolution, 8, 9, 10, 11, 12, 13, 14, 15);
    if (a->extra) {
        low_current = _mm256_add_ps(low_current, _mm256_loadu_ps(a->extra + at));
        high_current = _mm256_add_ps(high_current, _mm256_loadu_ps(a->extra + at + 8));
    }
    if (a->extra_bits) {
        low_current = _mm256_add_ps(low_current, _mm256_and_ps(snn_lanes8(on), _mm256_loadu_ps(a->amplitude + k)));
        high_current = _mm256_add_ps(high_current, _mm256_and_ps(snn_lanes8(on >> 8), _mm256_loadu_ps(a->amplitude + k + 8)));
    }
    __m256 w_low = (__m256)__builtin_shufflevector(*weighted, *weighted, 0, 1, 2, 3, 4, 5, 6, 7);
    __m256 w_high = (__m256)__builtin_shufflevector(*weighted, *weighted, 8, 9, 10, 11, 12, 13, 14, 15);
    const unsigned m = snn_fire16_avx2(a->v + at, low_current, high_current, a->theta + k, a->fanout + at, &w_low, &w_high,
                                       a->store_spikes ? a->input + at : 0, a->probe ? a->probe + at : 0, a->zero_reset,
                                       a->lower ? a->lower + k : 0, a->upper ? a->upper + k : 0);
    *weighted = __builtin_shufflevector((snn_f32x8)w_low, (snn_f32x8)w_high, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    return m;
}
#else
static inline unsigned snn_fire_lanes16(const struct snn_fire_rows_args *const a, long at, int k, unsigned on,
                                        snn_f32x16 convolution, snn_f32x16 *weighted) {
    unsigned m = 0;
    for (int j = 0; j < 16; j++) {
        float current = convolution[j], w = (*weighted)[j];
        if (a->extra) current = current + a->extra[at + j];
        if (a->extra_bits) current = current + ((on >> j) & 1 ? a->amplitude[k + j] : 0.0f);
        if (snn_fire1(a->v + at + j, current, a->theta[k + j], a->fanout[at + j], &w, a->store_spikes ? a->input + at + j : 0,
                      a->probe ? a->probe + at + j : 0, a->zero_reset, a->lower ? a->lower + k + j : 0,
                      a->upper ? a->upper + k + j : 0)) m |= 1u << j;
        (*weighted)[j] = w;
    }
    return m;
}
#endif

/// The neuron update of pixel `q`, lanes `k` to `k` + 15, of a fused layer's step
/// (`snn_fire_rows_args`), its convolution current given (`snn_fire_lanes16`); the spike
/// bits go to their two planes (the second only where the layer has those channels) and
/// `*fired` counts them. Returns `weighted` plus the fan-out of the fired lanes.
/// `snn_fire_rows` runs it on stored rows; the sliding table lookups call it on each
/// output as it completes, so their rows are never stored and reloaded.
__attribute__((always_inline))
static inline snn_f32x16 snn_fire_segment(const struct snn_fire_rows_args *const a, long q, int k, snn_f32x16 convolution,
                                          snn_f32x16 weighted, long *fired) {
    const long at = q * a->row_stride + k;
    const long byte = (long)(k >> 3) * a->plane + q;
    const int high = (k >> 3) + 1 < a->groups;
    const unsigned on = a->extra_bits ? (a->extra_bits[byte] | (high ? (unsigned)a->extra_bits[byte + a->plane] << 8 : 0u)) : 0u;
    const unsigned m = snn_fire_lanes16(a, at, k, on, convolution, &weighted);
    a->bits[byte] = (uint8_t)m;
    if (high) a->bits[byte + a->plane] = (uint8_t)(m >> 8);
    *fired += __builtin_popcount(m);
    return weighted;
}

/// One step of a fused neuron layer on its stored currents (`input`), the equations of
/// `IFLayerState.Lanes.fire16`: v += input (+ the second current, summed first); fire
/// where v > theta; subtract theta there. Returns how many fired. In C because every use
/// of the compare (subtract, count, bits) wants its mask, which Swift reaches only through
/// a vector of 0 / -1 lanes, and a spike bypass becomes a masked move of the amplitudes
/// straight from its bits.
__attribute__((always_inline))
static inline long snn_fire_rows(const struct snn_fire_rows_args *a) {
    // A local copy: the spike-bit stores (bytes) may alias anything, so fields read through
    // `a` would be reloaded after each.
    const struct snn_fire_rows_args n = *a;
    snn_f32x16 w = *(const snn_f32x16u *)n.weighted;
    long fired = 0;
    for (int q = 0; q < n.count; q++) {
        for (int k = 0; k < n.row_stride; k += 16) {
            w = snn_fire_segment(&n, q, k, *(const snn_f32x16u *)(n.input + (long)q * n.row_stride + k), w, &fired);
        }
    }
    *(snn_f32x16u *)n.weighted = w;
    return fired;
}

/// One run of an output row of a sliding table lookup: `SpikeTableConvolution`'s
/// `slidesAlongRows` with three kernel rows of two or four 8-bit groups (16 or 32 input
/// channels), one block of 16 output channels. Sweeping input column c, outputs c, c-1
/// and c-2 are live in registers and take kernel columns 0, 1 and 2 of each table entry;
/// output c-2 is then complete. Each output sums its bias, then by kernel row and pair of
/// groups, even groups in one chain and odd ones in another, then the two chains: a fixed
/// order whatever run it is computed in.
struct snn_slide_args {
    /// The pattern byte of the first kernel row's group-0 plane at padded column 0; kernel
    /// row r is `r` x `padded_width` after it, group g's plane g x `plane_bytes`.
    const uint8_t *top;
    long padded_width, plane_bytes;
    /// The block's tables, [kernel row][group][256 patterns][3 columns][16 outputs], and
    /// its 16 biases.
    const float *table, *bias;
    /// 2 or 4; the run's output columns [first, last).
    int groups, first, last;
};

/// What the neuron step of `snn_slide` reads and writes besides membranes and bits: a float
/// bypass, a spike bypass, the gap probe's sums, or anything (`snn_fire_segment`, which
/// also stores spikes and takes blocks whose second byte of spike bits is padding).
enum { SNN_SLIDE_ROWS = 0, SNN_SLIDE_FIRE = 1, SNN_SLIDE_EXTRA = 2, SNN_SLIDE_EXTRA_BITS = 4, SNN_SLIDE_PROBE = 8, SNN_SLIDE_GENERAL = 16 };

/// The loop of `snn_slide_rows` and `snn_slide_fire`, compiled for each group count and
/// neuron variant (`with`, constant in each instance, so a variant's unused inputs take no
/// registers): each complete output goes to row `out` (stride `stride`), or to the neuron
/// step of `neuron` (pixel q onwards, lanes k..k+15). On ResNet-20's 16-channel layers
/// (one thread, `bench snn --profile`) the fused loop takes 0.32-0.35 s where the lookups
/// then `snn_fire_rows` took 0.36-0.41; its 32-channel layers gain 2-5%. The common
/// variants need about 14 general registers (row pointers, the step's running pointers),
/// so the spike count is kept in vector lanes rather than one more register.
__attribute__((always_inline))
static inline long snn_slide(const struct snn_slide_args *s, const int groups, const int with, float *out, long stride,
                             const struct snn_fire_rows_args *neuron, long q, int k, float *weighted) {
    const long plane = s->plane_bytes, entries = 48 << 8, row_tables = groups * entries;
    const uint8_t *p0 = s->top + s->first, *p1 = p0 + s->padded_width, *p2 = p1 + s->padded_width;
    const float *const table = s->table;
    const snn_f32x16 bias = *(const snn_f32x16u *)s->bias, zero = {0};
    snn_f32x16 a0 = bias, a1 = bias, a2 = bias, b0 = zero, b1 = zero, b2 = zero;
    struct snn_fire_rows_args n = {0};
    snn_f32x16 w = zero;
    long fired = 0;
    // The neuron's running pointers (pixel q, lane k) for the common variants.
    long row_stride = 0, bits_plane = 0;
    float *vq = 0, *probe = 0;
    const float *fanout = 0, *extra = 0;
    uint8_t *bits = 0;
    const uint8_t *extra_bits = 0;
    snn_f32x16 theta = zero, amplitude = zero;
    typedef int snn_i32x16 __attribute__((vector_size(64)));
    snn_i32x16 counts = {0};
    if (with) {
        n = *neuron;
        w = *(const snn_f32x16u *)weighted;
        row_stride = n.row_stride;
        bits_plane = n.plane;
        vq = n.v + q * row_stride + k;
        fanout = n.fanout + q * row_stride + k;
        bits = n.bits + (long)(k >> 3) * bits_plane + q;
        theta = *(const snn_f32x16u *)(n.theta + k);
        if (with & SNN_SLIDE_EXTRA) extra = n.extra + q * row_stride + k;
        if (with & SNN_SLIDE_PROBE) probe = n.probe + q * row_stride + k;
        if (with & SNN_SLIDE_EXTRA_BITS) {
            extra_bits = n.extra_bits + (long)(k >> 3) * bits_plane + q;
            amplitude = *(const snn_f32x16u *)(n.amplitude + k);
        }
    }
    const int first = s->first, last = s->last;
    for (int c = first; c < last + 2; c++) {
        // Groups g (even) and g + 1 of kernel row r, whose patterns are at p.
#define SNN_SLIDE_PAIR(p, r, g) { \
            const float *const e = table + (r) * row_tables + (g) * entries + (p)[(g) * plane] * 48; \
            const float *const f = table + (r) * row_tables + ((g) + 1) * entries + (p)[((g) + 1) * plane] * 48; \
            a0 += *(const snn_f32x16u *)e; b0 += *(const snn_f32x16u *)f; \
            a1 += *(const snn_f32x16u *)(e + 16); b1 += *(const snn_f32x16u *)(f + 16); \
            a2 += *(const snn_f32x16u *)(e + 32); b2 += *(const snn_f32x16u *)(f + 32); \
        }
        SNN_SLIDE_PAIR(p0, 0, 0) if (groups == 4) SNN_SLIDE_PAIR(p0, 0, 2)
        SNN_SLIDE_PAIR(p1, 1, 0) if (groups == 4) SNN_SLIDE_PAIR(p1, 1, 2)
        SNN_SLIDE_PAIR(p2, 2, 0) if (groups == 4) SNN_SLIDE_PAIR(p2, 2, 2)
#undef SNN_SLIDE_PAIR
        p0++; p1++; p2++;
        if (c >= first + 2) {
            const snn_f32x16 complete = a2 + b2;
            if (!with) {
                *(snn_f32x16u *)out = complete;
                out += stride;
            } else if (with & SNN_SLIDE_GENERAL) {
                w = snn_fire_segment(&n, q++, k, complete, w, &fired);
            } else {
#if defined(__x86_64__) && defined(__AVX512F__)
                // `snn_fire_segment`'s operations on the running pointers, for a block of
                // two whole bytes of spike bits.
                __m512 current = (__m512)complete;
                if (with & SNN_SLIDE_EXTRA) { current = _mm512_add_ps(current, _mm512_loadu_ps(extra)); extra += row_stride; }
                if (with & SNN_SLIDE_EXTRA_BITS) {
                    const __mmask16 on = (__mmask16)(extra_bits[0] | extra_bits[bits_plane] << 8);
                    current = _mm512_add_ps(current, _mm512_maskz_mov_ps(on, (__m512)amplitude));
                    extra_bits++;
                }
                __m512 sum = (__m512)w;
                const __mmask16 fire = snn_fire16(vq, current, (__m512)theta, fanout, &sum, 0, (with & SNN_SLIDE_PROBE) ? probe : 0, n.zero_reset, 0, 0);
                w = (snn_f32x16)sum;
                if (with & SNN_SLIDE_PROBE) probe += row_stride;
                counts = (snn_i32x16)_mm512_mask_sub_epi32((__m512i)counts, fire, (__m512i)counts, _mm512_set1_epi32(-1));
                const unsigned m = _cvtmask16_u32(fire);
                bits[0] = (uint8_t)m;
                bits[bits_plane] = (uint8_t)(m >> 8);
                vq += row_stride; fanout += row_stride; bits++;
#else
                w = snn_fire_segment(&n, q++, k, complete, w, &fired);
#endif
            }
        }
        a2 = a1; b2 = b1; a1 = a0; b1 = b0; a0 = bias; b0 = zero;
    }
    if (with) *(snn_f32x16u *)weighted = w;
    for (int j = 0; j < 16; j++) fired += counts[j];
    return fired;
}

/// The outputs of one run (`snn_slide_args`) as rows of 16 values, `stride` floats apart.
__attribute__((noinline))
static inline void snn_slide_rows(const struct snn_slide_args *s, float *out, long stride) {
    if (s->groups == 2) snn_slide(s, 2, SNN_SLIDE_ROWS, out, stride, 0, 0, 0, 0);
    else snn_slide(s, 4, SNN_SLIDE_ROWS, out, stride, 0, 0, 0, 0);
}

/// One run with the neuron step of a fused layer (`snn_fire_rows_args`) on each output as
/// it completes, pixel q onwards, lanes k..k+15: the values of `snn_slide_rows` then
/// `snn_fire_rows`, without storing and reloading the rows, and the neuron's loads overlap
/// the lookups'. Returns how many fired; their fan-out adds to weighted[0..15].
__attribute__((noinline))
static inline long snn_slide_fire(const struct snn_slide_args *s, const struct snn_fire_rows_args *neuron, long q, int k, float *weighted) {
#define SNN_SLIDE_CASE(w) \
    return s->groups == 2 ? snn_slide(s, 2, (w), 0, 0, neuron, q, k, weighted) : snn_slide(s, 4, (w), 0, 0, neuron, q, k, weighted)
    // Saturating membranes take the general step, whose neuron update clamps.
    if (neuron->store_spikes || (k >> 3) + 1 >= neuron->groups || (neuron->extra && neuron->extra_bits) || neuron->lower)
        SNN_SLIDE_CASE(SNN_SLIDE_FIRE | SNN_SLIDE_GENERAL);
    // Each variant a constant, so that each is compiled on its own.
    if (neuron->probe) {
        if (neuron->extra) SNN_SLIDE_CASE(SNN_SLIDE_FIRE | SNN_SLIDE_EXTRA | SNN_SLIDE_PROBE);
        if (neuron->extra_bits) SNN_SLIDE_CASE(SNN_SLIDE_FIRE | SNN_SLIDE_EXTRA_BITS | SNN_SLIDE_PROBE);
        SNN_SLIDE_CASE(SNN_SLIDE_FIRE | SNN_SLIDE_PROBE);
    }
    if (neuron->extra) SNN_SLIDE_CASE(SNN_SLIDE_FIRE | SNN_SLIDE_EXTRA);
    if (neuron->extra_bits) SNN_SLIDE_CASE(SNN_SLIDE_FIRE | SNN_SLIDE_EXTRA_BITS);
    SNN_SLIDE_CASE(SNN_SLIDE_FIRE);
#undef SNN_SLIDE_CASE
}

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
    /// Per value membrane bounds of a saturating layer, or both null.
    const float *lower, *upper;
    uint8_t *patterns;
    float *weighted;
    /// Nonzero: a neuron that fires resets to 0 instead of subtracting its threshold.
    int zero_reset;
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
            const __mmask16 fire = snn_fire16(a->v + at, current, _mm512_loadu_ps(a->theta + at), a->fanout + at, &w,
                                              a->out ? a->out + at : 0, a->probe ? a->probe + at : 0, a->zero_reset,
                                              a->lower ? a->lower + at : 0, a->upper ? a->upper + at : 0);
            fired += __builtin_popcount(_cvtmask16_u32(fire));
            pattern = _mm_mask_mov_epi8(pattern, fire, _mm_or_si128(pattern, _mm_set1_epi8((char)(1 << j))));
        }
        _mm_storeu_si128((__m128i *)(a->patterns + p), pattern);
    }
    _mm512_storeu_ps(a->weighted, w);
    return fired;
}
#elif defined(__x86_64__) && defined(__AVX2__)
__attribute__((always_inline))
static inline long snn_fire_planes(const struct snn_fire_planes_args *a) {
    const long inner = a->inner;
    __m256 w_low = _mm256_loadu_ps(a->weighted), w_high = _mm256_loadu_ps(a->weighted + 8);
    // Byte l of the pattern takes bit j where lane l of channel j fired: the 16-bit mask
    // spread over 16 bytes (low byte to bytes 0-7, high byte to 8-15), then one bit each.
    const __m128i spread = _mm_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
    const __m128i bit = _mm_setr_epi8(1, 2, 4, 8, 16, 32, 64, -128, 1, 2, 4, 8, 16, 32, 64, -128);
    long fired = 0;
    for (long p = 0; p + 16 <= inner; p += 16) {
        __m128i pattern = _mm_setzero_si128();
        for (int j = 0; j < a->channels; j++) {
            const long at = j * inner + p;
            __m256 low = _mm256_loadu_ps(a->z + at), high = _mm256_loadu_ps(a->z + at + 8);
            if (a->bypass) {
                low = _mm256_add_ps(low, _mm256_loadu_ps(a->bypass + at));
                high = _mm256_add_ps(high, _mm256_loadu_ps(a->bypass + at + 8));
            }
            const unsigned m = snn_fire16_avx2(a->v + at, low, high, a->theta + at, a->fanout + at, &w_low, &w_high,
                                               a->out ? a->out + at : 0, a->probe ? a->probe + at : 0, a->zero_reset,
                                               a->lower ? a->lower + at : 0, a->upper ? a->upper + at : 0);
            fired += __builtin_popcount(m);
            const __m128i lanes = _mm_shuffle_epi8(_mm_set1_epi16((short)m), spread);
            const __m128i on = _mm_cmpeq_epi8(_mm_and_si128(lanes, bit), bit);
            pattern = _mm_or_si128(pattern, _mm_and_si128(on, _mm_set1_epi8((char)(1 << j))));
        }
        _mm_storeu_si128((__m128i *)(a->patterns + p), pattern);
    }
    _mm256_storeu_ps(a->weighted, w_low);
    _mm256_storeu_ps(a->weighted + 8, w_high);
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
                              a->probe ? a->probe + at : 0, a->zero_reset, a->lower ? a->lower + at : 0,
                              a->upper ? a->upper + at : 0)) { fired++; pattern[l] |= (uint8_t)(1 << j); }
            }
        }
        for (int l = 0; l < 16; l++) a->patterns[p + l] = pattern[l];
    }
    return fired;
}
#endif

#pragma clang diagnostic pop

#endif
