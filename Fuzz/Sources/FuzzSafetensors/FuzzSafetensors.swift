// libFuzzer target: the safetensors file parser (length, JSON header, entries, tiling) on arbitrary bytes,
// then reading every tensor it accepted. A throw is a refusal (fine); a crash or a sanitizer report is a finding.
import NNCore
import CFuzzerDriver

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzSafetensors(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    guard let file = try? SafetensorsFile(bytes: bytes, source: "fuzz") else { return 0 }
    precondition(file.names.count == file.entries.count, "names and entries")
    for name in file.names {
        guard let entry = try? file.entry(name) else { preconditionFailure("a listed name has no entry") }
        precondition(entry.byteRange.count == entry.shape.reduce(entry.dtype.byteCount, *), "size of \(name)")
        switch entry.dtype {
        case .float32: _ = try? file.float32(name)
        case .int64: _ = try? file.int64(name)
        default: break
        }
    }
    return 0
}

/// The program's entry point (SwiftPM links `main` to it): libFuzzer's driver with this target's input function.
@_cdecl("FuzzSafetensors_main")
func fuzzSafetensorsMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { fuzzSafetensors($0, $1) }
}
