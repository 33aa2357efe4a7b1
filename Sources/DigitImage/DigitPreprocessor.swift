// Turns an arbitrary picture of one handwritten digit into a 28×28 MNIST-style image, following the recipe
// LeCun, Cortes and Burges describe for MNIST: the digit's bounding box is scaled to fit a 20×20 box with
// anti-aliasing, keeping its aspect ratio, then placed in 28×28 so that its center of mass is at the center.

/// A rectangle of pixels in an image: `x`, `y` of the top-left pixel, `width`, `height` in pixels.
public struct PixelBox: Sendable, Equatable {
    /// Column of the leftmost pixel.
    public var x: Int
    /// Row of the top pixel.
    public var y: Int
    /// Width in pixels (at least 1).
    public var width: Int
    /// Height in pixels (at least 1).
    public var height: Int

    /// Makes a box from its top-left pixel and size.
    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }
}

/// A digit prepared as MNIST's were, with what the preprocessor decided on the way.
public struct PreprocessedDigit: Sendable, Equatable {
    /// 784 bytes, 28 rows of 28, row-major: 0 background, 255 full ink (MNIST's convention; the caller
    /// normalizes, e.g. divides by 255).
    public var pixels: [UInt8]
    /// True when no digit was found (contrast or ink mass below the thresholds); `pixels` are then all 0.
    public var isBlank: Bool
    /// True when the picture was dark ink on a light background and was inverted.
    public var wasInverted: Bool
    /// True when the input was already an MNIST-style 28×28 opaque light-on-dark image, returned unchanged.
    public var isPassThrough: Bool
    /// True when the input had any pixel with alpha below 255 (composited before everything else).
    public var hadTransparency: Bool
    /// The digit's bounding box in the input image (nil when blank or passed through).
    public var boundingBox: PixelBox?
}

/// MNIST-style preprocessing of one digit picture.
public enum DigitPreprocessor {
    /// Side of the output image in pixels (MNIST: 28).
    public static let side = 28
    /// Side of the box the digit's bounding box is scaled to fit (MNIST: 20).
    public static let boxSide = 20
    /// Least ink contrast, in 8-bit levels between the background and the strongest ink, for a digit to exist.
    public static let minimumContrast: Float = 32
    /// After contrast normalization, ink below this level (of 255) is treated as noise and cleared.
    public static let noiseLevel: Float = 26
    /// Least ink mass, as a fraction of the input's pixel count in full-ink pixels, for a digit to exist
    /// (with a floor of one full pixel); 1/2000 keeps dust specks in big photos from becoming a digit.
    public static let minimumInkFraction: Float = 1.0 / 2000

