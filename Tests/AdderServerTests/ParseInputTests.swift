// Predictor.parseInput (AdderServer) and PredictionRequest.parseInput (AdderRequest, which the fuzzer in
// Fuzz/ runs): the server's request checks short of the network.
import AdderServer
import DigitImage
import Foundation
import Testing

@Suite struct ParseInputTests {
    let configuration = ServerConfiguration()

    @Test func pixelsAndAddendComeBackAsGiven() throws {
        let body = try JSONSerialization.data(withJSONObject: ["pixels": samplePixels.map(Int.init), "addend": 7])
        let (input, addend) = try Predictor.parseInput(body, configuration: configuration)
        #expect(addend == 7)
        #expect(input.source == "pixels")
        #expect(input.pixels == samplePixels)
    }

    @Test func aPNGIsDecodedAndPreprocessedAsTheServerDoes() throws {
        let png = try PNGCodec.encodeGray(samplePixels, width: 28, height: 28)
        let body = try JSONSerialization.data(withJSONObject: ["image": Data(png).base64EncodedString(), "addend": 0])
        let (input, addend) = try PredictionRequest.parseInput(body, configuration: configuration)
        #expect(try Predictor.parseInput(body, configuration: configuration) == (input, addend))
        let expected = try DigitPreprocessor.mnistPixels(from: PNGCodec.decode(png, source: "test"))
        #expect(addend == 0)
        #expect((input.source, input.width, input.height) == ("image", 28, 28))
        #expect(input.pixels == expected.pixels)
    }

    @Test(arguments: [
        (#"{"addend": 1, "add\u0065nd": 2, "pixels": []}"#, PredictionRequestError.duplicateKey("addend")),
        (#"{"addend": 2.5, "pixels": []}"#, .addendOutOfRange(found: "2.5", allowed: 0...9)),
        (#"{"addend": "1", "pixels": []}"#, .wrongFieldType(field: "addend", expected: "an integer in 0...9")),
        (#"{"addend": 1}"#, .missingInput),
        (#"{"addend": 1, "pixels": [1, 2]}"#, .wrongPixelCount(expected: 784, found: 2)),
    ])
    func badBodiesGetTheServersError(body: String, error: PredictionRequestError) {
        #expect(throws: error) { try Predictor.parseInput(Data(body.utf8), configuration: configuration) }
        #expect(throws: error) { try PredictionRequest.parseInput(Data(body.utf8), configuration: configuration) }
    }
}
