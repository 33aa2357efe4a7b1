// Winograd F(2×2, 3×3) convolution: forward, input gradient and weight gradient.
//
// A 3×3, stride-1 convolution computes each 2×2 block of outputs from a 4×4 block of inputs
// ("tile", tiles overlap by 2). In the Winograd domain that costs 16 products per (o, c) pair instead
// of 36, so 2.25× fewer multiply-adds than im2col + GEMM (Lavin & Gray, "Fast Algorithms for
// Convolutional Neural Networks", 2015):
//
//   Y = Aᵀ [ U ⊙ V ] A,   U = G g Gᵀ (4×4 per kernel),   V = Bᵀ d B (4×4 per input tile),
//
// summed over input channels. Per position ξ of the 4×4 domain this is one GEMM,
// M[ξ] (O×T) = U[ξ] (O×C) · V[ξ] (C×T), over the T tiles of a chunk of images.
//
// The backward pass differentiates these same formulas (it is the exact gradient of the forward
// pass as computed, which equals the convolution's up to rounding):
//   dM = A dY Aᵀ,   dU[ξ] += dM[ξ] · V[ξ]ᵀ,   dV[ξ] = U[ξ]ᵀ · dM[ξ],   dX += B dV Bᵀ (scatter-add),
//   dW = Gᵀ dU G.
//
// Outputs whose count is odd get a last tile half outside the output; the input it reads past the
// image is zero and the outputs past the output are dropped (their gradient is zero).
//
// The weight gradient's GEMM runs as dM[ξ] · Vt with Vt = V[ξ]ᵀ (T×C) copied out one ξ at a time
// (`winogradTransposeTiles`): a plain `nn` GEMM, which OpenBLAS runs faster than the `transB` one.
//
// Layouts: U and dU are [16][O][C]; V and dV are [C][16][ld], M and dM are [O][16][ld], with
// tile t of image j at column j·T + t, t = ty·TX + tx, and ld = T · images in the chunk + 4: the
// spare columns let every transform store four tiles at a time (see `winogradLeadingDimension`).
// Keeping a channel's 16 rows together keeps the transforms' 16 read or write streams within a few
// pages; the GEMM for ξ then reads V[·][ξ] and writes M[·][ξ] with a row stride of 16·ld.

/// How a 2-D convolution is computed. Both give `torch.nn.functional.conv2d`'s result up to float
/// rounding (PyTorch picks among its own algorithms the same way, invisibly).
public enum Conv2dAlgorithm: String, Sendable, CaseIterable, Codable {
    /// Unfold windows into a column matrix and multiply by the weight: one GEMM of O×CKK by CKK×P.
    /// Works for every geometry.
    case im2col
    /// Winograd F(2×2, 3×3): 16 GEMMs of O×C by C×(P/4), 2.25× fewer multiply-adds. Only for
    /// 3×3 kernels with stride 1 (any padding).
    case winograd

    /// Whether this algorithm can compute the convolution `g`.
    public func supports(_ g: Conv2dGeometry) -> Bool {
        switch self {
        case .im2col: return true
        case .winograd: return g.kernelHeight == 3 && g.kernelWidth == 3 && g.stride == 1
        }
    }

    /// The faster algorithm for `g` on `batch` images at a time: Winograd for 3×3 stride-1 kernels
    /// over at least 8 input channels, im2col otherwise (with fewer channels Winograd's GEMMs are too
    /// thin to pay for its transforms). For small outputs (under 100 positions: the network's 9×9,
    /// 7×7 and 5×5 layers) Winograd only from 16 images on: below that its per-call weight transform
    /// costs more than it saves (single-image latency). BENCHMARKS.md times each layer both ways.
    public static func preferred(for g: Conv2dGeometry, batch: Int) -> Conv2dAlgorithm {
        guard Conv2dAlgorithm.winograd.supports(g) && g.inChannels >= 8 else { return .im2col }
        return g.outputPlane >= 100 || batch >= 16 ? .winograd : .im2col
    }
}

/// Tile counts of a Winograd F(2×2, 3×3) convolution: ⌈OH/2⌉ × ⌈OW/2⌉ tiles per image.
struct WinogradTiles {
    let rows: Int, columns: Int
    var count: Int { rows * columns }
    init(_ g: Conv2dGeometry) {
        rows = (g.outputHeight + 1) / 2
        columns = (g.outputWidth + 1) / 2
    }
}

/// Row length (ld) of a chunk's V, dV, M and dM holding `columns` tiles: 4 more than the tiles.
/// The transforms always store four neighbouring tiles at once; a row of tiles whose count is not a
/// multiple of 4 writes up to 3 values past its end, onto the next row's tiles (written after it)
/// or, at the chunk's end, onto these spare columns, which the GEMMs never read.
@inline(__always)
func winogradLeadingDimension(columns: Int) -> Int { columns + 4 }

/// Offset in floats of the chunk beginning at image `first` (a multiple of `chunk`) within kept
/// transformed input: the chunks' [C][16][ld] blocks lie one after another.
@inline(__always)
func winogradKeptOffset(first: Int, chunk: Int, geometry g: Conv2dGeometry) -> Int {
    let spare = winogradLeadingDimension(columns: 0)
    return 16 * g.inChannels * (first * WinogradTiles(g).count + first / chunk * spare)
}

/// Floats of kept transformed input for `batch` images: every chunk's [C][16][ld] block.
func winogradKeptSize(geometry g: Conv2dGeometry, batch: Int) -> Int {
    let chunk = winogradChunkSize(geometry: g, batch: batch)
    let chunks = (batch + chunk - 1) / chunk, spare = winogradLeadingDimension(columns: 0)
    return 16 * g.inChannels * (batch * WinogradTiles(g).count + chunks * spare)
}

