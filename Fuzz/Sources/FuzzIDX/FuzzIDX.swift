// libFuzzer target: the IDX readers (raw and gzip) on arbitrary bytes. The first byte chooses images or
// labels, the rest is the file. A throw is a refusal (fine); a crash, a leak or a sanitizer report is a finding.
import MNISTData
import CFuzzerDriver

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzIDX(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size >= 1 else { return 0 }
    let bytes = UnsafeBufferPointer(start: data + 1, count: size - 1)
    if data[0] & 1 == 0 {
        if let images = try? IDXImages(parsing: bytes, file: "fuzz") {
            precondition(images.pixels.count == images.count * images.rows * images.columns, "pixel count")
        }
    } else {
        if let labels = try? IDXLabels(parsing: bytes, file: "fuzz") {
            precondition(labels.labels.count == labels.count, "label count")
        }
    }
    return 0
}

/// The program's entry point (SwiftPM links `main` to it): libFuzzer's driver with this target's input function.
@_cdecl("FuzzIDX_main")
func fuzzIDXMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { fuzzIDX($0, $1) }
}
