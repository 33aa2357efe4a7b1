// Winograd F(2×2, 3×3) convolution + ReLU + 2×2 max pool in one pass, forward and backward: with an
// even output size each 2×2 output tile is one pool window, so the output transform keeps only each
// tile's maximum and the backward pass builds dM straight from the pooled gradient.
import CKernels

/// Convolution, ReLU and a 2×2, stride-2 max pool in one pass, for a 3×3 stride-1 convolution with
/// an even output size: each Winograd tile is one pool window, so the convolution's output is never
/// written out.
///
/// `input` N·C·H·W, `weight` O·C·3·3, `bias` O; writes `pooled` N·O·(OH/2)·(OW/2) and `indices`
/// (same count), each window's first maximum's offset in its OH×OW plane, as `maxPool2dForward`
/// gives them. `workspace` and `transformedWeight` as for `conv2dForward`. Programming errors
/// (precondition): a geometry Winograd does not support, or an odd output size. Matches
/// `torch.nn.functional.max_pool2d(relu(conv2d(input, weight, bias, padding)), 2, 2, return_indices=True)`,
/// with values equal to `conv2dForward(..., algorithm: .winograd)` followed by `maxPool2dForward`.
public func conv2dReLUMaxPool2x2Forward(
    input: UnsafePointer<Float>, batch: Int, geometry g: Conv2dGeometry,
    weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
    pooled: UnsafeMutablePointer<Float>, indices: UnsafeMutablePointer<Int32>,
    workspace: UnsafeMutablePointer<Float>, transformedWeight: UnsafePointer<Float>? = nil
) {
    checkFusedPoolGeometry(g, "conv2dReLUMaxPool2x2Forward")
    winogradConv2dForward(
        input: input, batch: batch, geometry: g, weight: weight, bias: bias, output: nil,
        workspace: workspace, fuseReLU: true, pool: WinogradPoolTarget(output: pooled, indices: indices),
        transformedWeight: transformedWeight)
}

/// The backward pass of `conv2dReLUMaxPool2x2Forward`: routes each pooled gradient to its window's
/// maximum, masks it by ReLU (zero where the pooled value is ≤ 0) and runs the convolution's
/// backward, without ever writing the OH×OW output gradient.
///
/// `gradPooled`, `pooled` and `indices` are N·O·(OH/2)·(OW/2): the gradient of the pooled output and
/// what the forward pass wrote. `gradWeight` O·C·3·3 and `gradBias` O are **added to**; `gradInput`,
/// N·C·H·W, is overwritten (nil to skip it), masked by `gradInputReLUOutput > 0` when that is given;
/// `workspace` and `transformedWeight` as for `conv2dBackward` with `.winograd`. Programming errors (precondition): as for `conv2dReLUMaxPool2x2Forward`. Matches
/// the gradients PyTorch's autograd gives for
/// `max_pool2d(relu(conv2d(input, weight, bias)), 2, 2)`; equal to `maxPool2dBackward`, then
/// ReLU's mask, then `conv2dBackward(..., algorithm: .winograd)`, bit for bit but for the order in
/// which `gradBias` is summed.
public func conv2dReLUMaxPool2x2Backward(
    input: UnsafePointer<Float>, batch: Int, geometry g: Conv2dGeometry, weight: UnsafePointer<Float>,
    gradPooled: UnsafePointer<Float>, pooled: UnsafePointer<Float>, indices: UnsafePointer<Int32>,
    gradWeight: UnsafeMutablePointer<Float>, gradBias: UnsafeMutablePointer<Float>,
    gradInput: UnsafeMutablePointer<Float>?, gradInputReLUOutput: UnsafePointer<Float>? = nil,
    workspace: UnsafeMutablePointer<Float>, transformedWeight: UnsafePointer<Float>? = nil
) {
    checkFusedPoolGeometry(g, "conv2dReLUMaxPool2x2Backward")
    winogradConv2dBackward(
        input: input, batch: batch, geometry: g, weight: weight,
        gradOutput: .pool(WinogradPoolGradient(gradient: gradPooled, pooled: pooled, indices: indices)),
        gradWeight: gradWeight, gradBias: gradBias, gradInput: gradInput, gradInputReLUOutput: gradInputReLUOutput,
        workspace: workspace, transformedWeight: transformedWeight)
}

/// The fused convolution + ReLU + pool's programming errors: a geometry Winograd does not support,
/// or an odd output size (whose last row or column of tiles would straddle two pool windows).
private func checkFusedPoolGeometry(_ g: Conv2dGeometry, _ function: String) {
    precondition(Conv2dAlgorithm.winograd.supports(g), "\(function) needs a 3×3 stride-1 convolution")
    precondition(g.outputHeight % 2 == 0 && g.outputWidth % 2 == 0,
                 "\(function) needs an even output size, got \(g.outputHeight)×\(g.outputWidth)")
}