/// Images per Winograd chunk (one set of 16 GEMMs): the transformed input and output tiles of one
/// chunk, 16·T·(C + O) floats per image, stay near `budget` floats; at least 1, at most `batch`.
/// The batch is cut into as few chunks as that allows, as even as whole images allow (16 images
/// with room for 14 make 8 + 8, not 14 + 2, whose second chunk would make 16 thin GEMMs).
/// A tuning choice with no PyTorch counterpart; it changes speed, not results beyond rounding.
/// The default budget, 2¹⁸ floats (1 MiB), measured best among 2¹⁷…2²⁰ on a 2 MiB-L2 Xeon and
/// no worse than 2¹⁷ or 2¹⁹ on a 1 MiB-L2 EPYC.
public func winogradChunkSize(geometry g: Conv2dGeometry, batch: Int, budget: Int = 1 << 18) -> Int {
    evenChunk(batch: batch, most: winogradLargestChunk(geometry: g, batch: batch, budget: budget))
}

/// The most images a Winograd chunk of `batch` holds: `budget` / (16·T·(C + O)), at least 1.
func winogradLargestChunk(geometry g: Conv2dGeometry, batch: Int, budget: Int = 1 << 18) -> Int {
    let perImage = 16 * WinogradTiles(g).count * (g.inChannels + g.outChannels)
    return max(1, min(batch, budget / max(1, perImage)))
}

/// Floats of workspace the Winograd path needs: U, dU, one chunk's V and M, and one ξ of V
/// transposed (ld·C, for the weight gradient), for the largest chunk any batch up to `batch` makes.
func winogradWorkspaceSize(geometry g: Conv2dGeometry, batch: Int) -> Int {
    let chunk = winogradLargestChunk(geometry: g, batch: batch)
    let ld = winogradLeadingDimension(columns: WinogradTiles(g).count * chunk)
    return 2 * winogradTransformedWeightSize(geometry: g) + 16 * ld * (g.inChannels + g.outChannels) + ld * g.inChannels
}

// MARK: - Transforms

/// Floats of a convolution's Winograd-transformed weight (U = G g Gᵀ per kernel): 16·O·C.
/// No PyTorch counterpart (PyTorch's CPU convolutions do not expose Winograd).
public func winogradTransformedWeightSize(geometry g: Conv2dGeometry) -> Int {
    16 * g.outChannels * g.inChannels
}

/// Writes the Winograd-transformed weight of `weight` (OIHW, 3×3) into `transformed`
/// (`winogradTransformedWeightSize` floats, layout [16][O][C]). `conv2dForward` and `conv2dBackward`
/// compute it on every Winograd call; compute it once here and pass it as `transformedWeight` when
/// many calls share one weight (the pieces of a batch). The values are the same either way.
/// Programming error (precondition): a kernel other than 3×3. No PyTorch counterpart; U follows
/// Lavin & Gray's G = [[1, 0, 0], [½, ½, ½], [½, −½, ½], [0, 0, 1]].
public func winogradTransformWeight(
    _ weight: UnsafePointer<Float>, geometry g: Conv2dGeometry, into transformed: UnsafeMutablePointer<Float>
) {
    precondition(g.kernelHeight == 3 && g.kernelWidth == 3, "Winograd F(2×2, 3×3) needs a 3×3 kernel")
    winogradWeightTransform(weight, outChannels: g.outChannels, inChannels: g.inChannels, into: transformed)
}

/// U[ξ][o][c] = (G g Gᵀ)[ξ] for every 3×3 kernel g = weight[o, c] (OIHW). Four kernels at a time,
/// one per SIMD lane: U's 16 rows are then written four floats at a time (the last group of
/// fewer than four kernels lane by lane).
func winogradWeightTransform(
    _ weight: UnsafePointer<Float>, outChannels o: Int, inChannels c: Int, into u: UnsafeMutablePointer<Float>
) {
    let stride = o * c
    withUnsafeTemporaryAllocation(byteCount: 16, alignment: 16) { laneScratch in
    let lanes = laneScratch.baseAddress!
    var k = 0
    while k < stride {
        let count = min(4, stride - k)
        let w = weight + k * 9
        // Entry q of the kernels k ..< k + count, one per lane (zero past `count`).
        @inline(__always) func entry(_ q: Int) -> SIMD4<Float> {
            if count == 4 { return SIMD4(w[q], w[9 + q], w[18 + q], w[27 + q]) }
            var v = SIMD4<Float>()
            for l in 0..<count { v[l] = w[9 * l + q] }
            return v
        }
        @inline(__always) func put(_ xi: Int, _ v: SIMD4<Float>) {
            if count == 4 { store4(v, u + xi * stride + k) } else { storeLanes(v, count: count, to: u + xi * stride + k, scratch: lanes) }
        }
        // t = G g (4×3), one column x of g at a time: (g0, ½(g0 + g1 + g2), ½(g0 − g1 + g2), g2).
        @inline(__always) func gColumn(_ x: Int) -> (SIMD4<Float>, SIMD4<Float>, SIMD4<Float>, SIMD4<Float>) {
            let (g0, g1, g2) = (entry(x), entry(3 + x), entry(6 + x))
            return (g0, 0.5 * (g0 + g1 + g2), 0.5 * (g0 - g1 + g2), g2)
        }
        let t0 = gColumn(0), t1 = gColumn(1), t2 = gColumn(2)  // t0.i = t[i][0]
        // U = t Gᵀ, one row i of t = (a, b, c) at a time: (a, ½(a + b + c), ½(a − b + c), c).
        @inline(__always) func row(_ i: Int, _ a: SIMD4<Float>, _ b: SIMD4<Float>, _ c: SIMD4<Float>) {
            put(4 * i, a); put(4 * i + 1, 0.5 * (a + b + c)); put(4 * i + 2, 0.5 * (a - b + c)); put(4 * i + 3, c)
        }
        row(0, t0.0, t1.0, t2.0)
        row(1, t0.1, t1.1, t2.1)
        row(2, t0.2, t1.2, t2.2)
        row(3, t0.3, t1.3, t2.3)
        k += 4
    }
    }
}

