// The backward Winograd transforms' C kernels (CKernels, 8 floats a vector with AVX2 and 16 with
// AVX-512F) against the Swift code they replace (width 4), bit for bit, for every width this CPU
// runs (`WinogradKernels.supportedWidths`; on a CPU with neither, only the Swift code runs and the
// tests compare it with itself). The Swift code is itself checked against the textbook products
// in WinogradTests.swift.
//
// The geometries: the seed network's conv1 … conv5 (conv2 with its fused pool), padding 1 and 2,
// odd output sizes, rows of tiles longer than one vector, exactly one vector (16 tiles: the group
// after a full group), tile counts that are not multiples of 16, several images per chunk. The
// data has full precision, so that another order of additions shows, and exact ±0 (every 7th value
// +0, every 11th −0), so that a negation written −x instead of 0 − x shows. Spare columns are NaN where a kernel reads them, and NaN guards around every buffer
// catch writes outside it.
import NNCore
import NNTestSupport
import Testing

/// NaN floats put before and after every buffer a kernel writes.
private let guardCount = 32

/// Random values of full 24-bit precision and magnitudes from about 0 to 4 (quotients of two
/// `randomTensor` values: its own lie on a grid of 2⁻²³, where most sums are exact and a change in
/// the order of additions would not show), with every 7th replaced by +0 and every 11th by −0.
private func valuesWithZeros(_ count: Int, seed: UInt64) -> [Float] {
    let (a, b) = (randomTensor([count], seed: seed).scalars, randomTensor([count], seed: seed + 1000).scalars)
    var values = zip(a, b).map { $0 / (0.25 + abs($1)) }
    for i in stride(from: 0, to: count, by: 7) { values[i] = 0 }
    for i in stride(from: 5, to: count, by: 11) { values[i] = -0.0 }
    return values
}

/// `values` between two runs of `guardCount` NaNs.
private func guarded(_ values: [Float]) -> [Float] {
    let nan = [Float](repeating: .nan, count: guardCount)
    return nan + values + nan
}

/// Whether the guards around a `guarded` buffer are all still NaN.
private func guardsIntact(_ buffer: [Float]) -> Bool {
    buffer[..<guardCount].allSatisfy(\.isNaN) && buffer[(buffer.count - guardCount)...].allSatisfy(\.isNaN)
}

/// Expects `actual` to equal `expected` bit for bit, naming the first difference.
private func expectSameBits(
    _ actual: [Float], _ expected: [Float], _ name: String, sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(actual.count == expected.count, "\(name): \(actual.count) values, expected \(expected.count)",
            sourceLocation: sourceLocation)
    let first = zip(actual, expected).enumerated().first { $0.element.0.bitPattern != $0.element.1.bitPattern }
    #expect(first == nil, "\(name): first difference at \(first?.offset ?? -1): \(first?.element.0 ?? 0) vs \(first?.element.1 ?? 0)",
            sourceLocation: sourceLocation)
}

/// The columns 0 ..< `columns` of each of the `rows` rows (ld floats apart) of a guarded buffer: the
/// tiles a transform writes, without the spare columns, which it may fill with anything.
private func tileColumns(_ buffer: [Float], rows: Int, columns: Int, ld: Int) -> [Float] {
    (0..<rows).flatMap { r in buffer[(guardCount + r * ld)..<(guardCount + r * ld + columns)] }
}

/// The widths other than the Swift code's 4 that this CPU runs.
private let kernelWidths = WinogradKernels.supportedWidths.filter { $0 != 4 }

/// Cases: the seed network's layers, then shapes that reach the kernels' edges.
private let backwardKernelCases = [
    WinogradCase(images: 3, c: 16, h: 26, w: 26, o: 32, padding: 0),  // conv1: 12×12 tiles
    WinogradCase(images: 2, c: 32, h: 24, w: 24, o: 64, padding: 0),  // conv2 (pool): 11×11 tiles, 121
    WinogradCase(images: 3, c: 16, h: 11, w: 11, o: 32, padding: 0),  // conv3: 9×9 output, 5×5 tiles
    WinogradCase(images: 3, c: 32, h: 9, w: 9, o: 64, padding: 0),    // conv4: 4×4 tiles
    WinogradCase(images: 4, c: 64, h: 7, w: 7, o: 64, padding: 0),    // conv5: 3×3 tiles
    WinogradCase(images: 2, c: 8, h: 12, w: 12, o: 6, padding: 1),    // padding 1: 12×12 output, 36 tiles
    WinogradCase(images: 2, c: 3, h: 13, w: 11, o: 5, padding: 1),    // padding 1, 13×11 output
    WinogradCase(images: 2, c: 3, h: 5, w: 37, o: 4, padding: 2),     // padding 2, 7×39: rows of 20 tiles
    WinogradCase(images: 2, c: 2, h: 6, w: 34, o: 3, padding: 0),     // rows of exactly 16 tiles
    WinogradCase(images: 1, c: 5, h: 20, w: 19, o: 2, padding: 0),    // 18×17: rows of 9 tiles
]

