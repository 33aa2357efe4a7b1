// Plain-loop versions of the hot kernels: slow, obviously correct, and the yardstick the fast
// im2col + GEMM paths are tested against element by element.
//
// Shape letters: N batch, C input channels, H×W input, O output channels, kh×kw kernel, OH×OW output.
import NNCore

/// Direct 2-D convolution: (N, C, H, W) ⊛ (O, C, kh, kw) + bias (O) → (N, O, OH, OW), zero padding.
/// Matches `torch.nn.functional.conv2d`; accumulates in Double.
public func naiveConv2d(input: Tensor, weight: Tensor, bias: Tensor, stride s: Int = 1, padding p: Int = 0) -> Tensor {
    let (n, c, h, w) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
    let (o, kh, kw) = (weight.shape[0], weight.shape[2], weight.shape[3])
    let oh = (h + 2 * p - kh) / s + 1, ow = (w + 2 * p - kw) / s + 1
    var out = Tensor(shape: [n, o, oh, ow])
    for b in 0..<n {
        for oc in 0..<o {
            for y in 0..<oh {
                for x in 0..<ow {
                    var acc = Double(bias.scalars[oc])
                    for ic in 0..<c {
                        for ky in 0..<kh {
                            for kx in 0..<kw {
                                let iy = y * s - p + ky, ix = x * s - p + kx
                                guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                                acc += Double(input.scalars[((b * c + ic) * h + iy) * w + ix])
                                    * Double(weight.scalars[((oc * c + ic) * kh + ky) * kw + kx])
                            }
                        }
                    }
                    out.scalars[((b * o + oc) * oh + y) * ow + x] = Float(acc)
                }
            }
        }
    }
    return out
}

/// Direct convolution backward: the gradients of input, weight and bias from gradOutput (N, O, OH, OW),
/// accumulated in Double by scattering each output gradient along the window it came from.
public func naiveConv2dBackward(
    input: Tensor, weight: Tensor, gradOutput: Tensor, stride s: Int = 1, padding p: Int = 0
) -> (gradInput: Tensor, gradWeight: Tensor, gradBias: Tensor) {
    let (n, c, h, w) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
    let (o, kh, kw) = (weight.shape[0], weight.shape[2], weight.shape[3])
    let (oh, ow) = (gradOutput.shape[2], gradOutput.shape[3])
    var gx = [Double](repeating: 0, count: input.count)
    var gw = [Double](repeating: 0, count: weight.count)
    var gb = [Double](repeating: 0, count: o)
    for b in 0..<n {
        for oc in 0..<o {
            for y in 0..<oh {
                for x in 0..<ow {
                    let g = Double(gradOutput.scalars[((b * o + oc) * oh + y) * ow + x])
                    gb[oc] += g
                    for ic in 0..<c {
                        for ky in 0..<kh {
                            for kx in 0..<kw {
                                let iy = y * s - p + ky, ix = x * s - p + kx
                                guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                                let xi = ((b * c + ic) * h + iy) * w + ix
                                let wi = ((oc * c + ic) * kh + ky) * kw + kx
                                gx[xi] += g * Double(weight.scalars[wi])
                                gw[wi] += g * Double(input.scalars[xi])
                            }
                        }
                    }
                }
            }
        }
    }
    return (Tensor(shape: input.shape, scalars: gx.map(Float.init)),
            Tensor(shape: weight.shape, scalars: gw.map(Float.init)),
            Tensor(shape: [o], scalars: gb.map(Float.init)))
}

