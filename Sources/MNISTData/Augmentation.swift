// Random affine augmentation of training images: rotation, shift, scale and shear, drawn per image
// from (seed, epoch, image index) so that a resumed run, any thread count and any batch size see the
// same images, and resampled bilinearly with zero fill as torchvision's affine does on a tensor.
import Foundation
import NNCore

/// The settings of `train --augment`: the ranges each training image's random affine transform is drawn from.
///
/// Per image and epoch: a rotation uniform in ±`rotation` degrees, a shift uniform in ±`shift` pixels
/// along each axis, a scale uniform in `minimumScale ... maximumScale` and a horizontal shear uniform in
/// ±`shear` degrees, all about the image centre. Like `torchvision.transforms.RandomAffine(degrees:
/// rotation, translate: (shift/28, shift/28), scale: (minimumScale, maximumScale), shear: shear,
/// interpolation: BILINEAR)`, with two deviations: the shift is not rounded to whole pixels (torchvision
/// rounds it), and the numbers come from SplitMix64 streams of the run's seed, not from torch's generator.
/// The defaults (±10°, ±2 px, 0.9–1.1, ±10°) are those of the small MNIST CNNs that reach 99.6–99.7% with
/// augmentation (e.g. Keras' `ImageDataGenerator(rotation_range=10, zoom_range=0.1, width_shift_range=0.1,
/// height_shift_range=0.1)`), with a shear as in Simard et al. 2003's affine distortions.
public struct AffineAugmentation: Codable, Sendable, Equatable, CustomStringConvertible {
    /// The largest rotation either way, in degrees (0: none).
    public var rotation: Float = 10
    /// The largest shift along each axis either way, in pixels (0: none).
    public var shift: Float = 2
    /// The smallest scale factor (below 1 shrinks the digit).
    public var minimumScale: Float = 0.9
    /// The largest scale factor.
    public var maximumScale: Float = 1.1
    /// The largest horizontal shear either way, in degrees (0: none); a shear of s degrees moves a point
    /// `tan(s)` pixels sideways per pixel above or below the centre.
    public var shear: Float = 10

    /// The project's defaults (see the type's documentation).
    public init() {}

    /// The ranges in words, e.g. "rotation ±10°, shift ±2 px, scale 0.9...1.1, shear ±10°".
    public var description: String {
        "rotation ±\(rotation.formatted)°, shift ±\(shift.formatted) px, scale \(minimumScale.formatted)..."
            + "\(maximumScale.formatted), shear ±\(shear.formatted)°"
    }

    /// Ranges given explicitly; `validationProblem` says whether they make sense.
    public init(rotation: Float, shift: Float, minimumScale: Float, maximumScale: Float, shear: Float) {
        self.rotation = rotation
        self.shift = shift
        self.minimumScale = minimumScale
        self.maximumScale = maximumScale
        self.shear = shear
    }

    /// The largest rotation allowed, in degrees (a half turn either way covers every angle).
    public static let maximumAngle: Float = 180
    /// The largest shear allowed, in degrees (beyond 45° a digit is a smear).
    public static let maximumShear: Float = 45
    /// The largest shift allowed, in pixels (half the image).
    public static let maximumShift: Float = 14
    /// The scale factors allowed.
    public static let scaleLimits: ClosedRange<Float> = 0.25...4

    /// Nil when every range makes sense, else (option name, expected, found) for the first that does not:
    /// rotation in 0...180, shift in 0...14, shear in 0...45, scales in 0.25...4 with minimum ≤ maximum.
    public var validationProblem: (name: String, expected: String, found: String)? {
        func inside(_ value: Float, _ range: ClosedRange<Float>) -> Bool { value.isFinite && range.contains(value) }
        if !inside(rotation, 0...Self.maximumAngle) {
            return ("augment-rotation", "degrees in 0...\(Self.maximumAngle)", "\(rotation)")
        }
        if !inside(shift, 0...Self.maximumShift) {
            return ("augment-shift", "pixels in 0...\(Self.maximumShift)", "\(shift)")
        }
        if !inside(minimumScale, Self.scaleLimits) || !inside(maximumScale, Self.scaleLimits) || minimumScale > maximumScale {
            return ("augment-scale", "LO...HI within \(Self.scaleLimits) with LO ≤ HI", "\(minimumScale)...\(maximumScale)")
        }
        if !inside(shear, 0...Self.maximumShear) {
            return ("augment-shear", "degrees in 0...\(Self.maximumShear)", "\(shear)")
        }
        return nil
    }

