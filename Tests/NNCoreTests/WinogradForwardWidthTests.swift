// The forward Winograd transforms at every vector width this CPU runs (WinogradKernels: the C
// kernels of 8 and 16 floats) against the Swift SIMD4 code (width 4), bit for bit: the kernels
// promise the same additions in the same order, so any difference, even in the last bit, fails.
// The cases are the seed network's layers, padding 1 and 2, odd output sizes, rows of 1 to 18
// tiles (the kernels treat rows of up to 4 and up to 8 tiles apart) with odd row counts, and chunks
// of several images whose tile counts are not multiples of 16. Guard values past every buffer catch
// writes past what WinogradLayout.swift allows (the 16 spare columns of V and M; nothing past
// the image or the pool's outputs).
//
// The transforms' values themselves are checked against the textbook products in
// WinogradTests.swift, and the whole convolution against PyTorch with the width in force.
import NNCore
import NNTestSupport
import Testing

/// Whether two floats are the same bit pattern, any NaN equal to any NaN (its payload may depend on
/// the order of an addition's operands, which the compiler may swap).
private func sameBits(_ a: Float, _ b: Float) -> Bool {
    a.bitPattern == b.bitPattern || (a.isNaN && b.isNaN)
}

/// The first index where `actual` and `expected` differ (see `sameBits`), nil when none does.
private func firstDifference(_ actual: [Float], _ expected: [Float]) -> Int? {
    precondition(actual.count == expected.count)
    return actual.indices.first { !sameBits(actual[$0], expected[$0]) }
}

/// A guard value no transform computes from the test's data: a NaN with a payload of its own.
private let guardValue = Float(bitPattern: 0x7fa5_a5a5)
private let guardCount = 32

/// The widths besides the Swift code's that this CPU runs (8 and 16 on an AVX-512 machine).
private var kernelWidths: [Int] { WinogradKernels.supportedWidths.filter { $0 != 4 } }

/// The seed network's 3×3 layers at three images a chunk, a padding-1 layer, odd sizes.
let winogradForwardWidthCases = [
    WinogradCase(images: 3, c: 1, h: 28, w: 28, o: 16, padding: 0),  // input1: 13×13 tiles
    WinogradCase(images: 3, c: 16, h: 26, w: 26, o: 32, padding: 0),  // conv1: 12×12 tiles
    WinogradCase(images: 3, c: 32, h: 24, w: 24, o: 64, padding: 0),  // conv2: 11×11 tiles, pooled
    WinogradCase(images: 3, c: 16, h: 11, w: 11, o: 32, padding: 0),  // conv3: 9×9 output, odd
    WinogradCase(images: 3, c: 32, h: 9, w: 9, o: 64, padding: 0),  // conv4: 7×7 output
    WinogradCase(images: 2, c: 64, h: 7, w: 7, o: 64, padding: 0),  // conv5: 5×5 output
    WinogradCase(images: 2, c: 16, h: 28, w: 28, o: 32, padding: 1),  // padding 1: 14×14 tiles
    WinogradCase(images: 3, c: 5, h: 35, w: 21, o: 7, padding: 1),  // 35×21: rows of 11 tiles, 18 rows
    WinogradCase(images: 1, c: 3, h: 40, w: 38, o: 3, padding: 0),  // rows of 18 tiles (16 + 2)
    WinogradCase(images: 3, c: 3, h: 4, w: 4, o: 2, padding: 0),  // one tile an image
    WinogradCase(images: 2, c: 3, h: 8, w: 5, o: 4, padding: 1),  // 8×5 output: 4 rows of 3 tiles
    WinogradCase(images: 2, c: 2, h: 12, w: 11, o: 3, padding: 2),  // 14×13 output: 7 rows of 7 tiles
]

/// V of a chunk (each image transformed in order) at `width`, with `guardCount` guards past it.
private func inputTransform(_ t: WinogradCase, input: [Float], width: Int) -> [Float] {
    let g = t.geometry
    var v = [Float](repeating: guardValue, count: 16 * t.c * t.ld + guardCount)
    v.withUnsafeMutableBufferPointer { vp in
        input.withUnsafeBufferPointer { xp in
            for j in 0..<t.images {
                winogradInputTransform(
                    xp.baseAddress! + j * g.inputImageSize, geometry: g, tiles: t.tiles, into: vp.baseAddress!,
                    ld: t.ld, column: j * t.tiles.count, width: width)
            }
        }
    }
    return v
}

@Test("V = Bᵀ d B: every kernel width gives the Swift code's V bit for bit and writes nothing past V",
      arguments: winogradForwardWidthCases)
func winogradInputTransformWidthsMatchSwift(_ t: WinogradCase) {
    let input = randomTensor([t.images, t.c, t.h, t.w], seed: 71).scalars
    let reference = inputTransform(t, input: input, width: 4)
    /// The tiles' columns of every row of V (the spare ones hold whatever a width's last group left).
    func tiles(_ v: [Float]) -> [Float] {
        (0..<(16 * t.c)).flatMap { row in v[(row * t.ld)..<(row * t.ld + t.columns)] }
    }
    for width in kernelWidths {
        let v = inputTransform(t, input: input, width: width)
        let difference = firstDifference(tiles(v), tiles(reference))
        #expect(difference == nil, "width \(width): V differs at tile entry \(difference ?? -1)")
        #expect(v[(16 * t.c * t.ld)...].allSatisfy { $0.bitPattern == guardValue.bitPattern },
                "width \(width): nothing written past V")
    }
}