/// gradWeight[o, c] += Gᵀ dU[·][o][c] G, the weight gradient from the Winograd-domain one. Four
/// kernels at a time, one per SIMD lane, so that dU's 16 rows are read four floats at a time.
func winogradWeightGradient(
    _ du: UnsafePointer<Float>, outChannels o: Int, inChannels c: Int, addingTo gradWeight: UnsafeMutablePointer<Float>
) {
    let stride = o * c
    withUnsafeTemporaryAllocation(of: SIMD4<Float>.self, capacity: 9) { blockScratch in
    withUnsafeTemporaryAllocation(byteCount: 16, alignment: 16) { laneScratch in
    let (block, lanes) = (blockScratch.baseAddress!, laneScratch.baseAddress!)
    var k = 0
    while k < stride {
        let count = min(4, stride - k)
        @inline(__always) func load(_ xi: Int) -> SIMD4<Float> {
            count == 4 ? load4(du + xi * stride + k) : loadLanes(du + xi * stride + k, count: count, scratch: lanes)
        }
        // t = Gᵀ dU (3×4), one column j of dU at a time: (m0 + ½(m1 + m2), ½(m1 − m2), ½(m1 + m2) + m3).
        @inline(__always) func column(_ j: Int) -> (SIMD4<Float>, SIMD4<Float>, SIMD4<Float>) {
            let (m0, m1, m2, m3) = (load(j), load(4 + j), load(8 + j), load(12 + j))
            return (m0 + 0.5 * (m1 + m2), 0.5 * (m1 - m2), 0.5 * (m1 + m2) + m3)
        }
        let t0 = column(0), t1 = column(1), t2 = column(2), t3 = column(3)  // t0.i = t[i][0]
        // dW = t G, one row i of t = (a, b, c, d) at a time: (a + ½(b + c), ½(b − c), ½(b + c) + d).
        @inline(__always) func row(_ i: Int, _ a: SIMD4<Float>, _ b: SIMD4<Float>, _ c: SIMD4<Float>, _ d: SIMD4<Float>) {
            block[3 * i] = a + 0.5 * (b + c)
            block[3 * i + 1] = 0.5 * (b - c)
            block[3 * i + 2] = 0.5 * (b + c) + d
        }
        row(0, t0.0, t1.0, t2.0, t3.0)
        row(1, t0.1, t1.1, t2.1, t3.1)
        row(2, t0.2, t1.2, t2.2, t3.2)
        // Lane l of block[q] is entry q of kernel k + l.
        let g = gradWeight + k * 9
        for l in 0..<count {
            for q in 0..<9 { g[9 * l + q] += block[q][l] }
        }
        k += 4
    }
    }
    }
}

// The four tile transforms below work on four tiles at once (SIMD4 lanes = neighbouring tiles of
// one row of tiles). Tile tx reads input columns 2·tx ... 2·tx + 3: eight contiguous floats from
// column 2·tx hold four tiles' even columns (E[t] = column 2t, the even half) and odd ones (the odd
// half), and eight more from column 2·tx + 2 hold E[t + 1] and O[t + 1].

@inline(__always) private func load4(_ p: UnsafePointer<Float>) -> SIMD4<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD4<Float>.self)
}

@inline(__always) private func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

/// Stores the four lanes of `v` at `p`.
@inline(__always) private func store4(_ v: SIMD4<Float>, _ p: UnsafeMutablePointer<Float>) {
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

/// Points `rows[r]`, for r in 0..<count, at padded row r of a plane (plane row r − pad, columns
/// shifted right by `pad`), from which `width` + 8 floats may be read; the first `width` are the
/// padded row's, zero outside the plane, the other 8 are slack for the last group's spare lanes.
/// A row the tiles read in place (no padding, `width` ≤ w, and the slack still inside the plane: it
/// is the next row's start) is used where it lies; any other is copied into `scratch` (count rows
/// of `width` + 8 floats, zeroed by the caller before the first call and only ever written at the
/// same columns).
@inline(__always)
private func paddedRows(
    _ plane: UnsafePointer<Float>, h: Int, w: Int, pad: Int, width: Int, count: Int,
    scratch: UnsafeMutablePointer<Float>, into rows: UnsafeMutablePointer<UnsafePointer<Float>>
) {
    for r in 0..<count {
        let y = r - pad
        if pad == 0 && width <= w && y >= 0 && y * w + width + 8 <= h * w {
            rows[r] = plane + y * w
            continue
        }
        let copy = scratch + r * (width + 8)
        if y >= 0 && y < h {
            let row = plane + y * w - pad
            for x in max(0, pad)..<min(width, w + pad) { copy[x] = row[x] }
        }
        rows[r] = UnsafePointer(copy)
    }
}

/// Calls `body(p, rows)` for each of `count` h×w planes at `planes`, in order, `rows` pointing at
/// plane p's `rows` padded rows as `paddedRows` lays them out (`width` + 8 floats readable each).
/// Two sets of rows, for even and odd planes: plane p + 1's rows are copied before `body` runs on
/// plane p, so the copies have drained to the cache before 8-wide reads straddle them (a read
/// spanning two recent stores waits for both).
@inline(__always)
private func forEachPaddedPlane(
    _ planes: UnsafePointer<Float>, count: Int, h: Int, w: Int, pad: Int, width: Int, rows: Int,
    _ body: (Int, UnsafePointer<UnsafePointer<Float>>) -> Void
) {
    withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: 2 * rows) { rowScratch in
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * rows * (width + 8)) { scratch in
        let (base, pointers) = (scratch.baseAddress!, rowScratch.baseAddress!)
        base.initialize(repeating: 0, count: 2 * rows * (width + 8))
        @inline(__always) func prepare(_ p: Int) {
            let set = p & 1
            paddedRows(
                planes + p * h * w, h: h, w: w, pad: pad, width: width, count: rows,
                scratch: base + set * rows * (width + 8), into: pointers + set * rows)
        }
        prepare(0)
        for p in 0..<count {
            if p + 1 < count { prepare(p + 1) }
            body(p, UnsafePointer(pointers + (p & 1) * rows))
        }
    }
    }
}

