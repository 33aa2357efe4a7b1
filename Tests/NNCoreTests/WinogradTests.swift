// Each Winograd F(2×2, 3×3) transform of NNCore (Sources/NNCore/Winograd/WinogradTransforms.swift)
// against its textbook matrix products (Sources/NNTestSupport/NaiveWinograd.swift), one transform
// at a time, on random data laid out as the drivers lay it out: a chunk of several images in one
// [channels][16][ld] buffer, image j's tiles from column j·T, transformed in image order.
//
// The sizes reach the remainder paths: kernel counts O·C and channel counts that are not
// multiples of 4, odd output sizes (a last tile row or column half outside the output), rows of
// tiles and chunks whose tile count is not a multiple of 4, padding 0, 1 and 2. Spare columns are
// NaN where a transform reads them, so a value taken from them shows, and NaN canaries past every
// buffer catch writes past its end.
//
// The convolution as a whole (forward and backward, both algorithms) is compared with direct loops
// in OpsTests.swift, as is the fused convolution + ReLU + pool with the separate ops.
import NNCore
import NNTestSupport
import Testing

private func expectClose(
    _ actual: [Float], _ expected: [Float], atol: Float = 1e-5, rtol: Float = 1e-5, _ name: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    let report = compareClose(actual, expected, atol: atol, rtol: rtol, name: name)
    #expect(report.passed, "\(report)", sourceLocation: sourceLocation)
}

/// NaN floats put past the end of every buffer a transform writes.
private let canaryCount = 8

/// A chunk of `images` images through a 3×3, stride-1 convolution.
struct WinogradCase: CustomTestStringConvertible, Sendable {
    var images, c, h, w, o, padding: Int
    var testDescription: String { "\(images) images C\(c) \(h)×\(w) O\(o) p\(padding)" }

    var geometry: Conv2dGeometry {
        Conv2dGeometry(
            inChannels: c, outChannels: o, kernelHeight: 3, kernelWidth: 3, padding: padding,
            inputHeight: h, inputWidth: w)
    }
    var tiles: WinogradTiles { WinogradTiles(geometry) }
    /// Tiles in the chunk, all images together.
    var columns: Int { images * tiles.count }
    var ld: Int { winogradLeadingDimension(columns: columns) }
}

let winogradCases = [
    // 7×7 output: 4×4 tiles, the last row and column half outside; 48 tiles per chunk.
    WinogradCase(images: 3, c: 5, h: 9, w: 9, o: 3, padding: 0),
    // 10×9 output: rows of 5 tiles (a group of 4 and 1), 25 per image, 75 per chunk.
    WinogradCase(images: 3, c: 6, h: 12, w: 11, o: 7, padding: 0),
    // Padding 1, 8×7 output: the last tile column half outside.
    WinogradCase(images: 2, c: 3, h: 8, w: 7, o: 5, padding: 1),
    // Padding 2, 7×8 output.
    WinogradCase(images: 3, c: 2, h: 5, w: 6, o: 2, padding: 2),
    // 5×5 output: rows of 3 tiles, 9 in all (fewer than one group of four per row).
    WinogradCase(images: 1, c: 7, h: 7, w: 7, o: 9, padding: 0),
    // Padding 1, 7×13 output: rows of 7 tiles (4 + 3), 28 per image.
    WinogradCase(images: 2, c: 4, h: 7, w: 13, o: 6, padding: 1),
]

/// Tile `column` of block `block` (a channel) of a [blocks][16][ld] buffer as a 4×4 matrix, entry
/// ξ = 4i + j at row i, column j.
private func tile(_ buffer: [Float], block: Int, column: Int, ld: Int) -> [[Double]] {
    (0..<4).map { i in (0..<4).map { j in Double(buffer[(block * 16 + 4 * i + j) * ld + column]) } }
}

/// A [blocks][16][ld] buffer holding random values in its first `columns` columns and NaN in the
/// spare ones, which the transforms read past a chunk's last tile but must not use.
private func tileBuffer(blocks: Int, columns: Int, ld: Int, seed: UInt64) -> [Float] {
    let values = randomTensor([blocks * 16, columns], seed: seed).scalars
    var buffer = [Float](repeating: .nan, count: blocks * 16 * ld)
    for row in 0..<(blocks * 16) {
        for t in 0..<columns { buffer[row * ld + t] = values[row * columns + t] }
    }
    return buffer
}

/// The entries of the 4×4 tiles `expected[j][block][t]` (image j, tile t) and of the tiles the
/// transform wrote at block `block`, column j·T + t of `buffer`, in the same order.
private func tileEntries(
    _ buffer: [Float], expected: [[[[[Double]]]]], t: WinogradCase
) -> (actual: [Float], expected: [Float]) {
    var (actual, reference) = ([Float](), [Float]())
    for (j, image) in expected.enumerated() {
        for (block, tiles) in image.enumerated() {
            for (index, m) in tiles.enumerated() {
                let written = tile(buffer, block: block, column: j * t.tiles.count + index, ld: t.ld)
                actual += written.joined().map(Float.init)
                reference += m.joined().map(Float.init)
            }
        }
    }
    return (actual, reference)
}

