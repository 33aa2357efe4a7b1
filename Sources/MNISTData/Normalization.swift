// MNIST's input normalization, shared by training, evaluation and prediction on a user's image.
// A byte has only 256 values, so normalizing is a table lookup: cheap enough that assembling a batch
// never holds back training.
import NNCore

/// The pixel normalization of the seed network: `(x / 255 − 0.1307) / 0.3081` for a byte `x`.
///
/// 0.1307 and 0.3081 are MNIST's training-set mean and standard deviation of `x / 255`. Pixel 0 becomes
/// −0.42421, pixel 255 becomes 2.82149. Matches `transforms.ToTensor()` followed by
/// `transforms.Normalize((0.1307,), (0.3081,))` in float32, bit for bit.
public enum MNISTNormalization {
    /// The mean subtracted from `x / 255`.
    public static let mean: Float = 0.1307
    /// The standard deviation `x / 255 − mean` is divided by.
    public static let std: Float = 0.3081

    /// The normalized value of every byte: `table[x]` for pixel `x`, computed in float32 in PyTorch's order.
    public static let table: [Float] = (0..<256).map { (Float($0) / 255 - mean) / std }

    /// The normalized value of one pixel (0 background ... 255 ink).
    @inlinable
    public static func normalize(_ pixel: UInt8) -> Float {
        table[Int(pixel)]
    }

    /// The normalized value of a pixel value on the 0...255 scale that need not be a whole number (a resampled
    /// pixel): `(value / 255 − mean) / std` in float32, equal to `table[x]` for a whole `value` x.
    @inlinable
    public static func normalize(value: Float) -> Float {
        (value / 255 - mean) / std
    }

    /// Normalizes `pixels` into `output`, which must hold at least `pixels.count` values.
    public static func normalize(_ pixels: UnsafeBufferPointer<UInt8>, into output: UnsafeMutableBufferPointer<Float>) {
        precondition(output.count >= pixels.count, "output holds \(output.count) values, need \(pixels.count)")
        table.withUnsafeBufferPointer { lookup in
            for i in 0..<pixels.count {
                output[i] = lookup[Int(pixels[i])]
            }
        }
    }

    /// Normalizes whole 28 × 28 images into an NCHW tensor `[N, 1, 28, 28]`, `N = pixels.count / 784`.
    /// `pixels` holds images one after another, row-major (the layout of `MNIST.pixels`); its count
    /// must be a multiple of 784 (checked with a precondition: callers build these buffers themselves).
    public static func images(_ pixels: some Collection<UInt8>) -> Tensor {
        let size = MNIST.imageRows * MNIST.imageColumns
        precondition(pixels.count % size == 0, "\(pixels.count) pixels are not whole 28x28 images")
        let scalars = [Float](unsafeUninitializedCapacity: pixels.count) { buffer, initialized in
            for (i, pixel) in pixels.enumerated() {
                buffer[i] = table[Int(pixel)]
            }
            initialized = pixels.count
        }
        return Tensor(shape: [pixels.count / size, 1, MNIST.imageRows, MNIST.imageColumns], scalars: scalars)
    }

    /// The byte whose normalized value is nearest `value` (for pictures of inputs), clamped to 0...255.
    public static func pixel(fromNormalized value: Float) -> UInt8 {
        let x = (value * std + mean) * 255
        guard x.isFinite else { return x > 0 ? 255 : 0 }
        return UInt8(max(0, min(255, x.rounded())))
    }
}
