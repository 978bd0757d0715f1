extension Array {
    /// An array of `count` elements written once by `fill`, which must initialize all of them
    /// (no zero-initialisation pass).
    ///
    /// An empty array skips the standard `init(unsafeUninitializedCapacity:initializingWith:)`:
    /// at capacity 0 it stores the count into the empty-array singleton every empty array
    /// shares, and two threads doing so at once is a write race ThreadSanitizer reports.
    @inlinable
    public init(writingAll count: Int, _ fill: (UnsafeMutableBufferPointer<Element>) throws -> Void) rethrows {
        guard count > 0 else {
            self = []
            return
        }
        self = try Array(unsafeUninitializedCapacity: count) { buffer, initialized in
            try fill(buffer)
            initialized = count
        }
    }
}