/// The 3×3 kernel `k` (o·C + c) of an OIHW weight as a matrix.
private func kernel(_ weight: [Float], _ k: Int) -> [[Double]] {
    (0..<3).map { y in (0..<3).map { x in Double(weight[9 * k + 3 * y + x]) } }
}

/// Kernel counts O × C: 15 (three groups of four and 3), 16, 1, 14, 15 the other way round.
let winogradKernelCounts = [(3, 5), (4, 4), (1, 1), (2, 7), (5, 3)]

@Test("U = G g Gᵀ: the weight transform equals the textbook product for every kernel", arguments: winogradKernelCounts)
func winogradWeightTransformMatchesTextbook(o: Int, c: Int) {
    let g = Conv2dGeometry(inChannels: c, outChannels: o, kernelHeight: 3, kernelWidth: 3, inputHeight: 4, inputWidth: 4)
    let weight = randomTensor([o, c, 3, 3], seed: 61).scalars
    let size = winogradTransformedWeightSize(geometry: g)
    #expect(size == 16 * o * c)
    var u = [Float](repeating: .nan, count: size + canaryCount)
    winogradTransformWeight(weight, geometry: g, into: &u)
    var expected = [Float](repeating: .nan, count: size)
    for k in 0..<(o * c) {
        let transformed = naiveWinogradWeightTransform(kernel(weight, k))
        for xi in 0..<16 { expected[xi * o * c + k] = Float(transformed[xi / 4][xi % 4]) }  // [16][O][C]
    }
    expectClose(Array(u[..<size]), expected, "U")
    #expect(u[size...].allSatisfy { $0.isNaN }, "nothing written past U")
}

@Test("dW = Gᵀ dU G: the weight gradient's transform equals the textbook product and adds to the gradient",
      arguments: winogradKernelCounts)
func winogradWeightGradientMatchesTextbook(o: Int, c: Int) {
    let du = randomTensor([16, o, c], seed: 62).scalars
    let initial = randomTensor([o, c, 3, 3], seed: 63).scalars
    var gradWeight = initial + [Float](repeating: .nan, count: canaryCount)
    winogradWeightGradient(du, outChannels: o, inChannels: c, addingTo: &gradWeight)
    var expected = [Float](repeating: .nan, count: initial.count)
    for k in 0..<(o * c) {
        let m = (0..<4).map { i in (0..<4).map { j in Double(du[(4 * i + j) * o * c + k]) } }
        let dw = naiveWinogradWeightGradient(m)
        for q in 0..<9 { expected[9 * k + q] = Float(Double(initial[9 * k + q]) + dw[q / 3][q % 3]) }
    }
    expectClose(Array(gradWeight[..<initial.count]), expected, "gradWeight")
    #expect(gradWeight[initial.count...].allSatisfy { $0.isNaN }, "nothing written past the gradient")
}

@Test("V = Bᵀ d B: the input transform equals the textbook product on every tile of a chunk", arguments: winogradCases)
func winogradInputTransformMatchesTextbook(_ t: WinogradCase) {
    let g = t.geometry
    let input = randomTensor([t.images, t.c, t.h, t.w], seed: 64).scalars
    var v = [Float](repeating: .nan, count: 16 * t.c * t.ld + canaryCount)
    v.withUnsafeMutableBufferPointer { vp in
        input.withUnsafeBufferPointer { xp in
            for j in 0..<t.images {
                winogradInputTransform(
                    xp.baseAddress! + j * g.inputImageSize, geometry: g, tiles: t.tiles, into: vp.baseAddress!,
                    ld: t.ld, column: j * t.tiles.count)
            }
        }
    }
    let expected = (0..<t.images).map { j in
        naiveWinogradInputTiles(image: Array(input[(j * g.inputImageSize)..<((j + 1) * g.inputImageSize)]), geometry: g)
    }
    let entries = tileEntries(v, expected: expected, t: t)
    #expect(entries.actual.count == 16 * t.c * t.columns)
    expectClose(entries.actual, entries.expected, "V")
    #expect(v[(16 * t.c * t.ld)...].allSatisfy { $0.isNaN }, "nothing written past V")
}

@Test("Y = Aᵀ M A + bias: the output transform equals the textbook product, with and without ReLU",
      arguments: winogradCases, [false, true])
