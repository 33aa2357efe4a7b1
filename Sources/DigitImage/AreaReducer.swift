// Area averaging of a large image while it is decoded: each row is folded into a small image as it arrives,
// so no buffer ever grows with the source's width × height.

/// Area-averages 8-bit RGBA rows, delivered in any order (Adam7 passes included), into a `width × height` image
/// smaller than the source: output pixel (o, p) covers source columns `[o · W / width, (o + 1) · W / width)` and
/// rows `[p · H / height, (p + 1) · H / height)` and is the mean of that area, each source pixel weighted by the
/// share of it that lies inside (the same exact area averaging as `DigitPreprocessor`'s 20×20 scaling).
/// Colours are averaged premultiplied by alpha, then divided by the mean alpha, so compositing the result on
/// any background equals averaging the composited source (a fully transparent area gets colour 0, alpha 0).
/// Memory: four Float sums per output pixel, three small tables per source column and row, one row of sums.
struct AreaReducer {
    let width: Int
    let height: Int
    /// Per source column: the first output column it touches, its weight there and in the next column.
    private var columnCell: [Int32]
    private var columnWeights: [(Float, Float)]
    private var rowCell: [Int32]
    private var rowWeights: [(Float, Float)]
    /// One delivered row, reduced horizontally: 4 sums per output column.
    private var rowSums: [Float]
    /// 4 sums per output pixel: Σ w · c · a for R, G, B and Σ w · a.
    private var sums: [Float]

    /// Bytes of the buffers above (what the reduction adds to a decode, whatever the source size).
    var bufferBytes: Int {
        columnCell.count * 4 + columnWeights.count * 8 + rowCell.count * 4 + rowWeights.count * 8
            + rowSums.count * 4 + sums.count * 4
    }

    /// A reducer from `sourceWidth × sourceHeight` to `width × height`; each output side must be at least 1
    /// and at most the source's.
    init(sourceWidth: Int, sourceHeight: Int, width: Int, height: Int) {
        precondition(1 <= width && width <= sourceWidth && 1 <= height && height <= sourceHeight)
        self.width = width
        self.height = height
        (columnCell, columnWeights) = Self.taps(from: sourceWidth, to: width)
        (rowCell, rowWeights) = Self.taps(from: sourceHeight, to: height)
        rowSums = [Float](repeating: 0, count: width * 4)
        sums = [Float](repeating: 0, count: width * height * 4)
    }

    /// The output size for a source whose longer side exceeds `longestSide`: the longer side becomes
    /// `longestSide`, the shorter `round(shorter · longestSide / longer)`, at least 1.
    static func reducedSize(width: Int, height: Int, longestSide: Int) -> (width: Int, height: Int) {
        let longer = max(width, height)
        func side(_ n: Int) -> Int { max(1, Int((Double(n) * Double(longestSide) / Double(longer)).rounded())) }
        return width >= height ? (longestSide, side(height)) : (side(width), longestSide)
    }

    /// For each source index, the first output cell it overlaps and its weights in that cell and the next.
    /// In units of 1 / (n · m): source i spans [i · m, (i + 1) · m), output o spans [o · n, (o + 1) · n);
    /// the weight is overlap / n (the overlap's share of the output cell), exact in integers until the division.
    private static func taps(from n: Int, to m: Int) -> ([Int32], [(Float, Float)]) {
        var cells = [Int32](repeating: 0, count: n)
        var weights = [(Float, Float)](repeating: (0, 0), count: n)
        for i in 0..<n {
            let start = i * m, end = start + m
            let cell = start / n
            let boundary = (cell + 1) * n
            let first = min(end, boundary) - start
            cells[i] = Int32(cell)
            weights[i] = (Float(first) / Float(n), Float(m - first) / Float(n))
        }
        return (cells, weights)
    }

    /// Adds one delivered row: `row` holds `place.count` RGBA pixels for image row `place.y`, columns
    /// `place.x0`, `place.x0 + place.dx`, ….
    mutating func add(_ row: UnsafePointer<UInt8>, _ place: RowPlacement) {
        let width = self.width
        columnCell.withUnsafeBufferPointer { cell in
            columnWeights.withUnsafeBufferPointer { weight in
                rowSums.withUnsafeMutableBufferPointer { acc in
                    for k in 0..<acc.count { acc[k] = 0 }
                    var x = place.x0
                    for i in 0..<place.count {
                        let p = row + 4 * i
                        let a = Float(p[3])
                        let r = Float(p[0]) * a, g = Float(p[1]) * a, b = Float(p[2]) * a
                        let o = 4 * Int(cell[x])
                        let (w0, w1) = weight[x]
                        acc[o] += w0 * r
                        acc[o + 1] += w0 * g
                        acc[o + 2] += w0 * b
                        acc[o + 3] += w0 * a
                        if w1 > 0 {
                            acc[o + 4] += w1 * r
                            acc[o + 5] += w1 * g
                            acc[o + 6] += w1 * b
                            acc[o + 7] += w1 * a
                        }
                        x += place.dx
                    }
                }
            }
        }
        let outRow = Int(rowCell[place.y])
        let (w0, w1) = rowWeights[place.y]
        rowSums.withUnsafeBufferPointer { acc in
            sums.withUnsafeMutableBufferPointer { total in
                let base = outRow * width * 4
                for k in 0..<acc.count { total[base + k] += w0 * acc[k] }
                if w1 > 0 {
                    for k in 0..<acc.count { total[base + width * 4 + k] += w1 * acc[k] }
                }
            }
        }
    }

    /// The averaged image, rounded to the nearest 8-bit value.
    func image() throws -> RGBAImage {
        var pixels = [UInt8](repeating: 0, count: width * height * 4)
        for i in 0..<(width * height) {
            let alpha = sums[4 * i + 3]
            guard alpha > 0 else { continue }
            for c in 0..<3 { pixels[4 * i + c] = Self.byte(sums[4 * i + c] / alpha) }
            pixels[4 * i + 3] = Self.byte(alpha)
        }
        return try RGBAImage(width: width, height: height, pixels: pixels)
    }

    private static func byte(_ value: Float) -> UInt8 { UInt8(min(max(value.rounded(), 0), 255)) }
}
