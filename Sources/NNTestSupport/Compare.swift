// Element-by-element comparison for tests, in the style of torch.testing.assert_close.
import NNCore

/// The outcome of comparing two arrays element by element.
public struct CloseReport: Sendable, CustomStringConvertible {
    /// Number of elements compared.
    public var count: Int
    /// Largest |actual − expected| over all elements.
    public var maxAbsoluteDifference: Float
    /// Index of that largest difference.
    public var maxIndex: Int
    /// First index where |actual − expected| > atol + rtol·|expected| (or a NaN/inf mismatch), if any.
    public var firstBadIndex: Int?
    /// Number of elements outside the tolerance.
    public var badCount: Int
    /// A message naming the first bad element, the largest difference and where it is.
    public var description: String
    /// True when every element is within tolerance and the counts match.
    public var passed: Bool { firstBadIndex == nil && badCount == 0 }
}

/// Compares `actual` to `expected` with `|a − e| ≤ atol + rtol·|e|` per element.
/// Matches `torch.testing.assert_close(actual, expected, rtol=rtol, atol=atol)` (NaN never equal).
public func compareClose(
    _ actual: [Float], _ expected: [Float], atol: Float, rtol: Float, name: String = "tensor"
) -> CloseReport {
    guard actual.count == expected.count else {
        return CloseReport(
            count: 0, maxAbsoluteDifference: .infinity, maxIndex: 0, firstBadIndex: 0, badCount: 1,
            description: "\(name): count \(actual.count), expected \(expected.count)")
    }
    var maxDiff: Float = 0
    var maxIndex = 0
    var firstBad: Int?
    var bad = 0
    for i in 0..<actual.count {
        let a = actual[i], e = expected[i]
        let diff = abs(a - e)
        let ok = a.isFinite && e.isFinite ? diff <= atol + rtol * abs(e) : (a == e)
        if !ok {
            bad += 1
            if firstBad == nil { firstBad = i }
        }
        if diff > maxDiff || diff.isNaN {
            maxDiff = diff.isNaN ? .nan : diff
            maxIndex = i
        }
    }
    var text = "\(name): \(bad) of \(actual.count) elements outside atol \(atol) / rtol \(rtol); "
    text += "max |diff| \(maxDiff) at index \(maxIndex)"
    if let i = firstBad {
        text += "; first bad index \(i): actual \(actual[i]), expected \(expected[i])"
    }
    return CloseReport(
        count: actual.count, maxAbsoluteDifference: maxDiff, maxIndex: maxIndex,
        firstBadIndex: firstBad, badCount: bad, description: text)
}

/// Compares two tensors: shapes must match exactly, then values as in `compareClose(_:_:atol:rtol:name:)`.
public func compareClose(
    _ actual: Tensor, _ expected: Tensor, atol: Float, rtol: Float, name: String = "tensor"
) -> CloseReport {
    guard actual.shape == expected.shape else {
        return CloseReport(
            count: 0, maxAbsoluteDifference: .infinity, maxIndex: 0, firstBadIndex: 0, badCount: 1,
            description: "\(name): shape \(actual.shape), expected \(expected.shape)")
    }
    return compareClose(actual.scalars, expected.scalars, atol: atol, rtol: rtol, name: name)
}