    /// Converts a picture of one digit into MNIST's 28×28 format.
    ///
    /// Steps, all on Float pixels in 0...255:
    /// 1. Pass-through: a 28×28 fully opaque image whose border median is dark (≤ 127) is already MNIST-style;
    ///    its BT.601 luminance (`(299 R + 587 G + 114 B + 500) / 1000`, so gray stays byte-identical) is
    ///    returned unchanged. An MNIST test image saved as an 8-bit gray PNG thus yields exactly its IDX bytes.
    /// 2. Transparency: if the border is mostly opaque, transparent pixels are composited onto the border's
    ///    median luminance; otherwise (a canvas export: strokes on a transparent background) onto white for dark
    ///    strokes or black for light strokes (stroke colour = alpha-weighted mean luminance), so the ink is the
    ///    alpha-weighted stroke and fully transparent pixels are background.
    /// 3. Luminance with ITU-R BT.601 weights (0.299, 0.587, 0.114).
    /// 4. Polarity: the ink is what lies farthest from the median of the 1-pixel border: the image is
    ///    inverted when its darkest pixel is farther below that median than its lightest is above it (on an
    ///    exact tie, when the median is light, > 127.5). So dark ink on mid-gray (110) and light ink on gray
    ///    (160) are both found; a rule on the border alone (light border → invert) blanked them.
    /// 5. Contrast: ink = (value − border median) / (max − border median) · 255, clamped; below `noiseLevel` → 0.
    ///    Blank (all-zero result, `isBlank`) when max − border median < `minimumContrast` or the ink mass is below
    ///    `minimumInkFraction` of the pixel count.
    /// 6. Crop to the bounding box of the remaining ink; scale so the longer side is `boxSide` (20) pixels and
    ///    the shorter `round(side · 20 / longer)` (at least 1), by exact area averaging (each output pixel is the
    ///    mean of the input area it covers, with fractional edge weights) — MNIST's anti-aliasing.
    /// 7. Center of mass (pixel-index coordinates) moved to (14, 14): offset = round(14 − c) with ties to even,
    ///    as the classic recipe's `np.round(cols / 2 − cx)`. Deviation: the offset is clamped so the scaled box
    ///    stays inside 28×28, where the classic shift would cut off ink of very lopsided digits.
    /// 8. Round to the nearest UInt8.
    public static func mnistPixels(from image: RGBAImage) -> PreprocessedDigit {
        let width = image.width
        let height = image.height
        let count = width * height
        var hadTransparency = false
        var luminance = [Float](repeating: 0, count: count)
        var alpha = [Float](repeating: 1, count: count)
        image.pixels.withUnsafeBufferPointer { p in
            for i in 0..<count {
                let r = Int(p[4 * i]), g = Int(p[4 * i + 1]), b = Int(p[4 * i + 2]), a = p[4 * i + 3]
                luminance[i] = Float(299 * r + 587 * g + 114 * b) / 1000
                if a != 255 {
                    hadTransparency = true
                    alpha[i] = Float(a) / 255
                }
            }
        }

        if width == side, height == side, !hadTransparency, median(border(of: luminance, width, height)) <= 127 {
            return passThrough(image)
        }

        var composite = luminance
        if hadTransparency {
            guard let background = transparentBackground(luminance, alpha, width, height) else {
                return blank(hadTransparency: true, wasInverted: false)
            }
            for i in 0..<count {
                composite[i] = alpha[i] * luminance[i] + (1 - alpha[i]) * background
            }
        }

        let borderMedian = median(border(of: composite, width, height))
        let darkest = composite.min() ?? borderMedian, lightest = composite.max() ?? borderMedian
        let darkInk = borderMedian - darkest, lightInk = lightest - borderMedian
        let wasInverted = darkInk == lightInk ? borderMedian > 127.5 : darkInk > lightInk
        var ink = composite
        var background = borderMedian
        if wasInverted {
            for i in 0..<count { ink[i] = 255 - composite[i] }
            background = 255 - borderMedian
        }
        // The extreme on the ink's side; Float's 255 − x never increases with x, so max(255 − x) = 255 − min x.
        let strongest = wasInverted ? 255 - darkest : lightest
        let contrast = strongest - background
        guard contrast >= minimumContrast else {
            return blank(hadTransparency: hadTransparency, wasInverted: wasInverted)
        }

        var mass: Float = 0
        var minX = width, minY = height, maxX = -1, maxY = -1
        for y in 0..<height {
            for x in 0..<width {
                let i = y * width + x
                var v = min(max((ink[i] - background) / contrast, 0), 1) * 255
                if v < noiseLevel { v = 0 }
                ink[i] = v
                if v > 0 {
                    mass += v / 255
                    minX = min(minX, x)
                    maxX = max(maxX, x)
                    minY = min(minY, y)
                    maxY = max(maxY, y)
                }
            }
        }
        guard maxX >= 0, mass >= max(1, minimumInkFraction * Float(count)) else {
            return blank(hadTransparency: hadTransparency, wasInverted: wasInverted)
        }

        let box = PixelBox(x: minX, y: minY, width: maxX - minX + 1, height: maxY - minY + 1)
        let longer = Float(max(box.width, box.height))
        let scaledWidth = max(1, Int((Float(box.width) * Float(boxSide) / longer).rounded()))
        let scaledHeight = max(1, Int((Float(box.height) * Float(boxSide) / longer).rounded()))
        let scaled = areaResample(
            ink, width: width, box: box, toWidth: scaledWidth, toHeight: scaledHeight)

        var total: Float = 0, sumX: Float = 0, sumY: Float = 0
        for y in 0..<scaledHeight {
            for x in 0..<scaledWidth {
                let v = scaled[y * scaledWidth + x]
                total += v
                sumX += v * Float(x)
                sumY += v * Float(y)
            }
        }
        guard total > 0 else { return blank(hadTransparency: hadTransparency, wasInverted: wasInverted) }
        let center = Float(side / 2)
        let offsetX = placement(center - sumX / total, size: scaledWidth)
        let offsetY = placement(center - sumY / total, size: scaledHeight)

        var pixels = [UInt8](repeating: 0, count: side * side)
        for y in 0..<scaledHeight {
            for x in 0..<scaledWidth {
                let v = scaled[y * scaledWidth + x].rounded()
                pixels[(y + offsetY) * side + x + offsetX] = UInt8(min(max(v, 0), 255))
            }
        }
        return PreprocessedDigit(
            pixels: pixels, isBlank: false, wasInverted: wasInverted, isPassThrough: false,
            hadTransparency: hadTransparency, boundingBox: box)
    }