/// V[ξ][c][column + t] = (Bᵀ d B)[ξ] for every 4×4 input tile d of one CHW image (zero outside it).
/// Writes up to 3 columns past the image's last tile (see `winogradLeadingDimension`).
func winogradInputTransform(
    _ image: UnsafePointer<Float>, geometry g: Conv2dGeometry, tiles: WinogradTiles,
    into v: UnsafeMutablePointer<Float>, ld: Int, column: Int
) {
    let (h, w, pad, tx) = (g.inputHeight, g.inputWidth, g.padding, tiles.columns)
    let xi = ld  // distance between two ξ rows of one channel
    let rows = 2 * tiles.rows + 2  // padded input rows the tiles read: −pad ..< 2·TY + 2 − pad
    let width = 2 * tx + 2  // padded input columns they read
    forEachPaddedPlane(image, count: g.inChannels, h: h, w: w, pad: pad, width: width, rows: rows) { c, row in
        for ty in 0..<tiles.rows {
            let out = v + c * 16 * ld + column + ty * tx
            var t = 0
            while t < tx {
                // Columns (d B) of each row i: (e0 − e1, o0 + e1, e1 − o0, o0 − o1).
                @inline(__always) func columns(_ i: Int) -> (SIMD4<Float>, SIMD4<Float>, SIMD4<Float>, SIMD4<Float>) {
                    let p = row[2 * ty + i] + 2 * t
                    let a = load8(p), b = load8(p + 2)
                    let e0 = a.evenHalf, o0 = a.oddHalf, e1 = b.evenHalf, o1 = b.oddHalf
                    return (e0 - e1, o0 + e1, e1 - o0, o0 - o1)
                }
                @inline(__always) func put(_ k: Int, _ a: SIMD4<Float>, _ b: SIMD4<Float>, _ c: SIMD4<Float>, _ d: SIMD4<Float>) {
                    let q = out + 4 * k * xi + t
                    store4(a, q); store4(b, q + xi); store4(c, q + 2 * xi); store4(d, q + 3 * xi)
                }
                // Rows (Bᵀ ·): (r0 − r2, r1 + r2, r2 − r1, r1 − r3), in an order that keeps at
                // most three rows' columns live (12 of the 16 SSE registers).
                let r1 = columns(1), r2 = columns(2)
                put(1, r1.0 + r2.0, r1.1 + r2.1, r1.2 + r2.2, r1.3 + r2.3)
                put(2, r2.0 - r1.0, r2.1 - r1.1, r2.2 - r1.2, r2.3 - r1.3)
                let r0 = columns(0)
                put(0, r0.0 - r2.0, r0.1 - r2.1, r0.2 - r2.2, r0.3 - r2.3)
                let r3 = columns(3)
                put(3, r1.0 - r3.0, r1.1 - r3.1, r1.2 - r3.2, r1.3 - r3.3)
                t += 4
            }
        }
    }
}

/// Writes V[·][ξ]ᵀ, the `columns` tiles of one ξ of V ([C][16][ld], `v` pointing at channel 0's row
/// ξ, channel rows `rowStride` floats apart) as a row-major tiles × C matrix into `vt`, whose
/// rows are C floats. Four tiles and four channels at a time (a 4×4 transpose in registers); the
/// last group of tiles writes up to 3 rows past `columns`, so `vt` holds (`columns` + 3)·C floats.
/// Channels past the last multiple of 4 are copied one value at a time.
///
/// With it the weight gradient's dU[ξ] += dM[ξ] · V[ξ]ᵀ runs as a plain (nn) GEMM on an L1-sized
/// operand: as a `transB` GEMM, OpenBLAS 0.3.21 takes its packed path for the network's conv2,
/// conv4 and conv5 (its small-matrix kernel takes column-major `tn` only while O·C ≤ 1,200), which
/// ran 1.3–1.4× slower than `nn` on those shapes.
func winogradTransposeTiles(
    _ v: UnsafePointer<Float>, rowStride: Int, channels c: Int, columns: Int, into vt: UnsafeMutablePointer<Float>
) {
    var c0 = 0
    while c0 + 4 <= c {
        let r0 = v + c0 * rowStride, r1 = r0 + rowStride, r2 = r1 + rowStride, r3 = r2 + rowStride
        var t = 0
        while t < columns {
            let a = load4(r0 + t), b = load4(r1 + t), cc = load4(r2 + t), d = load4(r3 + t)
            let p = vt + t * c + c0
            store4(SIMD4(a[0], b[0], cc[0], d[0]), p)
            store4(SIMD4(a[1], b[1], cc[1], d[1]), p + c)
            store4(SIMD4(a[2], b[2], cc[2], d[2]), p + 2 * c)
            store4(SIMD4(a[3], b[3], cc[3], d[3]), p + 3 * c)
            t += 4
        }
        c0 += 4
    }
    for ch in c0..<c {
        for t in 0..<columns { vt[t * c + ch] = v[ch * rowStride + t] }
    }
}

/// Writes each tile's top-left output offset, 2·ty·OW + 2·tx, into `corners` for tiles
/// 0..<`count` (tiles past the image continue the pattern). With the fused pool a tile is a pool
/// window, and these are the offsets its maximum's index is counted from.
private func winogradTileCorners(_ tiles: WinogradTiles, outputWidth ow: Int, into corners: UnsafeMutablePointer<Int32>, count: Int) {
    for t in 0..<count { corners[t] = Int32(2 * (t / tiles.columns) * ow + 2 * (t % tiles.columns)) }
}

/// Where a fused 2×2 max pool writes: per image O·TY·TX maxima and their offsets in the O×OH×OW
/// output plane (as `maxPool2dForward` writes them), images one after another.
struct WinogradPoolTarget {
    let output: UnsafeMutablePointer<Float>
    let indices: UnsafeMutablePointer<Int32>

    /// The target of image `n`, each image holding `size` maxima.
    func image(_ n: Int, size: Int) -> WinogradPoolTarget {
        WinogradPoolTarget(output: output + n * size, indices: indices + n * size)
    }
}

