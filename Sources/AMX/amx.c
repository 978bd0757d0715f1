// AMX int8 matrix products for the spike convolutions. Tiles are configured per call
// (the configuration is per thread, and calls come from any worker thread).
#define _GNU_SOURCE
#include "SNNAMX.h"
#if defined(__linux__)
#include <sched.h>
int snn_current_cpu(void) { return sched_getcpu(); }
#else
int snn_current_cpu(void) { return -1; }
#endif
#if defined(SNN_TARGET_CPU) && defined(__x86_64__)
#include <stdio.h>
#include <string.h>
#include <unistd.h>
// The Swift modules are compiled for SNN_TARGET_CPU (Package.swift: the building machine's
// CPU unless SNNKIT_TARGET_CPU says otherwise). A binary moved to a CPU without those
// instructions would die of SIGILL wherever the first one runs (for an AVX-512 build on an
// AVX2-only CPU, already in the ONNX decoder); this runs before main, in code built for any
// x86-64, and says what to do instead. The feature sets are buildMachineCPU's in
// Package.swift (one list each side: __builtin_cpu_supports takes only literals).
__attribute__((constructor)) static void snn_check_target_cpu(void) {
    __builtin_cpu_init();
    int ok = 1;
    if (strcmp(SNN_TARGET_CPU, "skylake-avx512") == 0) {
        ok = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
             __builtin_cpu_supports("avx512dq");
    } else if (strcmp(SNN_TARGET_CPU, "haswell") == 0) {
        ok = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("bmi2");
    }
    if (!ok) {
        fprintf(stderr, "error: this build of SNNKit targets the %s CPU, whose instructions this processor lacks. "
                        "Rebuild it on this machine (swift build -c release picks the CPU it runs on), or set "
                        "SNNKIT_TARGET_CPU=haswell (AVX2) when building for another machine.\n", SNN_TARGET_CPU);
        _exit(70);
    }
}
#endif
static _Thread_local int snn_serial_thread;
int snn_thread_serial(void) { return snn_serial_thread; }
void snn_set_thread_serial(int serial) { snn_serial_thread = serial; }
#if defined(__x86_64__) && defined(__linux__)
#include <immintrin.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <cpuid.h>

#define ARCH_REQ_XCOMP_PERM 0x1023
#define XFEATURE_XTILEDATA 18

int snn_amx_usable(void) {
    static int state = -1;
    if (state >= 0) return state;
    unsigned a, b, c, d;
    int ok = 0;
    if (__get_cpuid_max(0, 0) >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        ok = ((d >> 24) & 1) && ((d >> 25) & 1);
    }
    if (ok) ok = syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0;
    state = ok;
    return ok;
}

struct tile_config {
    uint8_t palette, start_row, reserved[14];
    uint16_t bytes_per_row[16];
    uint8_t rows[16];
} __attribute__((packed));

__attribute__((target("amx-tile")))
static void configure(void) {
    struct tile_config config;
    memset(&config, 0, sizeof config);
    config.palette = 1;
    for (int t = 0; t < 8; t++) { config.bytes_per_row[t] = 64; config.rows[t] = 16; }
    _tile_loadconfig(&config);
}

// Tiles: 0-3 accumulators (two row blocks x two column blocks), 4-5 A, 6-7 B.
// Loop order: column pairs, then near-equal chunks of at most 24 K tiles (the pair's B
// tiles of a chunk, up to 48 KB, are reused by every row pair), then row pairs. A, used
// once per chunk, is loaded with the non-temporal hint so it streams from L2 without
// evicting B from L1: 1.2-1.4x faster products on VGG-11's shapes (K=1152 N=384: 8.2 ->
// 6.0 ns per tile product; K=2304 N=768: 10.4 -> 8.8; the peak is 4.4).
#define SNN_AMX_CHUNK 24

// K tile t's four products: row tiles a0 (tile 4) and a1 (tile 5) against column tiles b0
// (6) and b1 (7), into accumulators 0-3.
__attribute__((target("amx-tile,amx-int8")))
static inline void products_2x2(const uint8_t *a0, const uint8_t *a1, const int8_t *b0, const int8_t *b1, int t, long as) {
    _tile_stream_loadd(4, a0 + t * 64, as);
    _tile_loadd(6, b0 + t * 1024, 64);
    _tile_dpbusd(0, 4, 6);
    _tile_loadd(7, b1 + t * 1024, 64);
    _tile_dpbusd(1, 4, 7);
    _tile_stream_loadd(5, a1 + t * 64, as);
    _tile_dpbusd(2, 5, 6);
    _tile_dpbusd(3, 5, 7);
}