/// Direct max pooling (no padding, floor mode): the maximum of each window, first maximum on ties,
/// and its gradient routed to that first maximum. Matches `torch.nn.functional.max_pool2d`.
public func naiveMaxPool2d(input: Tensor, kernelSize k: Int, stride s: Int, gradOutput: Tensor? = nil)
    -> (output: Tensor, gradInput: Tensor?)
{
    let (n, c, h, w) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
    let oh = (h - k) / s + 1, ow = (w - k) / s + 1
    var out = Tensor(shape: [n, c, oh, ow])
    var gx = gradOutput.map { _ in Tensor(shape: input.shape) }
    for plane in 0..<(n * c) {
        for y in 0..<oh {
            for x in 0..<ow {
                var best = -Float.infinity, bestIndex = -1
                for ky in 0..<k {
                    for kx in 0..<k {
                        let i = plane * h * w + (y * s + ky) * w + (x * s + kx)
                        if bestIndex < 0 || input.scalars[i] > best { best = input.scalars[i]; bestIndex = i }
                    }
                }
                let oi = plane * oh * ow + y * ow + x
                out.scalars[oi] = best
                if let g = gradOutput { gx!.scalars[bestIndex] += g.scalars[oi] }
            }
        }
    }
    return (out, gx)
}

/// Direct fully connected layer: input (N, I) · weight (O, I)ᵀ + bias (O), accumulated in Double.
/// Matches `torch.nn.functional.linear`.
public func naiveLinear(input: Tensor, weight: Tensor, bias: Tensor) -> Tensor {
    let (n, i, o) = (input.shape[0], input.shape[1], weight.shape[0])
    var out = Tensor(shape: [n, o])
    for r in 0..<n {
        for c in 0..<o {
            var acc = Double(bias.scalars[c])
            for k in 0..<i { acc += Double(input.scalars[r * i + k]) * Double(weight.scalars[c * i + k]) }
            out.scalars[r * o + c] = Float(acc)
        }
    }
    return out
}

/// A tensor of `shape` with values uniform in `[lower, upper)` from a seeded generator.
public func randomTensor(_ shape: [Int], seed: UInt64, lower: Float = -1, upper: Float = 1) -> Tensor {
    var rng = SplitMix64(seed: seed)
    let count = shape.reduce(1, *)
    return Tensor(shape: shape, scalars: (0..<count).map { _ in rng.nextUniform(lower, upper) })
}

/// Central finite differences of a scalar function: `(f(x + eps·eᵢ) − f(x − eps·eᵢ)) / 2eps` for
/// every element i. `f` is evaluated in Double so only the op's own Float rounding adds noise.
public func numericalGradient(at x: Tensor, eps: Float = 1e-2, _ f: (Tensor) -> Double) -> Tensor {
    var grad = Tensor(shape: x.shape)
    var probe = x
    for i in 0..<x.count {
        let v = x.scalars[i]
        probe.scalars[i] = v + eps
        let plus = f(probe)
        probe.scalars[i] = v - eps
        let minus = f(probe)
        probe.scalars[i] = v
        grad.scalars[i] = Float((plus - minus) / (2 * Double(eps)))
    }
    return grad
}

/// Σ a·b over all elements, in Double: turns a tensor output into a scalar loss for gradient checks
/// (its gradient with respect to `a` is `b`).
public func dot(_ a: Tensor, _ b: Tensor) -> Double {
    precondition(a.count == b.count)
    var s: Double = 0
    for i in 0..<a.count { s += Double(a.scalars[i]) * Double(b.scalars[i]) }
    return s
}

/// Row-major `C = alpha · op(A) · op(B) + beta · C` by three loops, accumulated in Double: the yardstick
/// for `gemm` and its backends. `op(A)` is m×k, `op(B)` k×n, `C` m×n; `lda`, `ldb`, `ldc` are the row
/// strides of A, B and C as stored (A is k×m and B n×k when transposed). Matches BLAS `sgemm` with
/// `CblasRowMajor`; elements of C outside its m×n (past n in a row of ldc) are left as they are.
public func naiveGemm(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
    a: [Float], lda: Int, b: [Float], ldb: Int, beta: Float, c: inout [Float], ldc: Int
) {
    for i in 0..<m {
        for j in 0..<n {
            var sum = 0.0
            for p in 0..<k {
                let x = transA ? a[p * lda + i] : a[i * lda + p]
                let y = transB ? b[j * ldb + p] : b[p * ldb + j]
                sum += Double(x) * Double(y)
            }
            let old = beta == 0 ? 0 : Double(beta) * Double(c[i * ldc + j])  // beta 0 ignores C, NaN too
            c[i * ldc + j] = Float(Double(alpha) * sum + old)
        }
    }
}
