// Per piece and stage, how long a training step's (or forward pass's) stages took: what the
// roofline (`Roofline.measure`) reads. Each piece writes only its own row, so workers never share
// a slot; a step run without a clock pays nothing.
import Dispatch

/// Nanoseconds per (piece, stage) of one call, added up over the calls it is given to.
final class StageClock: @unchecked Sendable {
    let pieces: Int
    let stages: Int
    private let nanoseconds: UnsafeMutablePointer<UInt64>

    /// A clock for `pieces` pieces and `stages` stages, all at zero.
    init(pieces: Int, stages: Int) {
        self.pieces = pieces
        self.stages = stages
        nanoseconds = .allocate(capacity: pieces * stages)
        nanoseconds.initialize(repeating: 0, count: pieces * stages)
    }

    deinit { nanoseconds.deallocate() }

    /// The monotonic time now, in nanoseconds.
    @inline(__always) func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// Adds the time since `start` to (piece, stage).
    @inline(__always) func record(piece: Int, stage: Int, since start: UInt64) {
        nanoseconds[piece * stages + stage] &+= now() &- start
    }

    /// Seconds of `stage`, summed over the pieces.
    func seconds(stage: Int) -> Double {
        var total: UInt64 = 0
        for piece in 0..<pieces { total &+= nanoseconds[piece * stages + stage] }
        return Double(total) / 1e9
    }

    /// Sets every slot back to zero.
    func reset() { nanoseconds.update(repeating: 0, count: pieces * stages) }
}