/// Where a fused 2×2 max pool writes: per image O·TY·TX maxima and their offsets in the O×OH×OW
/// output plane (as `maxPool2dForward` writes them), images one after another. `package` because
/// `winogradOutputTransform` takes one.
package struct WinogradPoolTarget {
    let output: UnsafeMutablePointer<Float>
    let indices: UnsafeMutablePointer<Int32>

    /// Maxima at `output`, their offsets at `indices` (`package` for the tests).
    package init(output: UnsafeMutablePointer<Float>, indices: UnsafeMutablePointer<Int32>) {
        self.output = output
        self.indices = indices
    }

    /// The target of image `n`, each image holding `size` maxima.
    package func image(_ n: Int, size: Int) -> WinogradPoolTarget {
        WinogradPoolTarget(output: output + n * size, indices: indices + n * size)
    }
}

/// Writes each tile's top-left output offset, 2·ty·OW + 2·tx, into `corners` for tiles
/// 0..<`count` (tiles past the image continue the pattern). With the fused pool a tile is a pool
/// window, and these are the offsets its maximum's index is counted from.
func winogradTileCorners(_ tiles: WinogradTiles, outputWidth ow: Int, into corners: UnsafeMutablePointer<Int32>, count: Int) {
    for t in 0..<count { corners[t] = Int32(2 * (t / tiles.columns) * ow + 2 * (t % tiles.columns)) }
}

/// Max over each tile's four outputs (plus bias, ReLU), first maximum in row-major order winning
/// ties: the same values and indices `maxPool2x2Forward` gives on the written-out image (but for a
/// maximum of −0 without ReLU, written as +0). The last, partial group of four tiles goes through
/// a scratch buffer: storing single lanes would have the compiler do the whole loop in scalars.
@inline(__always)
func winogradPoolTiles(
    _ y00: UnsafePointer<Float>, _ y01: UnsafePointer<Float>, _ y10: UnsafePointer<Float>, _ y11: UnsafePointer<Float>,
    count: Int, offsets: UnsafePointer<Int32>, outputWidth ow: Int, bias: Float, relu: Bool,
    output: UnsafeMutablePointer<Float>, indices: UnsafeMutablePointer<Int32>
) {
    let b = SIMD4<Float>(repeating: bias)
    let w = Int32(ow)
    withUnsafeTemporaryAllocation(byteCount: 16, alignment: 16) { tailScratch in
    let tail = tailScratch.baseAddress!
    var t = 0
    while t < count {
        @inline(__always) func value(_ p: UnsafePointer<Float>) -> SIMD4<Float> {
            let v = load4(p + t) + b
            return relu ? relu4(v) : v + 0  // + 0 turns −0 into +0, for `lessMask`
        }
        let first = UnsafeRawPointer(offsets + t).loadUnaligned(as: SIMD4<Int32>.self)
        var best = value(y00), index = first
        @inline(__always) func consider(_ candidate: SIMD4<Float>, _ offset: Int32) {
            let better = lessMask(best, candidate)
            best = select(better, candidate, best)
            index = select(better, first &+ offset, index)
        }
        consider(value(y01), 1)
        consider(value(y10), w)
        consider(value(y11), w + 1)
        if count - t >= 4 {
            store4(best, output + t)
            UnsafeMutableRawPointer(indices + t).storeBytes(of: index, as: SIMD4<Int32>.self)
        } else {
            storeLanes(best, count: count - t, to: output + t, scratch: tail)
            storeLanes(index, count: count - t, to: indices + t, scratch: tail)
        }
        t += 4
    }
    }
}

/// The pool's side of a fused convolution + ReLU + 2×2 max pool in the backward pass: per image
/// O·TY·TX gradients of the pooled outputs, the pooled values (for ReLU's mask) and the maxima's
/// offsets, as `conv2dReLUMaxPool2x2Forward` wrote them. `package` because
/// `winogradPoolGradOutputTransform` takes one.
package struct WinogradPoolGradient {
    let gradient: UnsafePointer<Float>
    let pooled: UnsafePointer<Float>
    let indices: UnsafePointer<Int32>

    /// The pool gradient whose images start at `gradient`, `pooled` and `indices`.
    package init(gradient: UnsafePointer<Float>, pooled: UnsafePointer<Float>, indices: UnsafePointer<Int32>) {
        (self.gradient, self.pooled, self.indices) = (gradient, pooled, indices)
    }

    /// The pool gradient of image `n`, each image holding `size` pooled values.
    func image(_ n: Int, size: Int) -> WinogradPoolGradient {
        WinogradPoolGradient(gradient: gradient + n * size, pooled: pooled + n * size, indices: indices + n * size)
    }
}

