import Dispatch
import SNNAMX
import Synchronization

/// How many cores the kernels may use, and the one way they split work.
///
/// Every parallel kernel divides its output into disjoint pieces and computes each
/// piece with a fixed summation order, so results are bit-identical whatever the
/// thread count: parallelism changes who computes an element, never how.
public enum Parallel {
    private static let configuredThreads = Atomic<Int>(0)

    /// Threads used by kernels; defaults to the number of active cores. 0 restores the default.
    public static var threads: Int {
        get {
            let n = configuredThreads.load(ordering: .relaxed)
            return n > 0 ? n : ProcessInfoCores.active
        }
        set { configuredThreads.store(max(0, newValue), ordering: .relaxed) }
    }

    /// Runs `body(i)` for i in 0..<count, spread over `threads` workers.
    /// Items are handed out in contiguous blocks to keep each worker's data local.
    public static func forEach(_ count: Int, minimumPerThread: Int = 1, _ body: (Int) -> Void) {
        guard count > 0 else { return }
        let workers = min(Self.workers, max(1, count / max(1, minimumPerThread)))
        if workers <= 1 {
            for i in 0..<count { body(i) }
            return
        }
        // concurrentPerform returns only when every worker is done and the workers write
        // disjoint outputs, so handing the non-Sendable closure to them is safe.
        let claimed = Atomic<Int>(0)
        withoutActuallyEscaping(body) { body in
            let shared = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: workers) { _ in
                let worker = workers < Int.bitWidth ? claimShare(preferred: currentCPU % workers, of: workers, claimed)
                                                    : claimed.wrappingAdd(1, ordering: .relaxed).oldValue
                let begin = count * worker / workers
                let end = count * (worker + 1) / workers
                for i in begin..<end { shared.value(i) }
            }
        }
    }

    /// Runs `body` with every parallel loop it starts on the calling thread alone: for work
    /// that is itself one of several run side by side (a batch shard per core), where
    /// splitting each loop again would only add wake-ups and barriers.
    public static func serially<Result>(_ body: () throws -> Result) rethrows -> Result {
        let outer = snn_thread_serial()
        snn_set_thread_serial(1)
        defer { snn_set_thread_serial(outer) }
        return try body()
    }

    /// The workers a loop started on this thread gets: 1 inside `serially`, else `threads`.
    /// Kernels size their work items by it.
    public static var workers: Int { snn_thread_serial() != 0 ? 1 : threads }

    /// The share a worker takes: the one of the CPU it runs on when still free, else the
    /// next free one. With shares by iteration number, whichever pool thread (on whichever
    /// core) came took a share, so a layer's state for half the batch (its membranes, a few
    /// MB) moved between the cores' L2s from call to call. ResNet-20 and VGG-11 with 2
    /// threads: +1-2.5% (alternated), 6% less CPU time for the same work.
    private static func claimShare(preferred: Int, of workers: Int, _ claimed: borrowing Atomic<Int>) -> Int {
        for k in 0..<workers {
            let share = (preferred + k) % workers, bit = 1 << share
            if claimed.bitwiseOr(bit, ordering: .relaxed).oldValue & bit == 0 { return share }
        }
        preconditionFailure("more workers than shares")
    }

    /// The CPU this thread runs on (0 where unknown).
    private static var currentCPU: Int { max(0, Int(snn_current_cpu())) }

    /// Splits 0..<count into one contiguous range per worker and runs `body` on each,
    /// so a worker can allocate its scratch space once for all of its items.
    public static func forEachRange(_ count: Int, minimumPerThread: Int = 1, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let workers = min(Self.workers, max(1, count / max(1, minimumPerThread)))
        forEach(workers) { worker in
            body((count * worker / workers)..<(count * (worker + 1) / workers))
        }
    }
}

/// Carries a value into a parallel region whose lifetime the caller bounds.
public struct UncheckedSendable<Value>: @unchecked Sendable {
    /// The carried value.
    public let value: Value
    /// Wraps `value`; the caller guarantees no data race on it.
    public init(_ value: Value) { self.value = value }
}

enum ProcessInfoCores {
    static let active: Int = {
        #if canImport(Glibc)
        let n = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        return max(1, n)
        #else
        return 1
        #endif
    }()
}

#if canImport(Glibc)
import Glibc
#endif