    /// The transform of image `index` in epoch `epoch` (0-based) of a run seeded `seed`: a pure function of
    /// the three, drawn from its own SplitMix64 stream in the order rotation, shift x, shift y, scale, shear.
    /// Every parameter lies in its closed range; the vertical shear is always 0.
    public func parameters(seed: UInt64, epoch: Int, index: Int) -> AffineParameters {
        let epochSeed = Sampling.derivedSeed(
            Sampling.derivedSeed(seed, stream: 0xA4_6E17), stream: UInt64(bitPattern: Int64(epoch)))
        var generator = SplitMix64(seed: Sampling.derivedSeed(epochSeed, stream: UInt64(bitPattern: Int64(index))))
        let angle = generator.nextUniform(-rotation, rotation)
        let x = generator.nextUniform(-shift, shift)
        let y = generator.nextUniform(-shift, shift)
        let scale = generator.nextUniform(minimumScale, maximumScale)
        let shearX = generator.nextUniform(-shear, shear)
        return AffineParameters(rotation: angle, translateX: x, translateY: y, scale: scale, shearX: shearX)
    }
}

/// One affine transform of an image about its centre, in torchvision's terms.
///
/// A point p of the input lands at `C + T + R(rotation) · S(scale) · SHy(shearY) · SHx(shearX) · (p − C)`
/// in the output, with C the image centre, T the translation, pixel coordinates x right and y down (so a
/// positive rotation turns the digit clockwise on screen). Matches the arguments of
/// `torchvision.transforms.v2.functional.affine(img, angle, translate, scale, shear)`.
public struct AffineParameters: Sendable, Equatable {
    /// Rotation in degrees, clockwise on screen.
    public var rotation: Float
    /// Horizontal translation in pixels, positive to the right (after rotation, scale and shear).
    public var translateX: Float
    /// Vertical translation in pixels, positive downwards.
    public var translateY: Float
    /// Scale factor (1: none).
    public var scale: Float
    /// Horizontal shear in degrees.
    public var shearX: Float
    /// Vertical shear in degrees.
    public var shearY: Float

    /// A transform; `shearY` defaults to 0 (as `RandomAffine` with one shear range draws it).
    public init(rotation: Float = 0, translateX: Float = 0, translateY: Float = 0, scale: Float = 1,
                shearX: Float = 0, shearY: Float = 0) {
        self.rotation = rotation
        self.translateX = translateX
        self.translateY = translateY
        self.scale = scale
        self.shearX = shearX
        self.shearY = shearY
    }

    /// The transform that leaves every image unchanged.
    public static let identity = AffineParameters()

    /// The inverse map `[a, b, c, d, e, f]`: the output point (x, y), relative to the image centre, samples the
    /// input at (a·x + b·y + c, d·x + e·y + f), also relative to the centre. Computed in Double as torchvision's
    /// `_get_inverse_affine_matrix(center=[0, 0], ...)` does (the tensor path of `affine`); the scale must not be 0.
    public var inverseMatrix: [Double] {
        let rot = Double(rotation) * .pi / 180
        let sx = Double(shearX) * .pi / 180
        let sy = Double(shearY) * .pi / 180
        let a = cos(rot - sy) / cos(sy)
        let b = -cos(rot - sy) * tan(sx) / cos(sy) - sin(rot)
        let c = sin(rot - sy) / cos(sy)
        let d = -sin(rot - sy) * tan(sx) / cos(sy) + cos(rot)
        let s = Double(scale)
        var m = [d / s, -b / s, 0, -c / s, a / s, 0]
        let tx = Double(translateX), ty = Double(translateY)
        m[2] += m[0] * -tx + m[1] * -ty
        m[5] += m[3] * -tx + m[4] * -ty
        return m
    }

