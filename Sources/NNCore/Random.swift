// A small seeded generator: the same seed gives the same network, the same integers and the
// same batch order on every platform (Swift's SystemRandomNumberGenerator cannot be seeded).

/// SplitMix64, a fast 64-bit generator with a 64-bit state, seeded by any `UInt64`.
///
/// Used for weight initialisation, the dataset's integers and shuffling. It is not PyTorch's
/// Mersenne Twister, so the same seed gives different numbers than `torch.manual_seed`;
/// parity tests load PyTorch's weights instead of regenerating them.
public struct SplitMix64: RandomNumberGenerator, Sendable, Equatable, Codable {
    /// The generator's whole state; saving it and restoring it resumes the same stream.
    public var state: UInt64

    /// Starts the stream at `seed`.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A Float uniform in `[lower, upper)`, from the top 24 bits (every value exactly representable).
    public mutating func nextUniform(_ lower: Float, _ upper: Float) -> Float {
        let unit = Float(next() >> 40) * (1.0 / 16_777_216.0)
        return lower + (upper - lower) * unit
    }
}