// K tile t of one row tile `a` (into tile register A) against both column tiles, into
// accumulators C0 and C1; a macro because tile numbers must be constants.
#define SNN_ROW_PRODUCTS(A, C0, C1, a, b0, b1, t, as) do { \
        _tile_stream_loadd(A, (a) + (t) * 64, as); \
        _tile_loadd(6, (b0) + (t) * 1024, 64); \
        _tile_dpbusd(C0, A, 6); \
        _tile_loadd(7, (b1) + (t) * 1024, 64); \
        _tile_dpbusd(C1, A, 7); \
    } while (0)

// Column tiles j and j + 1 (when `two_cols`) of every row: C rows `cs` bytes apart. With
// `taps`, each row tile skips the K tiles that hold none of its taps (zero bytes in A): a
// K tile both tiles of a pair need runs 2x2, one only one needs runs on that tile alone.
__attribute__((target("amx-tile,amx-int8")))
static inline void column_pair(const uint8_t *a, int mb, int kt, const int8_t *b, int j, int two_cols, int32_t *c, long cs,
                               const struct snn_tile_taps *taps) {
    const long as = (long)kt * 64, cn = cs / 4;
    const int pieces = (kt + SNN_AMX_CHUNK - 1) / SNN_AMX_CHUNK;
    for (int p = 0; p < pieces; p++) {
        const int t0 = (int)((long)kt * p / pieces), t1 = (int)((long)kt * (p + 1) / pieces);
        for (int i = 0; i < mb; i += 2) {
            const int two_rows = i + 1 < mb;
            int32_t *c00 = c + (long)i * 16 * cn;
            if (t0 == 0) {
                _tile_zero(0); _tile_zero(1); _tile_zero(2); _tile_zero(3);
            } else {
                _tile_loadd(0, c00, cs);
                if (two_cols) _tile_loadd(1, c00 + 16, cs);
                if (two_rows) _tile_loadd(2, c00 + 16 * cn, cs);
                if (two_rows && two_cols) _tile_loadd(3, c00 + 16 * cn + 16, cs);
            }
            const uint8_t *a0 = a + (long)i * 16 * as, *a1 = a0 + 16 * as;
            const int8_t *b0 = b + (long)j * kt * 1024, *b1 = b0 + (long)kt * 1024;
            const uint64_t need = taps ? taps->row_tiles[i] | (two_rows ? taps->row_tiles[i + 1] : 0) : 0;
            const uint64_t *k_tiles = taps ? taps->k_tiles : 0;
            if (two_rows && two_cols && !k_tiles) {
                for (int t = t0; t < t1; t++) products_2x2(a0, a1, b0, b1, t, as);
            } else if (two_rows && two_cols) {
                const uint64_t need0 = taps->row_tiles[i], need1 = taps->row_tiles[i + 1];
                for (int t = t0; t < t1; t++) {
                    const int first = (k_tiles[t] & need0) != 0, second = (k_tiles[t] & need1) != 0;
                    if (first && second) {
                        products_2x2(a0, a1, b0, b1, t, as);
                    } else if (first) {
                        SNN_ROW_PRODUCTS(4, 0, 1, a0, b0, b1, t, as);
                    } else if (second) {
                        SNN_ROW_PRODUCTS(5, 2, 3, a1, b0, b1, t, as);
                    }
                }
            } else {
                for (int t = t0; t < t1; t++) {
                    if (k_tiles && !(k_tiles[t] & need)) continue;
                    _tile_stream_loadd(4, a0 + t * 64, as);
                    _tile_loadd(6, b0 + t * 1024, 64);
                    _tile_dpbusd(0, 4, 6);
                    if (two_cols) { _tile_loadd(7, b1 + t * 1024, 64); _tile_dpbusd(1, 4, 7); }
                    if (two_rows) { _tile_stream_loadd(5, a1 + t * 64, as); _tile_dpbusd(2, 5, 6); }
                }
            }
            _tile_stored(0, c00, cs);
            if (two_cols) _tile_stored(1, c00 + 16, cs);
            if (two_rows) _tile_stored(2, c00 + 16 * cn, cs);
            if (two_rows && two_cols) _tile_stored(3, c00 + 16 * cn + 16, cs);
        }
    }
}