/// What the output transform wrote for a whole chunk: the images, or the pool's maxima and indices.
private struct OutputTransformResult {
    var images: [Float], pooled: [Float], indices: [Int32]
}

/// The output transform of every image of a chunk at `width`, with guards past every buffer.
private func outputTransform(
    _ t: WinogradCase, m: [Float], bias: [Float], relu: Bool, pool: Bool, width: Int
) -> OutputTransformResult {
    let g = t.geometry
    let poolSize = t.o * t.tiles.count
    var result = OutputTransformResult(
        images: [Float](repeating: guardValue, count: pool ? guardCount : t.images * g.outputImageSize + guardCount),
        pooled: [Float](repeating: guardValue, count: pool ? t.images * poolSize + guardCount : 0),
        indices: [Int32](repeating: -7, count: pool ? t.images * poolSize + guardCount : 0))
    result.images.withUnsafeMutableBufferPointer { yp in
    result.pooled.withUnsafeMutableBufferPointer { pp in
    result.indices.withUnsafeMutableBufferPointer { ip in
        for j in 0..<t.images {
            winogradOutputTransform(
                m, ld: t.ld, column: j * t.tiles.count, geometry: g, tiles: t.tiles, bias: bias, relu: relu,
                into: pool ? nil : yp.baseAddress! + j * g.outputImageSize,
                pool: pool ? WinogradPoolTarget(output: pp.baseAddress!, indices: ip.baseAddress!).image(j, size: poolSize) : nil,
                width: width)
        }
    }
    }
    }
    return result
}

/// The output cases with their ReLU and pool settings: the pool needs an even output size.
private let outputWidthArguments: [(WinogradCase, Bool, Bool)] = winogradForwardWidthCases.flatMap { t in
    let even = t.geometry.outputHeight % 2 == 0 && t.geometry.outputWidth % 2 == 0
    return [(t, false, false), (t, true, false)] + (even ? [(t, true, true), (t, false, true)] : [])
}

@Test("Y = Aᵀ M A + bias: every kernel width gives the Swift code's image or pooled maxima and indices bit for bit",
      arguments: outputWidthArguments)
func winogradOutputTransformWidthsMatchSwift(_ t: WinogradCase, relu: Bool, pool: Bool) {
    // M's tile columns random, with −0, ±∞ or a NaN of either sign in one entry of every seventh
    // tile (one at most: two NaNs in one addition may give either's sign, depending on the order of
    // its operands, which the compiler may swap); its spare columns NaN (read, not used).
    var m = [Float](repeating: .nan, count: 16 * t.o * t.ld)
    let values = randomTensor([16 * t.o, t.columns], seed: 72).scalars
    let specials: [Float] = [-0.0, .infinity, -.infinity, .nan, -Float.nan]
    for row in 0..<(16 * t.o) {
        for column in 0..<t.columns {
            let special = column % 7 == 3 && row % 16 == column % 16
            m[row * t.ld + column] = special ? specials[(row / 16 + column) % specials.count] : values[row * t.columns + column]
        }
    }
    let bias = randomTensor([t.o], seed: 73).scalars
    let reference = outputTransform(t, m: m, bias: bias, relu: relu, pool: pool, width: 4)
    for width in kernelWidths {
        let result = outputTransform(t, m: m, bias: bias, relu: relu, pool: pool, width: width)
        let imageDifference = firstDifference(result.images, reference.images)
        #expect(imageDifference == nil, "width \(width): image differs at \(imageDifference ?? -1)")
        let pooledDifference = firstDifference(result.pooled, reference.pooled)
        #expect(pooledDifference == nil, "width \(width): pooled maxima differ at \(pooledDifference ?? -1)")
        let indexDifference = result.indices.indices.first { result.indices[$0] != reference.indices[$0] }
        #expect(indexDifference == nil, "width \(width): pooled indices differ at \(indexDifference ?? -1)")
    }
    // The guards past the buffers (compared above with the Swift code's, which keeps them) are intact.
    #expect(reference.images.suffix(guardCount).allSatisfy { $0.bitPattern == guardValue.bitPattern })
    #expect(reference.pooled.suffix(pool ? guardCount : 0).allSatisfy { $0.bitPattern == guardValue.bitPattern })
    #expect(reference.indices.suffix(pool ? guardCount : 0).allSatisfy { $0 == -7 })
    // The data reach the paths compared: ReLU's zeros, and with the pool (enough windows) maxima off
    // each window's corner.
    if relu && !pool { #expect(reference.images.contains(0)) }
    let windows = t.images * t.o * t.tiles.count
    if pool && windows >= 16 { #expect(Set(reference.indices.prefix(windows).map { $0 % 2 }).count == 2) }
}
