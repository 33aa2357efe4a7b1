// Vector helpers of the Winograd transforms and the fused pool: unaligned loads and stores of
// four or eight floats, partial groups of fewer than four lanes, lane masks and selects built from
// sign bits, and ReLU on four lanes.

/// The four floats at `p` (no alignment needed).
@inline(__always) func load4(_ p: UnsafePointer<Float>) -> SIMD4<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD4<Float>.self)
}

/// The eight floats at `p` (no alignment needed).
@inline(__always) func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

/// Stores the four lanes of `v` at `p`.
@inline(__always) func store4(_ v: SIMD4<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD4<Float>.self)
}

/// −1 in the lanes where a < b, 0 elsewhere: the sign bit of a − b, which is set exactly when a < b
/// for a and b not NaN and not −0 against +0 (−0 − (+0) is −0; the transforms add 0 first, or
/// take values after `relu4`, to rule that out). Masks made from sign bits and the `select`s below
/// compile to a few vector instructions each. A `SIMDMask` from a float comparison used to select
/// lanes (`replacing(with:where:)`), or one from an integer comparison used on float lanes, can
/// compile in these loops to a branch per lane.
@inline(__always) func lessMask(_ a: SIMD4<Float>, _ b: SIMD4<Float>) -> SIMD4<Int32> {
    unsafeBitCast(a - b, to: SIMD4<Int32>.self) &>> 31
}

/// `a` in the lanes where `mask` is −1, `b` where it is 0.
@inline(__always) func select(_ mask: SIMD4<Int32>, _ a: SIMD4<Int32>, _ b: SIMD4<Int32>) -> SIMD4<Int32> {
    (a & mask) | (b & ~mask)
}

/// `a` in the lanes where `mask` is −1, `b` where it is 0, bit for bit.
@inline(__always) func select(_ mask: SIMD4<Int32>, _ a: SIMD4<Float>, _ b: SIMD4<Float>) -> SIMD4<Float> {
    unsafeBitCast(select(mask, unsafeBitCast(a, to: SIMD4<Int32>.self), unsafeBitCast(b, to: SIMD4<Int32>.self)),
                  to: SIMD4<Float>.self)
}

/// Stores the first `count` (0...4) lanes of `v` at `p` by way of 16 bytes of `scratch`: the vector
/// is stored whole there and its lanes copied from memory (storing single lanes of a vector in a
/// loop's last, partial group has the compiler do the whole loop in scalars).
@inline(__always) func storeLanes<T: SIMDScalar>(
    _ v: SIMD4<T>, count: Int, to p: UnsafeMutablePointer<T>, scratch: UnsafeMutableRawPointer
) {
    scratch.storeBytes(of: v, as: SIMD4<T>.self)
    for lane in 0..<count { p[lane] = scratch.load(fromByteOffset: lane * MemoryLayout<T>.stride, as: T.self) }
}

/// The first `count` (0...4) values at `p` as a vector whose other lanes are zero, by way of 16
/// bytes of `scratch` (the counterpart of `storeLanes`, for the same reason).
@inline(__always) func loadLanes<T: SIMDScalar & ExpressibleByIntegerLiteral>(
    _ p: UnsafePointer<T>, count: Int, scratch: UnsafeMutableRawPointer
) -> SIMD4<T> {
    for lane in 0..<4 {
        scratch.storeBytes(of: lane < count ? p[lane] : 0, toByteOffset: lane * MemoryLayout<T>.stride, as: T.self)
    }
    return UnsafeRawPointer(scratch).loadUnaligned(as: SIMD4<T>.self)
}

/// ReLU from the sign bit alone: v where v > 0, +0 where v ≤ 0 (−0 included), as Swift's
/// `max(v, 0)` gives it, but for a NaN with its sign bit set, which becomes 0 (other NaNs stay).
@inline(__always) func relu4(_ v: SIMD4<Float>) -> SIMD4<Float> {
    let bits = unsafeBitCast(v, to: SIMD4<Int32>.self)
    return unsafeBitCast(bits & ~(bits &>> 31), to: SIMD4<Float>.self)
}

/// `relu4` on one float: v where its sign bit is clear, +0 where it is set (a NaN with its sign
/// bit set included, where Swift's `max(v, 0)` would keep the NaN).
@inline(__always) func relu1(_ v: Float) -> Float {
    Float(bitPattern: v.bitPattern & ~UInt32(bitPattern: Int32(bitPattern: v.bitPattern) >> 31))
}
