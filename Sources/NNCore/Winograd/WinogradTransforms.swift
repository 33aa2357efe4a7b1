// Winograd F(2×2, 3×3) transforms (Lavin & Gray, 2015), each with its gradient:
//   weights  U = G g Gᵀ (`winogradWeightTransform`),  dW = Gᵀ dU G (`winogradWeightGradient`);
//   inputs   V = Bᵀ d B (`winogradInputTransform`),   dX += B dV Bᵀ (`winogradGradInputTransform`);
//   outputs  Y = Aᵀ M A (`winogradOutputTransform`),  dM = A dY Aᵀ (`winogradGradOutputTransform`).
// The weight transforms work on four kernels at a time; the tile transforms here on four tiles at a
// time (one per SIMD4 lane), and on 8 or 16 in CKernels' C kernels (AVX2, AVX-512F), which each tile
// transform calls when `WinogradKernels.width` says so: the same values bit for bit. Layouts in
// WinogradLayout.swift; the drivers in WinogradConv2d.swift.
// The transforms are `package` so that Tests/NNCoreTests/WinogradTests.swift can compare each with
// its textbook version (NNTestSupport/NaiveWinograd.swift); `winogradWeightTransform` is reached
// through the public `winogradTransformWeight`.
import CKernels

// MARK: - Weights

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
package func winogradWeightGradient(
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

// MARK: - Tiles

// The four tile transforms below work on four tiles at once (SIMD4 lanes = neighbouring tiles of
// one row of tiles). Tile tx reads input columns 2·tx ... 2·tx + 3: eight contiguous floats from
// column 2·tx hold four tiles' even columns (E[t] = column 2t, the even half) and odd ones (the odd
// half), and eight more from column 2·tx + 2 hold E[t + 1] and O[t + 1].

/// V[ξ][c][column + t] = (Bᵀ d B)[ξ] for every 4×4 input tile d of one CHW image (zero outside it).
/// `width` floats a vector (`WinogradKernels.width`): 4 runs this Swift code, 8 and 16 CKernels'
/// `ckernels_winograd_input_image`, which gives the same values bit for bit. Writes up to
/// `width` − 1 columns past the image's last tile (see `winogradLeadingDimension`).
package func winogradInputTransform(
    _ image: UnsafePointer<Float>, geometry g: Conv2dGeometry, tiles: WinogradTiles,
    into v: UnsafeMutablePointer<Float>, ld: Int, column: Int, width vectorWidth: Int = WinogradKernels.width
) {
    let (h, w, pad, tx) = (g.inputHeight, g.inputWidth, g.padding, tiles.columns)
    let xi = ld  // distance between two ξ rows of one channel
    let rows = 2 * tiles.rows + 2  // padded input rows the tiles read: −pad ..< 2·TY + 2 − pad
    let width = 2 * tx + 2  // padded input columns they read
    if vectorWidth != 4 {  // the C kernel lays out its padded rows itself
        withUnsafeTemporaryAllocation(of: UnsafePointer<Float>?.self, capacity: 2 * rows) { rowScratch in
        withUnsafeTemporaryAllocation(of: Float.self, capacity: ckernels_winograd_input_scratch_floats(tiles.rows, tx)) { scratch in
            ckernels_winograd_input_image(
                image, g.inChannels, h, w, pad, tiles.rows, tx, v + column, ld, scratch.baseAddress,
                rowScratch.baseAddress, Int32(vectorWidth))
        }
        }
        return
    }
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

/// Output tiles of one image from M: y = Aᵀ m A + bias, optionally ReLU, into the O×OH×OW image;
/// or, with `pool`, only each tile's maximum and its position (the tiles are the pool's windows).
/// `width` floats a vector (`WinogradKernels.width`): 4 runs this Swift code, 8 and 16 CKernels'
/// `ckernels_winograd_output_image`, which gives the same values bit for bit. Reads up to
/// `width` − 1 columns past the image's last tile (see `winogradLeadingDimension`).
package func winogradOutputTransform(
    _ m: UnsafePointer<Float>, ld: Int, column: Int, geometry g: Conv2dGeometry, tiles: WinogradTiles,
    bias: UnsafePointer<Float>, relu: Bool, into image: UnsafeMutablePointer<Float>?,
    pool: WinogradPoolTarget? = nil, width: Int = WinogradKernels.width
) {
    let (oh, ow, tx, count) = (g.outputHeight, g.outputWidth, tiles.columns, tiles.count)
    let xi = ld
    if width != 4 {
        // The kernel's scratch: four rows of count + 16 floats; the pool's corner table as long.
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: pool == nil ? 0 : count + 16) { corners in
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 4 * (count + 16)) { scratch in
            if pool != nil { winogradTileCorners(tiles, outputWidth: ow, into: corners.baseAddress!, count: count + 16) }
            ckernels_winograd_output_image(
                m + column, ld, g.outChannels, oh, ow, tiles.rows, tx, bias, relu ? 1 : 0, image,
                pool?.output, pool?.indices, pool == nil ? nil : corners.baseAddress, scratch.baseAddress, Int32(width))
        }
        }
        return
    }
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
                        if relu {  // relu1, as relu4 above and the C kernels (for a NaN with its sign bit set)
                            for x in x..<(ow / 2) { dst[2 * x] = relu1(left[x] + b); dst[2 * x + 1] = relu1(right[x] + b) }
                            if ow % 2 == 1 { dst[ow - 1] = relu1(left[ow / 2] + b) }
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

/// dM[ξ][o][column + t] = (A dy Aᵀ)[ξ] for every 2×2 tile dy of one image's output gradient
/// (O×OH×OW, zero past the output), `width` tiles at a time: 4 runs the Swift code below, 8 and 16
/// CKernels' AVX2 and AVX-512 kernels, which give the same values bit for bit. Writes up to
/// `width` − 1 columns past the image's last tile (see `winogradLeadingDimension`).
package func winogradGradOutputTransform(
    _ gradOutput: UnsafePointer<Float>, geometry g: Conv2dGeometry, tiles: WinogradTiles,
    into dm: UnsafeMutablePointer<Float>, ld: Int, column: Int, width vectorWidth: Int = WinogradKernels.width
) {
    if vectorWidth != 4 {
        ckernels_winograd_grad_output_transform(
            vectorWidth, gradOutput, g.outChannels, g.outputHeight, g.outputWidth, tiles.rows, tiles.columns, dm, ld, column)
        return
    }
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

/// gradInput += B dV Bᵀ for every tile of one image (C×H×W; the adjoint of `winogradInputTransform`):
/// overlapping tiles add up, values that fall on the padding are dropped. `width` tiles at a time:
/// 4 runs the Swift code below, 8 and 16 CKernels' AVX2 and AVX-512 kernels, which give the same
/// values bit for bit. Reads up to `width` columns past the image's last tile (see
/// `winogradLeadingDimension`).
package func winogradGradInputTransform(
    _ dv: UnsafePointer<Float>, ld: Int, column: Int, geometry g: Conv2dGeometry, tiles: WinogradTiles,
    addingTo image: UnsafeMutablePointer<Float>, width vectorWidth: Int = WinogradKernels.width
) {
    if vectorWidth != 4 {
        ckernels_winograd_grad_input_transform(
            vectorWidth, dv, ld, column, g.inChannels, g.inputHeight, g.inputWidth, g.padding, tiles.rows,
            tiles.columns, image)
        return
    }
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