@Suite("Winograd backward kernels: each width equals the Swift code bit for bit")
struct WinogradBackwardKernelTests {
    @Test("dM = A dY Aᵀ", arguments: backwardKernelCases)
    func gradOutputTransform(_ t: WinogradCase) {
        let g = t.geometry
        let gradOutput = valuesWithZeros(t.images * t.o * g.outputImageSize, seed: 81)
        /// dM from `width`, image after image as the driver runs them.
        func run(width: Int) -> [Float] {
            var dm = guarded([Float](repeating: .nan, count: 16 * t.o * t.ld))
            gradOutput.withUnsafeBufferPointer { gp in
            dm.withUnsafeMutableBufferPointer { dp in
                for j in 0..<t.images {
                    winogradGradOutputTransform(
                        gp.baseAddress! + j * g.outputImageSize, geometry: g, tiles: t.tiles,
                        into: dp.baseAddress! + guardCount, ld: t.ld, column: j * t.tiles.count, width: width)
                }
            }
            }
            return dm
        }
        let reference = run(width: 4)
        let expected = tileColumns(reference, rows: 16 * t.o, columns: t.columns, ld: t.ld)
        #expect(!expected.contains { $0.isNaN }, "the Swift code writes every tile")
        for width in kernelWidths {
            let dm = run(width: width)
            expectSameBits(tileColumns(dm, rows: 16 * t.o, columns: t.columns, ld: t.ld), expected, "dM, width \(width)")
            #expect(guardsIntact(dm), "width \(width): nothing written outside dM")
        }
    }

    @Test("dX += B dV Bᵀ, onto random values and onto zeros", arguments: backwardKernelCases, [false, true])
    func gradInputTransform(_ t: WinogradCase, fromZero: Bool) {
        let g = t.geometry
        // dV: the chunk's tiles, NaN in the spare columns.
        let values = valuesWithZeros(16 * t.c * t.columns, seed: 82)
        var dv = [Float](repeating: .nan, count: 16 * t.c * t.ld)
        for r in 0..<(16 * t.c) {
            for column in 0..<t.columns { dv[r * t.ld + column] = values[r * t.columns + column] }
        }
        let initial = fromZero
            ? [Float](repeating: 0, count: t.images * g.inputImageSize)
            : randomTensor([t.images * g.inputImageSize], seed: 83).scalars
        func run(width: Int) -> [Float] {
            var gradInput = guarded(initial)
            gradInput.withUnsafeMutableBufferPointer { gp in
                for j in 0..<t.images {
                    winogradGradInputTransform(
                        dv, ld: t.ld, column: j * t.tiles.count, geometry: g, tiles: t.tiles,
                        addingTo: gp.baseAddress! + guardCount + j * g.inputImageSize, width: width)
                }
            }
            return gradInput
        }
        let reference = run(width: 4)
        let expected = Array(reference[guardCount..<(guardCount + initial.count)])
        #expect(!expected.contains { $0.isNaN }, "the Swift code reads no spare column's value")
        #expect(expected != initial, "the transform adds something")
        for width in kernelWidths {
            let gradInput = run(width: width)
            expectSameBits(Array(gradInput[guardCount..<(guardCount + initial.count)]), expected, "gradInput, width \(width)")
            #expect(guardsIntact(gradInput), "width \(width): nothing written outside the input gradient")
        }
    }