/// dM[ξ][o][column + t] for one image whose output gradient comes through a fused 2×2 max pool and
/// ReLU: tile t is pool window t, so its output gradient dy is zero but at the window's maximum
/// (r, x), where it is the pooled gradient g, or zero where the pooled value is ≤ 0 (ReLU). Then
/// A dy Aᵀ = g · A[·][r] A[·][x]ᵀ, and A's rows being (1, 0), (1, 1), (1, −1), (0, −1), every entry
/// is ±g or 0: the values `winogradGradOutputTransform` gives on the unpooled gradient. Adds each
/// channel's gradient sum to `gradBias`. `width` windows at a time: 4 runs the Swift code below, 8
/// and 16 CKernels' AVX2 and AVX-512 kernels, which give the same values bit for bit (they sum the
/// bias gradient in the same four lanes, then this function adds the lanes up as the Swift code
/// does). Writes up to `width` − 1 columns past the image's last tile (see `winogradLeadingDimension`).
package func winogradPoolGradOutputTransform(
    _ source: WinogradPoolGradient, geometry g: Conv2dGeometry, tiles: WinogradTiles,
    into dm: UnsafeMutablePointer<Float>, ld: Int, column: Int, gradBias: UnsafeMutablePointer<Float>,
    width vectorWidth: Int = WinogradKernels.width
) {
    let (ow, count) = (g.outputWidth, tiles.count)
    if vectorWidth != 4 {
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: count) { table in
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 4 * g.outChannels) { sumScratch in
            let (corners, sums) = (table.baseAddress!, sumScratch.baseAddress!)
            winogradTileCorners(tiles, outputWidth: ow, into: corners, count: count)
            ckernels_winograd_pool_grad_output_transform(
                vectorWidth, source.gradient, source.pooled, source.indices, corners, g.outChannels, count, ow, dm, ld,
                column, sums)
            for o in 0..<g.outChannels { gradBias[o] += load4(sums + 4 * o).sum() }
        }
        }
        return
    }
    let xi = ld
    let width = Int32(ow)
    // Each window's top-left offset in the OH×OW plane, the same for every channel.
    withUnsafeTemporaryAllocation(of: Int32.self, capacity: count + 4) { table in
    withUnsafeTemporaryAllocation(byteCount: 16, alignment: 16) { tailScratch in
    let corners = table.baseAddress!, tail = tailScratch.baseAddress!
    winogradTileCorners(tiles, outputWidth: ow, into: corners, count: count + 4)
    for o in 0..<g.outChannels {
        let (grad, pooled, indices) = (source.gradient + o * count, source.pooled + o * count, source.indices + o * count)
        let out = dm + o * 16 * ld + column
        var sum = SIMD4<Float>()
        // Four windows at a time; in the last, partial group the lanes past the last window are zero.
        @inline(__always) func windows(_ t: Int, _ gv: SIMD4<Float>, _ pv: SIMD4<Float>, _ iv: SIMD4<Int32>) {
            let corner = UnsafeRawPointer(corners + t).loadUnaligned(as: SIMD4<Int32>.self)
            let zero = SIMD4<Float>()
            let gm = select(lessMask(zero, pv), gv, zero)  // the gradient where the pooled value is > 0
            sum += gm
            // The maximum's place in its window: x = 1 for an odd offset (OW is even), r = 1 a row down.
            let delta = iv &- corner
            let right = 0 &- (delta & 1), down = (width &- 1 &- delta) &>> 31  // −1 where x = 1, where r = 1
            // c_j = g · A[j][x]: x = 0 → (g, g, g, 0); x = 1 → (0, g, −g, −g).
            let c = (select(right, zero, gm), gm, select(right, -gm, gm), select(right, -gm, zero))
            @inline(__always) func put(_ i: Int, _ v: (SIMD4<Float>, SIMD4<Float>, SIMD4<Float>, SIMD4<Float>)) {
                let q = out + 4 * i * xi + t
                store4(v.0, q); store4(v.1, q + xi); store4(v.2, q + 2 * xi); store4(v.3, q + 3 * xi)
            }
            // dM[4i + j] = A[i][r] · c_j: r = 0 → (c, c, c, 0); r = 1 → (0, c, −c, −c).
            put(0, (select(down, zero, c.0), select(down, zero, c.1), select(down, zero, c.2), select(down, zero, c.3)))
            put(1, c)
            put(2, (select(down, -c.0, c.0), select(down, -c.1, c.1), select(down, -c.2, c.2), select(down, -c.3, c.3)))
            put(3, (select(down, -c.0, zero), select(down, -c.1, zero), select(down, -c.2, zero), select(down, -c.3, zero)))
        }
        var t = 0
        while count - t >= 4 {
            windows(t, load4(grad + t), load4(pooled + t), UnsafeRawPointer(indices + t).loadUnaligned(as: SIMD4<Int32>.self))
            t += 4
        }
        if t < count {
            let n = count - t
            windows(t, loadLanes(grad + t, count: n, scratch: tail), loadLanes(pooled + t, count: n, scratch: tail),
                    loadLanes(indices + t, count: n, scratch: tail))
        }
        gradBias[o] += sum.sum()
    }
    }
    }
}
