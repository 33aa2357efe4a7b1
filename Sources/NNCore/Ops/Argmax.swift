// Index of the largest value per row.

/// The index of each row's largest value: input (N, C) → N indices in 0..<C.
///
/// Ties go to the first index, NaN is skipped unless the whole row is NaN (then 0).
/// Matches `torch.argmax(input, dim=1)` for finite inputs (PyTorch treats NaN as the maximum).
public func argmax(_ input: Tensor) -> [Int] {
    precondition(input.rank == 2 && input.shape[1] > 0, "argmax wants (N, C) with C > 0, got \(input.shape)")
    let (n, c) = (input.shape[0], input.shape[1])
    return input.scalars.withUnsafeBufferPointer { x in
        (0..<n).map { r in argmax(x.baseAddress! + r * c, count: c) }
    }
}

/// The index of the largest of `count` values, the first on ties (see `argmax(_:)`).
@inlinable
public func argmax(_ values: UnsafePointer<Float>, count: Int) -> Int {
    var best = 0
    var bestValue = -Float.infinity
    for i in 0..<count where values[i] > bestValue {
        bestValue = values[i]
        best = i
    }
    return best
}
