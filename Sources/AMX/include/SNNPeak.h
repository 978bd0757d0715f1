#ifndef SNN_PEAK_H
#define SNN_PEAK_H

/// Bytes in the widest float vector the build targets (64 with AVX-512, 32 with AVX2,
/// else 16), a constant the Swift kernels fold: the GEMM micro-kernel and `ArithmeticPeak`
/// size their register blocking by it (16 registers on AVX2, 32 on AVX-512).
static inline int snn_vector_bytes(void) {
#if defined(__x86_64__) && defined(__AVX512F__)
    return 64;
#elif defined(__x86_64__) && defined(__AVX2__)
    return 32;
#else
    return 16;
#endif
}

#endif
