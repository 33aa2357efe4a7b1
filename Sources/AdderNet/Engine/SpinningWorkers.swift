// Threads kept for the one-image split pass (AdderEngine+ChannelSplit.swift): a call of one image
// takes about 0.1 ms, and waking a pooled thread for it cost 0.02–0.03 ms of that on the 2-core Zen 5
// VM. These threads spin for a while after each call, waiting for the next (as OpenMP's threads under
// PyTorch do), and sleep on a semaphore when none comes.
import Atomics
import Foundation

/// `count − 1` threads that run a job together with the caller: `run(body)` calls `body(0)` on the
/// calling thread and `body(1)` … `body(count − 1)` on the kept threads, and returns when all have
/// returned. Between jobs each thread spins for about `spinSeconds`, then sleeps until the next job.
/// One job at a time (the engine is not called from two threads at once). The threads end when the
/// object is released.
final class SpinningWorkers: @unchecked Sendable {
    let count: Int
    private let state: State

    /// What the caller and the kept threads share.
    private final class State: @unchecked Sendable {
        let generation = ManagedAtomic<Int>(0)
        let finished = ManagedAtomic<Int>(0)
        let stopping = ManagedAtomic<Bool>(false)
        /// Per kept thread: whether it is asleep (or about to be) on its semaphore.
        let asleep: [ManagedAtomic<Bool>]
        let wake: [DispatchSemaphore]
        /// The current job, written before `generation` is raised (release) and read after it is seen (acquire).
        var job: (@Sendable (Int) -> Void)?
        let spinNanoseconds: UInt64

        init(threads: Int, spinSeconds: Double) {
            asleep = (0..<threads).map { _ in ManagedAtomic(false) }
            wake = (0..<threads).map { _ in DispatchSemaphore(value: 0) }
            spinNanoseconds = UInt64(spinSeconds * 1e9)
        }

        /// The loop of kept thread `index` (worker `index + 1`).
        func serve(_ index: Int) {
            var seen = 0
            while true {
                let started = DispatchTime.now().uptimeNanoseconds
                var current = generation.load(ordering: .acquiring)
                var polls = 0
                while current == seen {
                    polls += 1
                    if polls & 255 == 0 && DispatchTime.now().uptimeNanoseconds - started > spinNanoseconds {
                        asleep[index].store(true, ordering: .sequentiallyConsistent)
                        if generation.load(ordering: .sequentiallyConsistent) == seen {
                            wake[index].wait()
                        } else if !asleep[index].exchange(false, ordering: .sequentiallyConsistent) {
                            wake[index].wait()  // the caller saw us asleep and signalled: take the signal
                        }
                        polls = 0
                    }
                    current = generation.load(ordering: .acquiring)
                }
                seen = current
                if stopping.load(ordering: .acquiring) { return }
                job?(index + 1)
                finished.wrappingIncrement(ordering: .releasing)
            }
        }

        /// Raises the generation and wakes the threads that sleep.
        func publish() {
            generation.wrappingIncrement(ordering: .sequentiallyConsistent)
            for index in asleep.indices where asleep[index].exchange(false, ordering: .sequentiallyConsistent) {
                wake[index].signal()
            }
        }
    }

    /// Starts `count − 1` threads (none for a count of 1).
    init(count: Int, spinSeconds: Double = 0.002) {
        self.count = max(1, count)
        state = State(threads: self.count - 1, spinSeconds: spinSeconds)
        for index in 0..<(self.count - 1) {
            let state = self.state
            let thread = Thread { state.serve(index) }
            thread.name = "mnist-adder split worker \(index + 1)"
            thread.start()
        }
    }

    /// Runs `body(w)` for w in 0..<count, `body(0)` on the calling thread; returns when all are done.
    func run(_ body: @escaping @Sendable (Int) -> Void) {
        guard count > 1 else { body(0); return }
        state.finished.store(0, ordering: .relaxed)
        state.job = body
        state.publish()
        body(0)
        while state.finished.load(ordering: .acquiring) < count - 1 {}
        state.job = nil
    }

    deinit {
        state.stopping.store(true, ordering: .releasing)
        state.publish()
    }
}
