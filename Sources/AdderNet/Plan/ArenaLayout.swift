// Every buffer of a plan as an offset in one arena: buffers whose lifetimes overlap get disjoint
// bytes, the others may share. Greedy by size (largest first, lowest offset that fits), the way
// TensorFlow Lite's arena planner places tensors.

/// A buffer the plan needs: its size and the span of plan time in which it holds live data.
public struct BufferRequest: Sendable, Equatable {
    /// What it holds, for the plan's printout (`conv1 output`, `grad conv1 output`, `conv2 workspace`).
    public var name: String
    /// Size in bytes.
    public var byteCount: Int
    /// First and last plan time (inclusive) at which it is written or read. Forward step i runs at
    /// time i, the loss at S (the step count), the backward of step i at 2S − i.
    public var lifetime: ClosedRange<Int>
}

/// Where each requested buffer lies in the arena.
public struct ArenaLayout: Sendable, Equatable {
    /// Byte offset of each request, in request order; a multiple of `alignment`.
    public var offsets: [Int]
    /// Bytes the arena needs.
    public var byteCount: Int
    /// Alignment of every offset, in bytes (a cache line).
    public static let alignment = 64

    /// Places `requests` so that two buffers alive at the same time never share a byte.
    public init(_ requests: [BufferRequest]) {
        let order = requests.indices.sorted {
            (requests[$0].byteCount, requests[$1].lifetime.lowerBound, $1) > (requests[$1].byteCount, requests[$0].lifetime.lowerBound, $0)
        }
        var offsets = [Int](repeating: 0, count: requests.count)
        var placed: [Int] = []
        var end = 0
        for i in order {
            let size = Self.aligned(requests[i].byteCount)
            // Occupied byte ranges of placed buffers alive at the same time, by offset.
            let busy = placed.filter { requests[$0].lifetime.overlaps(requests[i].lifetime) }
                .map { offsets[$0]..<(offsets[$0] + Self.aligned(requests[$0].byteCount)) }
                .sorted { $0.lowerBound < $1.lowerBound }
            var candidate = 0
            for range in busy {
                if candidate + size <= range.lowerBound { break }
                candidate = max(candidate, range.upperBound)
            }
            offsets[i] = candidate
            end = max(end, candidate + size)
            placed.append(i)
        }
        self.offsets = offsets
        self.byteCount = max(end, Self.alignment)
    }

    /// `count` rounded up to a multiple of `alignment` (at least one line, so that no two buffers share an address).
    static func aligned(_ count: Int) -> Int {
        max(alignment, (count + alignment - 1) / alignment * alignment)
    }
}