func winogradOutputTransformMatchesTextbook(_ t: WinogradCase, relu: Bool) {
    let g = t.geometry
    let m = tileBuffer(blocks: t.o, columns: t.columns, ld: t.ld, seed: 65)
    let bias = randomTensor([t.o], seed: 66).scalars
    var output = [Float](repeating: .nan, count: t.images * g.outputImageSize + canaryCount)
    output.withUnsafeMutableBufferPointer { yp in
        for j in 0..<t.images {
            winogradOutputTransform(
                m, ld: t.ld, column: j * t.tiles.count, geometry: g, tiles: t.tiles, bias: bias, relu: relu,
                into: yp.baseAddress! + j * g.outputImageSize)
        }
    }
    var expected = [Float]()
    for j in 0..<t.images {
        let tiles = (0..<t.o).map { o in
            (0..<t.tiles.count).map { index in tile(m, block: o, column: j * t.tiles.count + index, ld: t.ld) }
        }
        expected += naiveWinogradOutputImage(tiles: tiles, bias: bias, relu: relu, geometry: g)
    }
    let size = t.images * g.outputImageSize
    expectClose(Array(output[..<size]), expected, "Y")
    #expect(output[size...].allSatisfy { $0.isNaN }, "nothing written past the output")
    if relu { #expect(output[..<size].contains(0) && output[..<size].allSatisfy { $0 >= 0 }) }
}

@Test("dM = A dY Aᵀ: the output gradient's transform equals the textbook product on every tile of a chunk",
      arguments: winogradCases)
func winogradGradOutputTransformMatchesTextbook(_ t: WinogradCase) {
    let g = t.geometry
    let gradOutput = randomTensor([t.images, t.o, g.outputHeight, g.outputWidth], seed: 67).scalars
    var dm = [Float](repeating: .nan, count: 16 * t.o * t.ld + canaryCount)
    dm.withUnsafeMutableBufferPointer { dp in
        gradOutput.withUnsafeBufferPointer { gp in
            for j in 0..<t.images {
                winogradGradOutputTransform(
                    gp.baseAddress! + j * g.outputImageSize, geometry: g, tiles: t.tiles, into: dp.baseAddress!,
                    ld: t.ld, column: j * t.tiles.count)
            }
        }
    }
    let expected = (0..<t.images).map { j in
        naiveWinogradGradOutputTiles(
            gradOutput: Array(gradOutput[(j * g.outputImageSize)..<((j + 1) * g.outputImageSize)]), geometry: g)
    }
    let entries = tileEntries(dm, expected: expected, t: t)
    #expect(entries.actual.count == 16 * t.o * t.columns)
    expectClose(entries.actual, entries.expected, "dM")
    #expect(dm[(16 * t.o * t.ld)...].allSatisfy { $0.isNaN }, "nothing written past dM")
}

@Test("dX += B dV Bᵀ: the input gradient's transform equals the textbook product scattered over the image",
      arguments: winogradCases)
func winogradGradInputTransformMatchesTextbook(_ t: WinogradCase) {
    let g = t.geometry
    let dv = tileBuffer(blocks: t.c, columns: t.columns, ld: t.ld, seed: 68)
    let initial = randomTensor([t.images, t.c, t.h, t.w], seed: 69).scalars
    var gradInput = initial + [Float](repeating: .nan, count: canaryCount)
    gradInput.withUnsafeMutableBufferPointer { gp in
        for j in 0..<t.images {
            winogradGradInputTransform(
                dv, ld: t.ld, column: j * t.tiles.count, geometry: g, tiles: t.tiles,
                addingTo: gp.baseAddress! + j * g.inputImageSize)
        }
    }
    var expected = [Float]()
    for j in 0..<t.images {
        let tiles = (0..<t.c).map { c in
            (0..<t.tiles.count).map { index in tile(dv, block: c, column: j * t.tiles.count + index, ld: t.ld) }
        }
        let gradient = naiveWinogradGradInputImage(tiles: tiles, geometry: g)
        expected += zip(initial[(j * g.inputImageSize)...], gradient).map { Float(Double($0) + $1) }
    }
    expectClose(Array(gradInput[..<initial.count]), expected, "gradInput")
    #expect(gradInput[initial.count...].allSatisfy { $0.isNaN }, "nothing written past the input gradient")
}

@Test("V[ξ]ᵀ for the weight gradient's GEMM: the transpose copies every tile of every channel",
      arguments: [(5, 27), (8, 48), (3, 9), (4, 75), (9, 1)])
func winogradTransposeTilesCopiesEveryTile(channels c: Int, columns: Int) {
    let ld = winogradLeadingDimension(columns: columns)
    let v = tileBuffer(blocks: c, columns: columns, ld: ld, seed: 70)
    let size = (columns + 3) * c  // the last group of four tiles may write up to 3 rows past `columns`
    for xi in 0..<16 {
        var vt = [Float](repeating: .nan, count: size + canaryCount)
        v.withUnsafeBufferPointer { vp in
            winogradTransposeTiles(vp.baseAddress! + xi * ld, rowStride: 16 * ld, channels: c, columns: columns, into: &vt)
        }
        var expected = [Float](repeating: .nan, count: columns * c)
        for t in 0..<columns {
            for ch in 0..<c { expected[t * c + ch] = v[(ch * 16 + xi) * ld + t] }
        }
        #expect(Array(vt[..<(columns * c)]) == expected, "ξ = \(xi)")
        #expect(vt[size...].allSatisfy { $0.isNaN }, "ξ = \(xi): nothing written past (columns + 3)·C")
    }
}
