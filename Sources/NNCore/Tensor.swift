// A dense Float32 tensor in row-major (C) order, the layout PyTorch uses for contiguous tensors.
// Activations are NCHW, convolution weights OIHW, linear weights [out, in].

/// A dense, row-major Float32 tensor with value semantics.
///
/// `shape` lists the sizes, outermost first (PyTorch order: an image batch is `[N, C, H, W]`).
/// `scalars` holds `shape.reduce(1, *)` values; a shape of `[]` is a scalar with one value.
/// Matches a contiguous `torch.Tensor` of dtype float32; there are no strides or views.
public struct Tensor: Sendable, Equatable {
    /// The sizes of each dimension, outermost first.
    public private(set) var shape: [Int]
    /// The values in row-major order.
    public var scalars: [Float]

    /// Wraps `scalars` with `shape`; the count must equal the product of the shape
    /// (a programming error otherwise, checked with a precondition).
    public init(shape: [Int], scalars: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in shape \(shape)")
        precondition(
            shape.reduce(1, *) == scalars.count,
            "shape \(shape) needs \(shape.reduce(1, *)) values, got \(scalars.count)")
        self.shape = shape
        self.scalars = scalars
    }

    /// A tensor of `shape` filled with `value` (zeros by default). Matches `torch.full` / `torch.zeros`.
    public init(shape: [Int], repeating value: Float = 0) {
        self.init(shape: shape, scalars: [Float](repeating: value, count: shape.reduce(1, *)))
    }

    /// The number of values, the product of `shape`. Matches `torch.Tensor.numel()`.
    public var count: Int { scalars.count }

    /// The number of dimensions. Matches `torch.Tensor.dim()`.
    public var rank: Int { shape.count }

    /// The same values under another shape of equal count. Matches `torch.Tensor.reshape`
    /// on a contiguous tensor (always a copy-on-write share, never a strided view).
    public func reshaped(to newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, scalars: scalars)
    }

    /// Sets every value to zero, keeping the storage.
    public mutating func zero() {
        scalars.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
    }
}

extension Tensor: CustomStringConvertible {
    /// The shape and the first few values, for logs and test failures.
    public var description: String {
        let head = scalars.prefix(6).map { String($0) }.joined(separator: ", ")
        return "Tensor(\(shape), [\(head)\(scalars.count > 6 ? ", ..." : "")])"
    }
}
