// Dropout with masks that are a pure function of (seed, step, layer, image, element): the same
// values whatever the thread count or the way a batch is cut, and again after a resume.

/// Writes the dropout multipliers of one image: 0 with probability `p`, else 1/(1 − p).
///
/// Each value's draw is a SplitMix64 hash of (seed, layer, step, image, element index), compared
/// as a 24-bit uniform with p. Deviation from `torch.nn.functional.dropout`: PyTorch draws from its
/// global generator, so the masks differ while their distribution is the same.
public func dropoutMask(
    p: Float, seed: UInt64, step: Int, layer: Int, image: Int, count: Int, into mask: UnsafeMutablePointer<Float>
) {
    let keep = 1 / (1 - p)
    let threshold = UInt64((Double(p) * 16_777_216).rounded())
    let base = mix(mix(mix(seed &+ UInt64(truncatingIfNeeded: layer)) &+ UInt64(truncatingIfNeeded: step))
        &+ UInt64(truncatingIfNeeded: image))
    for e in 0..<count {
        let draw = mix(base &+ UInt64(truncatingIfNeeded: e) &* 0x9E37_79B9_7F4A_7C15) >> 40
        mask[e] = draw < threshold ? 0 : keep
    }
}

/// `output[i] = input[i] · mask[i]` for `count` values: dropout's forward with a mask from
/// `dropoutMask`, and its backward with the gradient as input.
public func dropoutApply(
    input: UnsafePointer<Float>, mask: UnsafePointer<Float>, count: Int, output: UnsafeMutablePointer<Float>
) {
    for i in 0..<count { output[i] = input[i] * mask[i] }
}

/// SplitMix64's output function: a bijective mix of 64 bits.
@inline(__always)
private func mix(_ value: UInt64) -> UInt64 {
    var z = value &+ 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}