    @Test("dM and gradBias through a fused 2×2 max pool",
          arguments: backwardKernelCases.filter { $0.geometry.outputHeight % 2 == 0 && $0.geometry.outputWidth % 2 == 0 })
    func poolGradOutputTransform(_ t: WinogradCase) {
        let g = t.geometry
        let (count, ow) = (t.tiles.count, g.outputWidth)
        let size = t.images * t.o * count
        let gradient = valuesWithZeros(size, seed: 84)
        let pooled = valuesWithZeros(size, seed: 85)  // ≤ 0 about half the time: ReLU's mask
        // Each window's maximum at a random one of its four places.
        let places = randomTensor([size], seed: 86, lower: 0, upper: 4).scalars.map { min(3, Int($0)) }
        let indices = (0..<size).map { i -> Int32 in
            let window = i % count, (ty, tx) = (window / t.tiles.columns, window % t.tiles.columns)
            return Int32((2 * ty + places[i] / 2) * ow + 2 * tx + places[i] % 2)
        }
        let initialBias = randomTensor([t.o], seed: 87).scalars
        func run(width: Int) -> (dm: [Float], gradBias: [Float]) {
            var dm = guarded([Float](repeating: .nan, count: 16 * t.o * t.ld))
            var gradBias = guarded(initialBias)
            gradient.withUnsafeBufferPointer { gp in
            pooled.withUnsafeBufferPointer { pp in
            indices.withUnsafeBufferPointer { ip in
            dm.withUnsafeMutableBufferPointer { dp in
            gradBias.withUnsafeMutableBufferPointer { bp in
                for j in 0..<t.images {
                    let offset = j * t.o * count
                    winogradPoolGradOutputTransform(
                        WinogradPoolGradient(
                            gradient: gp.baseAddress! + offset, pooled: pp.baseAddress! + offset, indices: ip.baseAddress! + offset),
                        geometry: g, tiles: t.tiles, into: dp.baseAddress! + guardCount, ld: t.ld,
                        column: j * count, gradBias: bp.baseAddress! + guardCount, width: width)
                }
            }
            }
            }
            }
            }
            return (dm, gradBias)
        }
        let reference = run(width: 4)
        let expected = tileColumns(reference.dm, rows: 16 * t.o, columns: t.columns, ld: t.ld)
        #expect(!expected.contains { $0.isNaN }, "the Swift code writes every tile")
        let expectedBias = Array(reference.gradBias[guardCount..<(guardCount + t.o)])
        #expect(expectedBias != initialBias, "the transform adds to gradBias")
        for width in kernelWidths {
            let (dm, gradBias) = run(width: width)
            expectSameBits(tileColumns(dm, rows: 16 * t.o, columns: t.columns, ld: t.ld), expected, "dM, width \(width)")
            expectSameBits(Array(gradBias[guardCount..<(guardCount + t.o)]), expectedBias, "gradBias, width \(width)")
            #expect(guardsIntact(dm) && guardsIntact(gradBias), "width \(width): nothing written outside dM and gradBias")
        }
    }

    @Test("V[ξ]ᵀ for the weight gradient's GEMM",
          arguments: [(16, 288), (32, 242), (16, 400), (32, 256), (64, 144), (64, 37), (24, 37), (5, 27), (8, 9)])
    func transposeTiles(channels c: Int, columns: Int) {
        let ld = winogradLeadingDimension(columns: columns)
        // V: the tiles' values, NaN in the spare columns.
        let values = valuesWithZeros(16 * c * columns, seed: 88)
        var v = [Float](repeating: .nan, count: 16 * c * ld)
        for r in 0..<(16 * c) {
            for t in 0..<columns { v[r * ld + t] = values[r * columns + t] }
        }
        let size = columns * c
        func run(width: Int, xi: Int) -> [Float] {
            var vt = guarded([Float](repeating: .nan, count: size + 3 * c))  // width 4 may write 3 rows past
            v.withUnsafeBufferPointer { vp in
                vt.withUnsafeMutableBufferPointer { tp in
                    winogradTransposeTiles(
                        vp.baseAddress! + xi * ld, rowStride: 16 * ld, channels: c, columns: columns,
                        into: tp.baseAddress! + guardCount, width: width)
                }
            }
            return vt
        }
        for xi in [0, 7, 15] {
            let expected = Array(run(width: 4, xi: xi)[guardCount..<(guardCount + size)])
            #expect(!expected.contains { $0.isNaN }, "ξ = \(xi): the Swift code copies every tile")
            for width in kernelWidths {
                let vt = run(width: width, xi: xi)
                expectSameBits(Array(vt[guardCount..<(guardCount + size)]), expected, "Vt, ξ = \(xi), width \(width)")
                #expect(vt[(guardCount + size)...].allSatisfy(\.isNaN) && guardsIntact(vt),
                        "ξ = \(xi), width \(width): nothing written outside columns × C")
            }
        }
    }
}
