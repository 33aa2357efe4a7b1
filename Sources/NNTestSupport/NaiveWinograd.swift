// Textbook Winograd F(2×2, 3×3) (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks",
// 2015, section 4.1): each role of NNCore's Winograd convolution as plain matrix products with the
// paper's Bᵀ, G and Aᵀ written out, in Double, no SIMD, and the same roles over one image (4×4
// input tiles cut with zero padding, outputs past the image dropped). The yardstick
// Tests/NNCoreTests/WinogradTests.swift holds NNCore's vectorized transforms
// (Sources/NNCore/Winograd/WinogradTransforms.swift) against, transform by transform.
//
// Matrices are arrays of rows. Tile t of an image is tile row ty = t / TX, tile column
// tx = t % TX, with TY = ⌈OH/2⌉ and TX = ⌈OW/2⌉ tiles; it produces outputs 2ty ..< 2ty + 2 by
// 2tx ..< 2tx + 2 from padded inputs 2ty ..< 2ty + 4 by 2tx ..< 2tx + 4.
import NNCore

/// The transform matrices of F(2×2, 3×3), Bᵀ, G and Aᵀ, as Lavin & Gray (2015) print them.
public enum WinogradMatrices {
    /// Bᵀ (4×4), the input transform: V = Bᵀ d B.
    public static let bT: [[Double]] = [
        [1, 0, -1, 0],
        [0, 1, 1, 0],
        [0, -1, 1, 0],
        [0, 1, 0, -1],
    ]
    /// G (4×3), the weight transform: U = G g Gᵀ.
    public static let g: [[Double]] = [
        [1, 0, 0],
        [0.5, 0.5, 0.5],
        [0.5, -0.5, 0.5],
        [0, 0, 1],
    ]
    /// Aᵀ (2×4), the output transform: Y = Aᵀ M A.
    public static let aT: [[Double]] = [
        [1, 1, 1, 0],
        [0, 1, -1, -1],
    ]
}

/// The matrix product a·b of an m×k and a k×n matrix (arrays of rows), each entry summed over k in
/// order, in Double.
public func matrixProduct(_ a: [[Double]], _ b: [[Double]]) -> [[Double]] {
    let (m, k, n) = (a.count, b.count, b[0].count)
    precondition(a.allSatisfy { $0.count == k }, "matrixProduct: \(a.count)×\(a[0].count) by \(k)×\(n)")
    return (0..<m).map { i in
        (0..<n).map { j in
            var sum = 0.0
            for l in 0..<k { sum += a[i][l] * b[l][j] }
            return sum
        }
    }
}

/// The transpose of a matrix given as an array of rows.
public func transposed(_ a: [[Double]]) -> [[Double]] {
    (0..<a[0].count).map { j in a.map { $0[j] } }
}

// MARK: - One tile

/// U = G g Gᵀ: the 4×4 Winograd-domain form of one 3×3 kernel g.
public func naiveWinogradWeightTransform(_ g: [[Double]]) -> [[Double]] {
    let G = WinogradMatrices.g
    return matrixProduct(matrixProduct(G, g), transposed(G))
}

/// dW = Gᵀ dU G: the gradient of a 3×3 kernel from the gradient of its 4×4 transform (the adjoint
/// of `naiveWinogradWeightTransform`).
public func naiveWinogradWeightGradient(_ du: [[Double]]) -> [[Double]] {
    let G = WinogradMatrices.g
    return matrixProduct(matrixProduct(transposed(G), du), G)
}

/// V = Bᵀ d B: the 4×4 Winograd-domain form of one 4×4 input tile d.
public func naiveWinogradInputTransform(_ d: [[Double]]) -> [[Double]] {
    let bT = WinogradMatrices.bT
    return matrixProduct(matrixProduct(bT, d), transposed(bT))
}

/// dX = B dV Bᵀ: the gradient of a 4×4 input tile from the gradient of its transform (the adjoint
/// of `naiveWinogradInputTransform`).
public func naiveWinogradGradInputTransform(_ dv: [[Double]]) -> [[Double]] {
    let bT = WinogradMatrices.bT
    return matrixProduct(matrixProduct(transposed(bT), dv), bT)
}

/// Y = Aᵀ M A: the 2×2 output tile from its 4×4 Winograd-domain form M.
public func naiveWinogradOutputTransform(_ m: [[Double]]) -> [[Double]] {
    let aT = WinogradMatrices.aT
    return matrixProduct(matrixProduct(aT, m), transposed(aT))
}

/// dM = A dY Aᵀ: the gradient of M from that of its 2×2 output tile (the adjoint of
/// `naiveWinogradOutputTransform`).
public func naiveWinogradGradOutputTransform(_ dy: [[Double]]) -> [[Double]] {
    let aT = WinogradMatrices.aT
    return matrixProduct(matrixProduct(transposed(aT), dy), aT)
}

