/// Process-wide allocator settings for tensor workloads.
public enum AllocatorTuning {
    /// glibc serves blocks over 128 KiB with fresh mmap pages and returns them on free, so
    /// every large activation costs page faults and zeroing. Raising the thresholds keeps
    /// freed blocks in the heap for reuse, the effect of a framework's caching allocator.
    public static func keepLargeBlocks() {
        #if os(Linux)
        _ = glibcMallopt(-3, 1 << 30)          // M_MMAP_THRESHOLD
        _ = glibcMallopt(-1, Int32.max)        // M_TRIM_THRESHOLD
        #endif
    }
}

#if os(Linux)
// mallopt is declared in <malloc.h>, which the Glibc module does not export.
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
#endif