    private static func passThrough(_ image: RGBAImage) -> PreprocessedDigit {
        var pixels = [UInt8](repeating: 0, count: side * side)
        for i in 0..<(side * side) {
            let r = Int(image.pixels[4 * i]), g = Int(image.pixels[4 * i + 1]), b = Int(image.pixels[4 * i + 2])
            pixels[i] = UInt8((299 * r + 587 * g + 114 * b + 500) / 1000)
        }
        let low = pixels.min() ?? 0, high = pixels.max() ?? 0
        if Float(high) - Float(low) < minimumContrast {
            return blank(hadTransparency: false, wasInverted: false)
        }
        return PreprocessedDigit(
            pixels: pixels, isBlank: false, wasInverted: false, isPassThrough: true,
            hadTransparency: false, boundingBox: nil)
    }

    private static func blank(hadTransparency: Bool, wasInverted: Bool) -> PreprocessedDigit {
        PreprocessedDigit(
            pixels: [UInt8](repeating: 0, count: side * side), isBlank: true, wasInverted: wasInverted,
            isPassThrough: false, hadTransparency: hadTransparency, boundingBox: nil)
    }

    /// The luminance transparent pixels stand for, or nil when the image is fully transparent.
    private static func transparentBackground(
        _ luminance: [Float], _ alpha: [Float], _ width: Int, _ height: Int
    ) -> Float? {
        let borderAlpha = border(of: alpha, width, height)
        let borderLuminance = border(of: luminance, width, height)
        let opaque = zip(borderAlpha, borderLuminance).filter { $0.0 >= 0.5 }.map { $0.1 }
        if opaque.count * 2 > borderAlpha.count {
            return median(opaque)
        }
        var weight: Float = 0, weighted: Float = 0
        for i in 0..<luminance.count {
            weight += alpha[i]
            weighted += alpha[i] * luminance[i]
        }
        guard weight > 0 else { return nil }
        return weighted / weight < 127.5 ? 255 : 0
    }

    /// Pixels of the outermost ring, each once.
    private static func border(of values: [Float], _ width: Int, _ height: Int) -> [Float] {
        if width <= 2 || height <= 2 { return values }
        var ring: [Float] = []
        ring.reserveCapacity(2 * (width + height))
        for x in 0..<width {
            ring.append(values[x])
            ring.append(values[(height - 1) * width + x])
        }
        for y in 1..<(height - 1) {
            ring.append(values[y * width])
            ring.append(values[y * width + width - 1])
        }
        return ring
    }

    /// Median; the mean of the two middle values for an even count.
    private static func median(_ values: [Float]) -> Float {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        let mid = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
    }

    private static func placement(_ shift: Float, size: Int) -> Int {
        let offset = Int(shift.rounded(.toNearestOrEven))
        return min(max(offset, 0), side - size)
    }

    /// Area-average resampling of `box` of `values` to `toWidth × toHeight`, separable: rows, then columns.
    private static func areaResample(
        _ values: [Float], width: Int, box: PixelBox, toWidth: Int, toHeight: Int
    ) -> [Float] {
        let weightsX = areaWeights(from: box.width, to: toWidth)
        let weightsY = areaWeights(from: box.height, to: toHeight)
        var rows = [Float](repeating: 0, count: box.height * toWidth)
        for y in 0..<box.height {
            let base = (box.y + y) * width + box.x
            for (ox, taps) in weightsX.enumerated() {
                var sum: Float = 0
                for (ix, w) in taps { sum += w * values[base + ix] }
                rows[y * toWidth + ox] = sum
            }
        }
        var out = [Float](repeating: 0, count: toWidth * toHeight)
        for (oy, taps) in weightsY.enumerated() {
            for x in 0..<toWidth {
                var sum: Float = 0
                for (iy, w) in taps { sum += w * rows[iy * toWidth + x] }
                out[oy * toWidth + x] = sum
            }
        }
        return out
    }

    /// For each output cell, the input cells it overlaps and their overlap share (summing to 1).
    /// Output cell `o` covers input `[o · n / m, (o + 1) · n / m)`.
    private static func areaWeights(from n: Int, to m: Int) -> [[(Int, Float)]] {
        (0..<m).map { o in
            let start = Double(o) * Double(n) / Double(m)
            let end = Double(o + 1) * Double(n) / Double(m)
            let span = end - start
            var taps: [(Int, Float)] = []
            var i = Int(start.rounded(.down))
            while Double(i) < end, i < n {
                let overlap = min(end, Double(i + 1)) - max(start, Double(i))
                if overlap > 0 { taps.append((i, Float(overlap / span))) }
                i += 1
            }
            return taps
        }
    }
}