    /// Warps one image: `input` holds `rows × columns` pixels row-major (0 background ... 255 ink) and
    /// `output` receives the transformed image as Float pixel values on the same 0...255 scale.
    ///
    /// Each output pixel centre is mapped through `inverseMatrix` and the input is sampled bilinearly there,
    /// pixels outside the input counting as 0. Matches `torch.nn.functional.grid_sample(img, affine_grid(θ),
    /// mode="bilinear", padding_mode="zeros", align_corners=False)` with θ the inverse matrix divided by the
    /// half-size (which is `torchvision.transforms.v2.functional.affine(..., interpolation=BILINEAR)` with no
    /// fill) to within Float32 rounding; `RandomAffine(fill=0)` also multiplies by the sampled coverage, which
    /// differs only within one pixel of the border, where MNIST has no ink. The identity transform copies the
    /// pixels exactly. `output` must hold at least `rows × columns` values (precondition).
    public func warp(_ input: UnsafeBufferPointer<UInt8>, rows: Int, columns: Int,
                     into output: UnsafeMutableBufferPointer<Float>) {
        precondition(input.count >= rows * columns && output.count >= rows * columns,
                     "warp needs \(rows * columns) pixels in and out, found \(input.count) and \(output.count)")
        let m = inverseMatrix.map { Float($0) }
        let halfWidth = Float(columns) * 0.5, halfHeight = Float(rows) * 0.5
        for i in 0..<rows {
            // Pixel centres relative to the image centre, as torchvision's grid (i + 0.5 − h/2).
            let yOut = Float(i) + 0.5 - halfHeight
            for j in 0..<columns {
                let xOut = Float(j) + 0.5 - halfWidth
                // The sample point in the input's pixel-index coordinates (pixel j's centre at j).
                let x = (m[0] * xOut + m[1] * yOut + m[2]) + halfWidth - 0.5
                let y = (m[3] * xOut + m[4] * yOut + m[5]) + halfHeight - 0.5
                output[i * columns + j] = Self.bilinear(input, rows: rows, columns: columns, x: x, y: y)
            }
        }
    }

    /// The input sampled at (x, y) in pixel-index coordinates, bilinearly, 0 outside: grid_sample's
    /// weights (distance to the far corner along each axis).
    @inline(__always)
    private static func bilinear(_ input: UnsafeBufferPointer<UInt8>, rows: Int, columns: Int, x: Float, y: Float) -> Float {
        guard x > -1, y > -1, x < Float(columns), y < Float(rows) else { return 0 }
        let x0 = x.rounded(.down), y0 = y.rounded(.down)
        let east = x - x0, south = y - y0
        let west = (x0 + 1) - x, north = (y0 + 1) - y
        let column = Int(x0), row = Int(y0)
        func pixel(_ r: Int, _ c: Int) -> Float {
            r >= 0 && r < rows && c >= 0 && c < columns ? Float(input[r * columns + c]) : 0
        }
        return pixel(row, column) * (west * north) + pixel(row, column + 1) * (east * north)
            + pixel(row + 1, column) * (west * south) + pixel(row + 1, column + 1) * (east * south)
    }
}

/// The augmentation of one epoch's batches: the ranges, and the run's seed and the epoch that each image's
/// transform is drawn from (`AffineAugmentation.parameters(seed:epoch:index:)`).
public struct EpochAugmentation: Sendable, Equatable {
    /// The ranges of the transforms.
    public var augmentation: AffineAugmentation
    /// The run's seed.
    public var seed: UInt64
    /// The epoch, 0-based.
    public var epoch: Int

    /// The augmentation of `epoch` (0-based) in a run seeded `seed`.
    public init(_ augmentation: AffineAugmentation, seed: UInt64, epoch: Int) {
        self.augmentation = augmentation
        self.seed = seed
        self.epoch = epoch
    }

    /// Warps dataset image `index` (`rows × columns` bytes in `pixels`) with its transform and writes it
    /// normalized (`MNISTNormalization.normalize(value:)`) into `output`.
    public func normalizedImage(index: Int, pixels: UnsafeBufferPointer<UInt8>, rows: Int, columns: Int,
                                into output: UnsafeMutableBufferPointer<Float>) {
        augmentation.parameters(seed: seed, epoch: epoch, index: index)
            .warp(pixels, rows: rows, columns: columns, into: output)
        for i in 0..<rows * columns {
            output[i] = MNISTNormalization.normalize(value: output[i])
        }
    }
}

private extension Float {
    /// The shortest text of the value: 10 for 10.0, 0.9 for 0.9.
    var formatted: String { self == rounded() && abs(self) < 1e6 ? String(Int(self)) : String(self) }
}
