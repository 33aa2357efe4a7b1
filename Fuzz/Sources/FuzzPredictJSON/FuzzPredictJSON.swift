// libFuzzer target: the body of POST /api/predict up to the network (duplicate keys, JSON decoding, the
// addend, pixels or base64 PNG, decoding and preprocessing), through PredictionRequest.parseInput
// (AdderRequest, no NIO or Hummingbird) as the server takes it. A small image budget keeps the PNG part
// quick. A PredictionRequestError is a refusal (fine); any other error, a crash or a sanitizer report is a
// finding.
import AdderRequest
import Foundation
import CFuzzerDriver

private let configuration: ServerConfiguration = {
    var configuration = ServerConfiguration()
    configuration.maximumImagePixels = 64 * 1024
    return configuration
}()

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzPredictJSON(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let body = data.map { Data(bytes: $0, count: size) } ?? Data()
    do {
        let (input, addend) = try PredictionRequest.parseInput(body, configuration: configuration)
        precondition(input.pixels?.count == 784, "784 pixels")
        precondition(configuration.addendRange.contains(addend), "addend in range")
    } catch is PredictionRequestError {
    } catch {
        preconditionFailure("not a PredictionRequestError: \(error)")
    }
    return 0
}

/// The program's entry point (SwiftPM links `main` to it): libFuzzer's driver with this target's input function.
@_cdecl("FuzzPredictJSON_main")
func fuzzPredictJSONMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { fuzzPredictJSON($0, $1) }
}
