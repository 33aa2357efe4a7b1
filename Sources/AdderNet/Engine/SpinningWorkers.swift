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
    /// Whether the split pass that uses these threads runs split or alone, from recent timings.
    let chooser = SplitChooser()

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
        /// Whether the caller and the kept threads outnumber the cores this process may use.
        let oversubscribed: Bool

        init(threads: Int, spinSeconds: Double) {
            oversubscribed = threads + 1 > ProcessInfoCores.active
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
                    // With more threads than cores this process may use (`--threads` above them), hand the core
                    // over now and then: the caller may be waiting for this very core. Otherwise keep it, as a
                    // yield on a busy machine gives it to another process for a whole time slice.
                    if oversubscribed && polls & 255 == 0 { sched_yield() }
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

    /// Spins of a wait for the other threads before each further one yields the core: a few when the
    /// threads outnumber the cores this process may use (the one awaited may need this very core),
    /// many otherwise (a yield on a busy machine hands the core to another process for a whole time slice,
    /// milliseconds, where the wait is microseconds).
    var yieldAfter: Int { state.oversubscribed ? 1_000 : 200_000 }

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
        var spins = 0
        while state.finished.load(ordering: .acquiring) < count - 1 {
            spins += 1
            if spins > yieldAfter { sched_yield() }  // a kept thread that has no core of its own
        }
        state.job = nil
    }

    deinit {
        state.stopping.store(true, ordering: .releasing)
        state.publish()
    }
}

/// Chooses, call by call, whether a one-image pass runs split across the kept threads or on the calling
/// thread alone, from the recent times of both (moving averages, a quarter weight to each new call).
/// It runs the mode with the lower average, and four calls of every 256 (the first at calls 16–19) the
/// other one, its average started anew, so that a change in the machine's load is noticed (in both
/// directions) within 256 calls. A split call right after one alone is
/// not counted: the kept threads may have gone to sleep meanwhile, and waking them is not what a run
/// of split calls costs. Measured on the 2-core Zen 5: split 0.10 ms, alone 0.12–0.13 ms when quiet;
/// split 2 ms with another process busy on the second core. Used by one thread at a time, as the engine is.
package final class SplitChooser: @unchecked Sendable {
    private var calls = 0
    private var split: Double?
    private var alone: Double?
    private var lastRanAlone = true  // the first split call also starts the threads: not counted
    /// Whether the mode on trial starts its average anew with the trial's first counted call, so that
    /// what it cost under an earlier load is forgotten.
    private var restart = false

    /// A chooser with no figures yet: it starts split.
    package init() {}

    /// Whether the next call should run alone.
    package func nextRunsAlone() -> Bool {
        calls += 1
        let favoursAlone = (alone ?? .infinity) < (split ?? .infinity)
        let phase = (calls + 240) % 256
        if phase == 0 { restart = true }
        return phase < 4 ? !favoursAlone : favoursAlone
    }

    /// Records a call's duration.
    package func record(alone ranAlone: Bool, nanoseconds: UInt64) {
        defer { lastRanAlone = ranAlone }
        let t = Double(nanoseconds)
        func blend(_ average: Double?) -> Double {
            guard let average, !restart else { restart = false; return t }
            return 0.75 * average + 0.25 * t
        }
        if ranAlone {
            alone = blend(alone)
        } else if !lastRanAlone {
            split = blend(split)
        }
    }
}
