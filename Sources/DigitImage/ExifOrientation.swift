// The EXIF orientation of a photo (TIFF tag 0x0112): phones store the sensor's pixels as they were read and
// record how to turn them upright.

/// Reads the EXIF orientation from a TIFF structure and turns an image upright by it.
public enum ExifOrientation {
    /// The orientation tag of IFD0 in the TIFF structure of an APP1 Exif segment (after its "Exif\0\0"):
    /// 1...8, or 1 when the structure is cut short, malformed, or holds no valid tag. Reads only inside
    /// `tiff`; at most the IFD0 entry count, capped by the bytes present.
    public static func orientation(inTIFF tiff: UnsafeBufferPointer<UInt8>) -> Int {
        guard tiff.count >= 8 else { return 1 }
        let little: Bool
        switch (tiff[0], tiff[1]) {
        case (0x49, 0x49): little = true
        case (0x4D, 0x4D): little = false
        default: return 1
        }
        func u16(_ at: Int) -> Int? {
            guard at >= 0, at + 2 <= tiff.count else { return nil }
            return little ? Int(tiff[at]) | Int(tiff[at + 1]) << 8 : Int(tiff[at]) << 8 | Int(tiff[at + 1])
        }
        func u32(_ at: Int) -> Int? {
            guard let a = u16(at), let b = u16(at + 2) else { return nil }
            return little ? a | b << 16 : a << 16 | b
        }
        guard u16(2) == 42, let ifd = u32(4), let count = u16(ifd) else { return 1 }
        for entry in 0..<count {
            let at = ifd + 2 + 12 * entry
            guard let tag = u16(at) else { return 1 }
            guard tag == 0x0112 else { continue }
            // Type SHORT (3), count 1: the value sits in the first two bytes of the value field.
            guard u16(at + 2) == 3, u32(at + 4) == 1, let value = u16(at + 8), (1...8).contains(value) else { return 1 }
            return value
        }
        return 1
    }

    /// `image` turned upright for EXIF orientation `orientation` (1...8; others leave it unchanged): 2 mirrors
    /// left–right, 3 turns 180°, 4 mirrors top–bottom, 5 transposes, 6 turns 90° clockwise, 7 transverses,
    /// 8 turns 90° counter-clockwise; 5 to 8 swap width and height. Matches Pillow's
    /// `ImageOps.exif_transpose`. Throws only `PNGError.pixelCountMismatch`, which cannot happen for a valid image.
    public static func apply(_ orientation: Int, to image: RGBAImage) throws -> RGBAImage {
        guard (2...8).contains(orientation) else { return image }
        let w = image.width, h = image.height
        let swaps = orientation >= 5
        let outWidth = swaps ? h : w, outHeight = swaps ? w : h
        var out = [UInt8](repeating: 0, count: w * h * 4)
        image.pixels.withUnsafeBufferPointer { src in
            for y in 0..<outHeight {
                for x in 0..<outWidth {
                    let (sx, sy): (Int, Int)
                    switch orientation {
                    case 2: (sx, sy) = (w - 1 - x, y)
                    case 3: (sx, sy) = (w - 1 - x, h - 1 - y)
                    case 4: (sx, sy) = (x, h - 1 - y)
                    case 5: (sx, sy) = (y, x)
                    case 6: (sx, sy) = (y, h - 1 - x)
                    case 7: (sx, sy) = (w - 1 - y, h - 1 - x)
                    default: (sx, sy) = (w - 1 - y, x)
                    }
                    let from = 4 * (sy * w + sx), to = 4 * (y * outWidth + x)
                    for c in 0..<4 { out[to + c] = src[from + c] }
                }
            }
        }
        return try RGBAImage(width: outWidth, height: outHeight, pixels: out)
    }
}