/// Output tiles of one image from M: y = Aᵀ m A + bias, optionally ReLU, into the O×OH×OW image;
/// or, with `pool`, only each tile's maximum and its position (the tiles are the pool's windows).
/// Reads up to 3 columns past the image's last tile (see `winogradLeadingDimension`).
func winogradOutputTransform(
    _ m: UnsafePointer<Float>, ld: Int, column: Int, geometry g: Conv2dGeometry, tiles: WinogradTiles,
    bias: UnsafePointer<Float>, relu: Bool, into image: UnsafeMutablePointer<Float>?,
    pool: WinogradPoolTarget? = nil
) {
    let (oh, ow, tx, count) = (g.outputHeight, g.outputWidth, tiles.columns, tiles.count)
    let xi = ld
    let span = count + 4
    // With the pool: each tile's top-left output offset, 2·ty·OW + 2·tx, the same for every channel.
    withUnsafeTemporaryAllocation(of: Int32.self, capacity: pool == nil ? 0 : span) { offsetScratch in
        let offsets = pool == nil ? nil : offsetScratch.baseAddress
        if let offsets { winogradTileCorners(tiles, outputWidth: ow, into: offsets, count: span) }
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 4 * span) { scratch in
            let y00 = scratch.baseAddress!, y01 = y00 + span, y10 = y00 + 2 * span, y11 = y00 + 3 * span
            for o in 0..<g.outChannels {
                let src = m + o * 16 * ld + column
                var t = 0
                while t < count {
                    @inline(__always) func row(_ i: Int) -> (SIMD4<Float>, SIMD4<Float>, SIMD4<Float>, SIMD4<Float>) {
                        let p = src + 4 * i * xi + t
                        return (load4(p), load4(p + xi), load4(p + 2 * xi), load4(p + 3 * xi))
                    }
                    let m0 = row(0), m1 = row(1), m2 = row(2), m3 = row(3)
                    // Aᵀ m: a = m0 + m1 + m2, b = m1 − m2 − m3 (rows); then · A: (x0 + x1 + x2, x1 − x2 − x3).
                    let a = (m0.0 + m1.0 + m2.0, m0.1 + m1.1 + m2.1, m0.2 + m1.2 + m2.2, m0.3 + m1.3 + m2.3)
                    let b = (m1.0 - m2.0 - m3.0, m1.1 - m2.1 - m3.1, m1.2 - m2.2 - m3.2, m1.3 - m2.3 - m3.3)
                    store4(a.0 + a.1 + a.2, y00 + t); store4(a.1 - a.2 - a.3, y01 + t)
                    store4(b.0 + b.1 + b.2, y10 + t); store4(b.1 - b.2 - b.3, y11 + t)
                    t += 4
                }
                if let pool, let offsets {
                    winogradPoolTiles(
                        y00, y01, y10, y11, count: count, offsets: offsets, outputWidth: ow, bias: bias[o], relu: relu,
                        output: pool.output + o * count, indices: pool.indices + o * count)
                    continue
                }
                guard let image else { continue }
                // Interleave the tiles' 2×2 blocks into the image, adding the bias (and ReLU).
                let plane = image + o * oh * ow
                let b = bias[o]
                for ty in 0..<tiles.rows {
                    for r in 0..<2 where 2 * ty + r < oh {
                        let dst = plane + (2 * ty + r) * ow
                        let left = (r == 0 ? y00 : y10) + ty * tx, right = (r == 0 ? y01 : y11) + ty * tx
                        // Four tiles (eight outputs) at a time while they lie inside the row, then one by one.
                        var x = 0
                        while 2 * x + 8 <= ow {
                            var l = load4(left + x) + b, r = load4(right + x) + b
                            if relu { (l, r) = (relu4(l), relu4(r)) }
                            let v = SIMD8(l[0], r[0], l[1], r[1], l[2], r[2], l[3], r[3])
                            UnsafeMutableRawPointer(dst + 2 * x).storeBytes(of: v, as: SIMD8<Float>.self)
                            x += 4
                        }
                        if relu {
                            for x in x..<(ow / 2) { dst[2 * x] = max(left[x] + b, 0); dst[2 * x + 1] = max(right[x] + b, 0) }
                            if ow % 2 == 1 { dst[ow - 1] = max(left[ow / 2] + b, 0) }
                        } else {
                            for x in x..<(ow / 2) { dst[2 * x] = left[x] + b; dst[2 * x + 1] = right[x] + b }
                            if ow % 2 == 1 { dst[ow - 1] = left[ow / 2] + b }
                        }
                    }
                }
            }
        }
    }
}

