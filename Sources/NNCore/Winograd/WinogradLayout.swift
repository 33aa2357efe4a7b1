// Winograd F(2×2, 3×3) layout: how many tiles an image makes, how the transformed tiles lie in
// memory, how many images one chunk (one set of 16 GEMMs) holds and the workspace that takes, and
// the copies that lay data out for the transforms and the GEMMs (padded input rows, V transposed).
//
// Layouts: U and dU are [16][O][C]; V and dV are [C][16][ld], M and dM are [O][16][ld], with
// tile t of image j at column j·T + t, t = ty·TX + tx, and ld = T · images in the chunk + 16: the
// spare columns let every transform store a whole vector of tiles (see `winogradLeadingDimension`).
// Keeping a channel's 16 rows together keeps the transforms' 16 read or write streams within a few
// pages; the GEMM for ξ then reads V[·][ξ] and writes M[·][ξ] with a row stride of 16·ld.
//
// `WinogradTiles`, `winogradLeadingDimension` and `winogradTransposeTiles` are `package`, as the
// transforms are: Tests/NNCoreTests/WinogradTests.swift calls them one by one.
import CKernels

/// Tile counts of a Winograd F(2×2, 3×3) convolution: ⌈OH/2⌉ × ⌈OW/2⌉ tiles per image.
package struct WinogradTiles {
    /// Tile rows ⌈OH/2⌉ and tile columns ⌈OW/2⌉ of one image.
    package let rows: Int, columns: Int
    /// Tiles per image, rows · columns.
    package var count: Int { rows * columns }
    /// The tiles of the convolution `g`.
    package init(_ g: Conv2dGeometry) {
        rows = (g.outputHeight + 1) / 2
        columns = (g.outputWidth + 1) / 2
    }
}

/// Row length (ld) of a chunk's V, dV, M and dM holding `columns` tiles: `winogradSpareColumns` more
/// than the tiles. The transforms always store a whole vector of neighbouring tiles at once (4, 8 or
/// 16, `WinogradKernels.width`); a row of tiles whose count is not a multiple of it writes up to 15
/// values past its end, onto the next row's tiles (written after it) or, at the chunk's end, onto
/// these spare columns, which the GEMMs never read.
@inline(__always)
package func winogradLeadingDimension(columns: Int) -> Int { columns + winogradSpareColumns }

/// Columns past a transform's last tile that it may read or write: one vector of the widest
/// transform kernel (16 floats, AVX-512).
package let winogradSpareColumns = 16

/// Floats past a padded input row's `width` that the Swift (SIMD4) transforms may read (`paddedRows`):
/// their last group of four tiles reads eight floats from 2 columns past its first tile's. The C
/// kernels of 8 and 16 floats lay out their own padded rows (`ckernels_winograd_input_image`).
package let winogradRowSlack = 8

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

/// Points `rows[r]`, for r in 0..<count, at padded row r of a plane (plane row r − pad, columns
/// shifted right by `pad`), from which `width` + `winogradRowSlack` floats may be read; the first
/// `width` are the padded row's, zero outside the plane, the rest are slack for the last group's
/// spare lanes.
/// A row the tiles read in place (no padding, `width` ≤ w, and the slack still inside the plane: it
/// is the next row's start) is used where it lies; any other is copied into `scratch` (count rows
/// of `width` + `winogradRowSlack` floats, zeroed by the caller before the first call and only ever written at the
/// same columns).
@inline(__always)
private func paddedRows(
    _ plane: UnsafePointer<Float>, h: Int, w: Int, pad: Int, width: Int, count: Int,
    scratch: UnsafeMutablePointer<Float>, into rows: UnsafeMutablePointer<UnsafePointer<Float>>
) {
    for r in 0..<count {
        let y = r - pad
        if pad == 0 && width <= w && y >= 0 && y * w + width + winogradRowSlack <= h * w {
            rows[r] = plane + y * w
            continue
        }
        let copy = scratch + r * (width + winogradRowSlack)
        if y >= 0 && y < h {
            let row = plane + y * w - pad
            for x in max(0, pad)..<min(width, w + pad) { copy[x] = row[x] }
        }
        rows[r] = UnsafePointer(copy)
    }
}

/// Calls `body(p, rows)` for each of `count` h×w planes at `planes`, in order, `rows` pointing at
/// plane p's `rows` padded rows as `paddedRows` lays them out (`width` + `winogradRowSlack` floats
/// readable each).
/// Two sets of rows, for even and odd planes: plane p + 1's rows are copied before `body` runs on
/// plane p, so the copies have drained to the cache before 8-wide reads straddle them (a read
/// spanning two recent stores waits for both).
@inline(__always)
func forEachPaddedPlane(
    _ planes: UnsafePointer<Float>, count: Int, h: Int, w: Int, pad: Int, width: Int, rows: Int,
    _ body: (Int, UnsafePointer<UnsafePointer<Float>>) -> Void
) {
    withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: 2 * rows) { rowScratch in
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * rows * (width + winogradRowSlack)) { scratch in
        let (base, pointers) = (scratch.baseAddress!, rowScratch.baseAddress!)
        base.initialize(repeating: 0, count: 2 * rows * (width + winogradRowSlack))
        @inline(__always) func prepare(_ p: Int) {
            let set = p & 1
            paddedRows(
                planes + p * h * w, h: h, w: w, pad: pad, width: width, count: rows,
                scratch: base + set * rows * (width + winogradRowSlack), into: pointers + set * rows)
        }
        prepare(0)
        for p in 0..<count {
            if p + 1 < count { prepare(p + 1) }
            body(p, UnsafePointer(pointers + (p & 1) * rows))
        }
    }
    }
}

/// Writes V[·][ξ]ᵀ, the `columns` tiles of one ξ of V ([C][16][ld], `v` pointing at channel 0's row
/// ξ, channel rows `rowStride` floats apart) as a row-major tiles × C matrix into `vt`, whose
/// rows are C floats. `width` (4, 8 or 16) tiles and channels at a time: 4 runs the Swift code
/// below (a 4×4 transpose in registers), 8 and 16 CKernels' AVX2 and AVX-512 kernels; the values
/// are copies either way. With width 4 the last group of tiles writes up to 3 rows past `columns`,
/// so `vt` holds (`columns` + 3)·C floats (the kernels write none); reads up to `width` − 1
/// columns past the last tile. Channels past the last multiple of the width are copied one value
/// at a time.
///
/// With it the weight gradient's dU[ξ] += dM[ξ] · V[ξ]ᵀ runs as a plain (nn) GEMM on an L1-sized
/// operand: as a `transB` GEMM, OpenBLAS 0.3.21 takes its packed path for the network's conv2,
/// conv4 and conv5 (its small-matrix kernel takes column-major `tn` only while O·C ≤ 1,200), which
/// ran 1.3–1.4× slower than `nn` on those shapes.
package func winogradTransposeTiles(
    _ v: UnsafePointer<Float>, rowStride: Int, channels c: Int, columns: Int, into vt: UnsafeMutablePointer<Float>,
    width vectorWidth: Int = WinogradKernels.width
) {
    if vectorWidth != 4 {
        ckernels_winograd_transpose_tiles(vectorWidth, v, rowStride, c, columns, vt)
        return
    }
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