// MARK: - One image

/// Tile rows ⌈OH/2⌉ and tile columns ⌈OW/2⌉ of the convolution `g`.
public func naiveWinogradTileCounts(_ g: Conv2dGeometry) -> (rows: Int, columns: Int) {
    ((g.outputHeight + 1) / 2, (g.outputWidth + 1) / 2)
}

/// V for every input tile of one C×H×W image: result[c][t] = Bᵀ d B, d the 4×4 tile t of channel
/// c read from input rows 2ty − padding ..< 2ty − padding + 4 (and the same for columns), zero
/// outside the image. `g` must be 3×3 with stride 1.
public func naiveWinogradInputTiles(image: [Float], geometry g: Conv2dGeometry) -> [[[[Double]]]] {
    precondition(image.count == g.inputImageSize)
    let (ty, tx) = naiveWinogradTileCounts(g)
    let (h, w, p) = (g.inputHeight, g.inputWidth, g.padding)
    return (0..<g.inChannels).map { c in
        (0..<(ty * tx)).map { t in
            let d = (0..<4).map { i in
                (0..<4).map { j -> Double in
                    let y = 2 * (t / tx) - p + i, x = 2 * (t % tx) - p + j
                    return y >= 0 && y < h && x >= 0 && x < w ? Double(image[(c * h + y) * w + x]) : 0
                }
            }
            return naiveWinogradInputTransform(d)
        }
    }
}

/// One O×OH×OW output image from the Winograd-domain tiles m[o][t] (4×4 each): output tile t of
/// channel o is Aᵀ m[o][t] A + bias[o], then max(·, 0) when `relu`; the outputs of the last tile
/// row or column that fall past OH or OW are dropped.
public func naiveWinogradOutputImage(
    tiles m: [[[[Double]]]], bias: [Float], relu: Bool, geometry g: Conv2dGeometry
) -> [Float] {
    let (_, tx) = naiveWinogradTileCounts(g)
    let (oh, ow) = (g.outputHeight, g.outputWidth)
    var image = [Float](repeating: .nan, count: g.outputImageSize)
    for o in 0..<g.outChannels {
        for (t, tile) in m[o].enumerated() {
            let y = naiveWinogradOutputTransform(tile)
            for r in 0..<2 {
                for s in 0..<2 {
                    let (row, column) = (2 * (t / tx) + r, 2 * (t % tx) + s)
                    guard row < oh && column < ow else { continue }
                    let value = y[r][s] + Double(bias[o])
                    image[(o * oh + row) * ow + column] = Float(relu ? max(value, 0) : value)
                }
            }
        }
    }
    return image
}

/// dM for every output tile of one O×OH×OW output gradient: result[o][t] = A dy Aᵀ, dy the 2×2
/// tile t of channel o, zero past OH or OW.
public func naiveWinogradGradOutputTiles(gradOutput: [Float], geometry g: Conv2dGeometry) -> [[[[Double]]]] {
    precondition(gradOutput.count == g.outputImageSize)
    let (ty, tx) = naiveWinogradTileCounts(g)
    let (oh, ow) = (g.outputHeight, g.outputWidth)
    return (0..<g.outChannels).map { o in
        (0..<(ty * tx)).map { t in
            let dy = (0..<2).map { r in
                (0..<2).map { s -> Double in
                    let (row, column) = (2 * (t / tx) + r, 2 * (t % tx) + s)
                    return row < oh && column < ow ? Double(gradOutput[(o * oh + row) * ow + column]) : 0
                }
            }
            return naiveWinogradGradOutputTransform(dy)
        }
    }
}

/// The input gradient of one C×H×W image from the Winograd-domain gradients dv[c][t] (4×4 each):
/// B dv[c][t] Bᵀ of every tile added at the inputs the tile covers (overlapping tiles add up), the
/// values that fall on the padding dropped. The adjoint of `naiveWinogradInputTiles`.
public func naiveWinogradGradInputImage(tiles dv: [[[[Double]]]], geometry g: Conv2dGeometry) -> [Double] {
    let (_, tx) = naiveWinogradTileCounts(g)
    let (h, w, p) = (g.inputHeight, g.inputWidth, g.padding)
    var image = [Double](repeating: 0, count: g.inputImageSize)
    for c in 0..<g.inChannels {
        for (t, tile) in dv[c].enumerated() {
            let dx = naiveWinogradGradInputTransform(tile)
            for i in 0..<4 {
                for j in 0..<4 {
                    let y = 2 * (t / tx) - p + i, x = 2 * (t % tx) - p + j
                    if y >= 0 && y < h && x >= 0 && x < w { image[(c * h + y) * w + x] += dx[i][j] }
                }
            }
        }
    }
    return image
}
