// libFuzzer target: JPEG decoding with DCT scaling and reduction (JPEGCodec.decodeReduced, EXIF orientation
// applied) and MNIST preprocessing (DigitPreprocessor.mnistPixels), as predict and the server run them, with a
// small pixel budget so the fuzzer spends its time on the decoder's paths rather than on huge images. The
// first byte picks the longest side of the reduction (1...64, or the default 512), the rest is the JPEG.
// libjpeg's errors must come back as JPEGError (its default error manager would exit the process).
import DigitImage
import CFuzzerDriver

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzJPEG(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size >= 1 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let longestSide = data[0] < 192 ? Int(data[0] % 64) + 1 : PNGCodec.reducedSide
    let decoded: DecodedJPEG
    do {
        decoded = try JPEGCodec.decodeReduced(bytes, source: "fuzz", longestSide: longestSide, maximumPixelCount: 64 * 1024)
    } catch is JPEGError {
        return 0
    } catch {
        preconditionFailure("not a JPEGError: \(error)")
    }
    precondition(max(decoded.image.width, decoded.image.height) <= longestSide, "reduced size")
    let digit = DigitPreprocessor.mnistPixels(from: decoded.image)
    precondition(digit.pixels.count == DigitPreprocessor.side * DigitPreprocessor.side, "784 pixels")
    return 0
}

/// The program's entry point (SwiftPM links `main` to it): libFuzzer's driver with this target's input function.
@_cdecl("FuzzJPEG_main")
func fuzzJPEGMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { fuzzJPEG($0, $1) }
}