/// Max over each tile's four outputs (plus bias, ReLU), first maximum in row-major order winning
/// ties: the same values and indices `maxPool2x2Forward` gives on the written-out image (but for a
/// maximum of −0 without ReLU, written as +0). The last, partial group of four tiles goes through
/// a scratch buffer: storing single lanes would have the compiler do the whole loop in scalars.
@inline(__always)
private func winogradPoolTiles(
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

/// dM[ξ][o][column + t] = (A dy Aᵀ)[ξ] for every 2×2 tile dy of one image's output gradient
/// (zero past the output). Writes up to 3 columns past the image's last tile (see
/// `winogradLeadingDimension`).
func winogradGradOutputTransform(
    _ gradOutput: UnsafePointer<Float>, geometry g: Conv2dGeometry, tiles: WinogradTiles,
    into dm: UnsafeMutablePointer<Float>, ld: Int, column: Int
) {
    let (oh, ow, tx) = (g.outputHeight, g.outputWidth, tiles.columns)
    let xi = ld
    let rows = 2 * tiles.rows, width = 2 * tx  // output rows and columns the tiles cover
    forEachPaddedPlane(gradOutput, count: g.outChannels, h: oh, w: ow, pad: 0, width: width, rows: rows) { o, row in
        for ty in 0..<tiles.rows {
            let out = dm + o * 16 * ld + column + ty * tx
            var t = 0
            while t < tx {
                let a = load8(row[2 * ty] + 2 * t), b = load8(row[2 * ty + 1] + 2 * t)
                let (p0, p1, q0, q1) = (a.evenHalf, a.oddHalf, b.evenHalf, b.oddHalf)
                // u = A dy: rows (p), (p + q), (p − q), (−q); then dm[i] = (u0, u0 + u1, u0 − u1, −u1).
                @inline(__always) func put(_ i: Int, _ u0: SIMD4<Float>, _ u1: SIMD4<Float>) {
                    let q = out + 4 * i * xi + t
                    store4(u0, q); store4(u0 + u1, q + xi); store4(u0 - u1, q + 2 * xi); store4(-u1, q + 3 * xi)
                }
                put(0, p0, p1)
                put(1, p0 + q0, p1 + q1)
                put(2, p0 - q0, p1 - q1)
                put(3, -q0, -q1)
                t += 4
            }
        }
    }
}

/// Where the Winograd backward pass takes the gradient of the convolution's output from.
enum WinogradGradOutput {
    /// The N·O·OH·OW output gradient itself.
    case plane(UnsafePointer<Float>)
    /// The gradient of a fused 2×2 max pool's output, routed back through the pool and ReLU.
    case pool(WinogradPoolGradient)
}

/// The pool's side of a fused convolution + ReLU + 2×2 max pool in the backward pass: per image
/// O·TY·TX gradients of the pooled outputs, the pooled values (for ReLU's mask) and the maxima's
/// offsets, as `conv2dReLUMaxPool2x2Forward` wrote them.
struct WinogradPoolGradient {
    let gradient: UnsafePointer<Float>
    let pooled: UnsafePointer<Float>
    let indices: UnsafePointer<Int32>

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
/// channel's gradient sum to `gradBias`. Writes up to 3 columns past the image's last tile (see
/// `winogradLeadingDimension`).
func winogradPoolGradOutputTransform(
    _ source: WinogradPoolGradient, geometry g: Conv2dGeometry, tiles: WinogradTiles,
    into dm: UnsafeMutablePointer<Float>, ld: Int, column: Int, gradBias: UnsafeMutablePointer<Float>
) {
    let (ow, count) = (g.outputWidth, tiles.count)
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

/// gradInput += B dV Bᵀ for every tile of one image (the adjoint of `winogradInputTransform`):
/// overlapping tiles add up, values that fall on the padding are dropped. Reads up to 3 columns past
/// the image's last tile (see `winogradLeadingDimension`).
func winogradGradInputTransform(
    _ dv: UnsafePointer<Float>, ld: Int, column: Int, geometry g: Conv2dGeometry, tiles: WinogradTiles,
    addingTo image: UnsafeMutablePointer<Float>
) {
    let (h, w, pad, tx) = (g.inputHeight, g.inputWidth, g.padding, tiles.columns)
    let xi = ld
    let width = 2 * tx + 2  // padded input columns the tiles of one row cover
    let span = width + 16
    // Input columns 0..<w sit at padded columns pad..<w + pad; the tiles cover padded 0..<width.
    let from = min(width, pad), to = max(from, min(width, w + pad))
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 16 * span) { scratch in
        // Per output row i of a tile row: own[i] holds what each tile t adds at padded columns
        // 2t, 2t + 1, shifted[i] what it adds at 2t + 2, 2t + 3 (the next tile's first two).
        // Two sets, for tile rows of even and odd ty: a tile row's rows are added into the image
        // only after the next tile row's are made, when their stores have drained (the adding
        // loop's reads straddle the shifted stores, and would otherwise wait for them).
        let base = scratch.baseAddress!
        @inline(__always) func own(_ set: Int, _ i: Int) -> UnsafeMutablePointer<Float> { base + (8 * set + 2 * i) * span }
        @inline(__always) func shifted(_ set: Int, _ i: Int) -> UnsafeMutablePointer<Float> { base + (8 * set + 2 * i + 1) * span }
        @inline(__always) func interleave(_ a: SIMD4<Float>, _ b: SIMD4<Float>, into p: UnsafeMutablePointer<Float>) {
            let v = SIMD8(a[0], b[0], a[1], b[1], a[2], b[2], a[3], b[3])
            UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
        }
        for set in 0..<2 {
            for i in 0..<4 { shifted(set, i)[0] = 0; shifted(set, i)[1] = 0 }  // never written below
        }
        /// Adds tile row `ty`'s rows (in set ty % 2) into `plane`.
        @inline(__always) func addRows(_ ty: Int, into plane: UnsafeMutablePointer<Float>) {
            let y0 = 2 * ty - pad
            for i in 0..<4 where y0 + i >= 0 && y0 + i < h {
                let a = own(ty & 1, i), b = shifted(ty & 1, i)
                // Padded column x' gets own[x'] (x' < 2·tx) + shifted[x'] (x' ≥ 2).
                let row = plane + (y0 + i) * w - pad
                for x in from..<to { row[x] += a[x] + b[x] }
            }
        }
        for c in 0..<g.inChannels {
            let plane = image + c * h * w
            for ty in 0..<tiles.rows {
                let src = dv + c * 16 * ld + column + ty * tx
                let set = ty & 1
                var t = 0
                while t < tx {
                    // dS_k = dV[k] Bᵀ: (v0, v1 − v2 + v3 | v1 + v2 − v0, −v3) at columns (2t, 2t+1 | 2t+2, 2t+3).
                    @inline(__always) func columns(_ k: Int) -> (SIMD4<Float>, SIMD4<Float>, SIMD4<Float>, SIMD4<Float>) {
                        let p = src + 4 * k * xi + t
                        let (v0, v1, v2, v3) = (load4(p), load4(p + xi), load4(p + 2 * xi), load4(p + 3 * xi))
                        return (v0, v1 - v2 + v3, v1 + v2 - v0, -v3)
                    }
                    // dR = B dS: rows (s0, s1 − s2 + s3, s1 + s2 − s0, −s3). The last group of a row
                    // may write lanes past tile tx − 1; they land past what the rows below read.
                    @inline(__always) func put(_ i: Int, _ r: (SIMD4<Float>, SIMD4<Float>, SIMD4<Float>, SIMD4<Float>)) {
                        interleave(r.0, r.1, into: own(set, i) + 2 * t)
                        interleave(r.2, r.3, into: shifted(set, i) + 2 * t + 2)
                    }
                    // In an order that keeps at most three rows' columns live (12 of the 16 SSE
                    // registers): s1 + s2 and s1 − s2, then s0 and s3 one after the other.
                    let s1 = columns(1), s2 = columns(2)
                    let sum = (s1.0 + s2.0, s1.1 + s2.1, s1.2 + s2.2, s1.3 + s2.3)
                    let difference = (s1.0 - s2.0, s1.1 - s2.1, s1.2 - s2.2, s1.3 - s2.3)
                    let s0 = columns(0)
                    put(0, s0)
                    put(2, (sum.0 - s0.0, sum.1 - s0.1, sum.2 - s0.2, sum.3 - s0.3))
                    let s3 = columns(3)
                    put(1, (difference.0 + s3.0, difference.1 + s3.1, difference.2 + s3.2, difference.3 + s3.3))
                    put(3, (-s3.0, -s3.1, -s3.2, -s3.3))
                    t += 4
                }
                for i in 0..<4 { own(set, i)[2 * tx] = 0; own(set, i)[2 * tx + 1] = 0 }
                if ty > 0 { addRows(ty - 1, into: plane) }
            }
            addRows(tiles.rows - 1, into: plane)
        }
    }
}

// MARK: - Passes

/// Winograd forward for `batch` images: same contract as `conv2dForward` (im2col), `g` must be
/// 3×3 stride 1.
func winogradConv2dForward(
    input: UnsafePointer<Float>, batch: Int, geometry g: Conv2dGeometry,
    weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
    output: UnsafeMutablePointer<Float>?, workspace: UnsafeMutablePointer<Float>, fuseReLU: Bool,
    pool: WinogradPoolTarget? = nil,
    transformedInput: UnsafeMutablePointer<Float>? = nil, transformedWeight: UnsafePointer<Float>? = nil
) {
    let (o, c) = (g.outChannels, g.inChannels)
    let tiles = WinogradTiles(g)
    let chunk = winogradChunkSize(geometry: g, batch: batch)
    let scratchV = workspace + 2 * winogradTransformedWeightSize(geometry: g)  // after U and dU
    let m = scratchV + 16 * c * winogradLeadingDimension(columns: tiles.count * chunk)
    let u = transformedWeight ?? {
        winogradWeightTransform(weight, outChannels: o, inChannels: c, into: workspace)
        return UnsafePointer(workspace)
    }()
    var n0 = 0
    while n0 < batch {
        let nb = min(chunk, batch - n0), columns = nb * tiles.count
        let ld = winogradLeadingDimension(columns: columns)
        // Kept for the backward pass when asked: each chunk's [C][16][ld] block, one after another.
        let v = transformedInput.map { $0 + winogradKeptOffset(first: n0, chunk: chunk, geometry: g) } ?? scratchV
        for j in 0..<nb {
            winogradInputTransform(
                input + (n0 + j) * g.inputImageSize, geometry: g, tiles: tiles, into: v, ld: ld, column: j * tiles.count)
        }
        for xi in 0..<16 {
            gemm(m: o, n: columns, k: c, a: u + xi * o * c, lda: c, b: v + xi * ld, ldb: 16 * ld,
                 c: m + xi * ld, ldc: 16 * ld)
        }
        for j in 0..<nb {
            let n = n0 + j
            winogradOutputTransform(
                m, ld: ld, column: j * tiles.count, geometry: g, tiles: tiles, bias: bias, relu: fuseReLU,
                into: output.map { $0 + n * g.outputImageSize },
                pool: pool?.image(n, size: g.outChannels * tiles.count))
        }
        n0 += nb
    }
}

/// Winograd backward for `batch` images: same contract as `conv2dBackward` (im2col), `g` must be
/// 3×3 stride 1.
func winogradConv2dBackward(
    input: UnsafePointer<Float>, batch: Int, geometry g: Conv2dGeometry,
    weight: UnsafePointer<Float>, gradOutput: WinogradGradOutput,
    gradWeight: UnsafeMutablePointer<Float>, gradBias: UnsafeMutablePointer<Float>,
    gradInput: UnsafeMutablePointer<Float>?, gradInputReLUOutput: UnsafePointer<Float>?,
    workspace: UnsafeMutablePointer<Float>, transformedInput: UnsafePointer<Float>? = nil,
    transformedWeight: UnsafePointer<Float>? = nil
) {
    let (o, c, p) = (g.outChannels, g.inChannels, g.outputPlane)
    let tiles = WinogradTiles(g)
    let chunk = winogradChunkSize(geometry: g, batch: batch)
    let du = workspace + winogradTransformedWeightSize(geometry: g)
    let scratchV = du + winogradTransformedWeightSize(geometry: g)  // V when not kept by the forward pass, then dV
    let dm = scratchV + 16 * c * winogradLeadingDimension(columns: tiles.count * chunk)
    let vt = dm + 16 * o * winogradLeadingDimension(columns: tiles.count * chunk)  // one ξ of V, transposed
    var u = UnsafePointer(workspace)
    if let transformedWeight {
        u = transformedWeight
    } else if gradInput != nil {
        winogradWeightTransform(weight, outChannels: o, inChannels: c, into: workspace)
    }
    du.update(repeating: 0, count: winogradTransformedWeightSize(geometry: g))
    if case .plane(let gradOutput) = gradOutput {  // the pool's transform adds its own bias gradient
        for n in 0..<batch {
            let image = gradOutput + n * g.outputImageSize
            for oc in 0..<o { gradBias[oc] += sumFloats(image + oc * p, count: p) }
        }
    }
    var n0 = 0
    while n0 < batch {
        let nb = min(chunk, batch - n0), columns = nb * tiles.count
        let ld = winogradLeadingDimension(columns: columns)
        let v = transformedInput.map { $0 + winogradKeptOffset(first: n0, chunk: chunk, geometry: g) } ?? UnsafePointer(scratchV)
        for j in 0..<nb {
            let column = j * tiles.count
            if transformedInput == nil {
                winogradInputTransform(
                    input + (n0 + j) * g.inputImageSize, geometry: g, tiles: tiles, into: scratchV, ld: ld, column: column)
            }
            switch gradOutput {
            case .plane(let gradOutput):
                winogradGradOutputTransform(
                    gradOutput + (n0 + j) * g.outputImageSize, geometry: g, tiles: tiles, into: dm, ld: ld, column: column)
            case .pool(let pool):
                winogradPoolGradOutputTransform(
                    pool.image(n0 + j, size: o * tiles.count), geometry: g, tiles: tiles, into: dm, ld: ld,
                    column: column, gradBias: gradBias)
            }
        }
        for xi in 0..<16 {
            // dU[ξ] (O×C) += dM[ξ] (O×T) · Vt (T×C), Vt = V[ξ]ᵀ
            winogradTransposeTiles(v + xi * ld, rowStride: 16 * ld, channels: c, columns: columns, into: vt)
            gemm(m: o, n: c, k: columns, a: dm + xi * ld, lda: 16 * ld, b: vt, ldb: c,
                 beta: 1, c: du + xi * o * c, ldc: c)
        }
        if let gradInput {
            for xi in 0..<16 {
                // dV[ξ] (C×ld) = U[ξ]ᵀ · dM[ξ], into the scratch V (no longer needed).
                gemm(transA: true, m: c, n: columns, k: o, a: u + xi * o * c, lda: c, b: dm + xi * ld, ldb: 16 * ld,
                     c: scratchV + xi * ld, ldc: 16 * ld)
            }
            for j in 0..<nb {
                let image = gradInput + (n0 + j) * g.inputImageSize
                image.update(repeating: 0, count: g.inputImageSize)
                winogradGradInputTransform(
                    scratchV, ld: ld, column: j * tiles.count, geometry: g, tiles: tiles, addingTo: image)
                if let mask = gradInputReLUOutput {
                    reluMask(grad: image, output: mask + (n0 + j) * g.inputImageSize, count: g.inputImageSize)
                }
            }
        }
        n0 += nb
    }
    winogradWeightGradient(du, outChannels: o, inChannels: c, addingTo: gradWeight)
}

/// Convolution, ReLU and a 2×2, stride-2 max pool in one pass, for a 3×3 stride-1 convolution with
/// an even output size: each Winograd tile is one pool window, so the convolution's output is never
/// written out.
///
/// `input` N·C·H·W, `weight` O·C·3·3, `bias` O; writes `pooled` N·O·(OH/2)·(OW/2) and `indices`
/// (same count), each window's first maximum's offset in its OH×OW plane, as `maxPool2dForward`
/// gives them. `workspace` as for `conv2dForward`; `transformedInput`, when given, must hold
/// `conv2dTransformedInputSize(geometry:batch:algorithm: .winograd)` floats; `transformedWeight`
/// as for `conv2dForward`. Programming errors (precondition): a geometry
/// Winograd does not support, or an odd output size. Matches
/// `torch.nn.functional.max_pool2d(relu(conv2d(input, weight, bias, padding)), 2, 2, return_indices=True)`,
/// with values equal to `conv2dForward(..., algorithm: .winograd)` followed by `maxPool2dForward`.
public func conv2dReLUMaxPool2x2Forward(
    input: UnsafePointer<Float>, batch: Int, geometry g: Conv2dGeometry,
    weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
    pooled: UnsafeMutablePointer<Float>, indices: UnsafeMutablePointer<Int32>,
    workspace: UnsafeMutablePointer<Float>, transformedInput: UnsafeMutablePointer<Float>? = nil,
    transformedWeight: UnsafePointer<Float>? = nil
) {
    checkFusedPoolGeometry(g, "conv2dReLUMaxPool2x2Forward")
    winogradConv2dForward(
        input: input, batch: batch, geometry: g, weight: weight, bias: bias, output: nil,
        workspace: workspace, fuseReLU: true, pool: WinogradPoolTarget(output: pooled, indices: indices),
        transformedInput: transformedInput,
        transformedWeight: transformedWeight)
}

/// The backward pass of `conv2dReLUMaxPool2x2Forward`: routes each pooled gradient to its window's
/// maximum, masks it by ReLU (zero where the pooled value is ≤ 0) and runs the convolution's
/// backward, without ever writing the OH×OW output gradient.
///
/// `gradPooled`, `pooled` and `indices` are N·O·(OH/2)·(OW/2): the gradient of the pooled output and
/// what the forward pass wrote. `gradWeight` O·C·3·3 and `gradBias` O are **added to**; `gradInput`,
/// N·C·H·W, is overwritten (nil to skip it), masked by `gradInputReLUOutput > 0` when that is given;
/// `workspace`, `transformedInput` and `transformedWeight` as for `conv2dBackward` with
/// `.winograd`. Programming errors (precondition): as for `conv2dReLUMaxPool2x2Forward`. Matches
/// the gradients PyTorch's autograd gives for
/// `max_pool2d(relu(conv2d(input, weight, bias)), 2, 2)`; equal to `maxPool2dBackward`, then
/// ReLU's mask, then `conv2dBackward(..., algorithm: .winograd)`, bit for bit but for the order in
/// which `gradBias` is summed.
public func conv2dReLUMaxPool2x2Backward(
    input: UnsafePointer<Float>, batch: Int, geometry g: Conv2dGeometry, weight: UnsafePointer<Float>,
    gradPooled: UnsafePointer<Float>, pooled: UnsafePointer<Float>, indices: UnsafePointer<Int32>,
    gradWeight: UnsafeMutablePointer<Float>, gradBias: UnsafeMutablePointer<Float>,
    gradInput: UnsafeMutablePointer<Float>?, gradInputReLUOutput: UnsafePointer<Float>? = nil,
    workspace: UnsafeMutablePointer<Float>, transformedInput: UnsafePointer<Float>? = nil,
    transformedWeight: UnsafePointer<Float>? = nil
) {
    checkFusedPoolGeometry(g, "conv2dReLUMaxPool2x2Backward")
    winogradConv2dBackward(
        input: input, batch: batch, geometry: g, weight: weight,
        gradOutput: .pool(WinogradPoolGradient(gradient: gradPooled, pooled: pooled, indices: indices)),
        gradWeight: gradWeight, gradBias: gradBias, gradInput: gradInput, gradInputReLUOutput: gradInputReLUOutput,
        workspace: workspace, transformedInput: transformedInput, transformedWeight: transformedWeight)
}

/// The fused convolution + ReLU + pool's programming errors: a geometry Winograd does not support,
/// or an odd output size (whose last row or column of tiles would straddle two pool windows).
private func checkFusedPoolGeometry(_ g: Conv2dGeometry, _ function: String) {
    precondition(Conv2dAlgorithm.winograd.supports(g), "\(function) needs a 3×3 stride-1 convolution")
    precondition(g.outputHeight % 2 == 0 && g.outputWidth % 2 == 0,
                 "\(function) needs an even output size, got \(g.outputHeight)×\(g.outputWidth)")
}