// Tile products on register-resident operands: four independent accumulators, so the
// unit's throughput, not a dependency chain, sets the pace (the benchmark's peak).
__attribute__((target("amx-tile,amx-int8")))
void snn_amx_register_products(long count) {
    static const int8_t operand[1024] __attribute__((aligned(64))) = {1};
    configure();
    _tile_zero(0); _tile_zero(1); _tile_zero(2); _tile_zero(3);
    _tile_loadd(4, operand, 64); _tile_loadd(5, operand, 64);
    for (long i = 0; i < count; i += 4) {
        _tile_dpbusd(0, 4, 5); _tile_dpbusd(1, 4, 5); _tile_dpbusd(2, 4, 5); _tile_dpbusd(3, 4, 5);
    }
    _tile_release();
}

// Per 16 outputs: the three sums to float (exact below 2^24), s2 x 2^16 + s1 x 2^8 in one
// fused multiply-add (both products exact, one rounding), + s0 (a second rounding), then
// x 2^e (exact) + bias. `sums` rows are `stride` int32 apart; blocks first_block ..
// first_block + blocks - 1 of each output row.
__attribute__((target("avx512f")))
static void combine_blocks(const int32_t *sums, long stride, int rows, int first_block, int blocks, const float *scales,
                           const float *bias, float *out, int per_image, long image_stride, long row_stride, const long *offsets) {
    const __m512 high = _mm512_set1_ps(65536.0f), middle = _mm512_set1_ps(256.0f);
    for (int r = 0; r < rows; r++) {
        float *target = out + (offsets ? offsets[r] : (long)(r / per_image) * image_stride + (long)(r % per_image) * row_stride);
        const int32_t *row = sums + r * stride;
        for (int b = 0; b < blocks; b++) {
            const int32_t *part = row + b * 48;
            const int o = (first_block + b) * 16;
            const __m512 s2 = _mm512_cvtepi32_ps(_mm512_loadu_si512(part));
            const __m512 s1 = _mm512_cvtepi32_ps(_mm512_loadu_si512(part + 16));
            const __m512 s0 = _mm512_cvtepi32_ps(_mm512_loadu_si512(part + 32));
            const __m512 sum = _mm512_add_ps(_mm512_fmadd_ps(s2, high, _mm512_mul_ps(s1, middle)), s0);
            _mm512_storeu_ps(target + o, _mm512_fmadd_ps(sum, _mm512_loadu_ps(scales + o), _mm512_loadu_ps(bias + o)));
        }
    }
}

// The product and its recombination, a group of columns at a time: six column tiles (the
// three weight bytes of two blocks of 16 outputs) over every row, then those two blocks
// recombined while their sums (rows x 96 int32 in `c`) are in L1/L2. All columns at once,
// the sums of a 256-row product by 768 columns took 786 KB, written by the tiles to L2 and
// read back: VGG-11's 768-column layers ran 8-10% faster grouped, the whole net 3%.
__attribute__((target("amx-tile,amx-int8")))
void snn_amx_gemm_combine(const uint8_t *a, int m, int k, const int8_t *b, int n, int32_t *c, int rows,
                          const float *scales, const float *bias, float *out, int per_image, long image_stride, long row_stride,
                          const struct snn_tile_taps *taps) {
    configure();
    const int kt = k / 64, nb = n / 16, mb = m / 16;
    for (int g = 0; g < nb; g += 6) {
        const int group = nb - g < 6 ? nb - g : 6;
        for (int j = g; j < g + group; j += 2) column_pair(a, mb, kt, b, j, j + 1 < g + group, c + (j - g) * 16, 96 * 4, taps);
        combine_blocks(c, 96, rows, g / 3, group / 3, scales, bias, out, per_image, image_stride, row_stride, taps ? taps->offsets : 0);
    }
    _tile_release();
}

#else
int snn_amx_usable(void) { return 0; }
void snn_amx_register_products(long count) { (void)count; }
void snn_amx_gemm_combine(const uint8_t *a, int m, int k, const int8_t *b, int n, int32_t *c, int rows,
                          const float *scales, const float *bias, float *out, int per_image, long image_stride, long row_stride,
                          const struct snn_tile_taps *taps) {
    (void)taps; (void)a; (void)m; (void)k; (void)b; (void)n; (void)c; (void)rows; (void)scales; (void)bias; (void)out; (void)per_image;
    (void)image_stride; (void)row_stride;
}
#endif
