/// Process-wide allocator settings for tensor workloads.
public enum AllocatorTuning {
    /// Keeps freed tensor memory in the process for reuse, the effect of a framework's
    /// caching allocator. Call it first thing in `main`, before any other thread allocates.
    ///
    /// By default glibc serves blocks over 128 KiB with fresh mmap pages and returns them on
    /// free, and so does every worker thread's arena for any block larger than its 64 MiB
    /// heaps, whatever the settings: each large activation then costs page faults and
    /// zeroing, 31% of a MobileNetV2 simulation's time (its chunks of 16 steps reach 75 MB).
    /// So all threads share the main arena (M_ARENA_MAX = 1, which only holds if set before
    /// a second thread allocates), mmap is off (M_MMAP_MAX = 0: raising M_MMAP_THRESHOLD
    /// instead does not do, glibc refuses one over 32 MiB) and so is trimming. Measured on
    /// 2 cores: the MobileNetV2 SNN 1.7-2x faster, VGG-11 and ResNet-20 unchanged within
    /// the host's noise.
    public static func keepLargeBlocks() {
        #if os(Linux)
        _ = glibcMallopt(-8, 1)                // M_ARENA_MAX
        _ = glibcMallopt(-4, 0)                // M_MMAP_MAX
        _ = glibcMallopt(-1, Int32.max)        // M_TRIM_THRESHOLD
        #endif
    }
}

#if os(Linux)
// mallopt is declared in <malloc.h>, which the Glibc module does not export.
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
#endif
