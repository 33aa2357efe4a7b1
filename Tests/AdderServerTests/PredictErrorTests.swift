// /predict's refusals: each malformed body, bad field, blank or oversized image and wrong content type
// gets its status and one-line error. The shared helpers (makeApp, postPredict, ...) are in ServerTests.swift.
import AdderNet
import AdderServer
import DigitImage
import Foundation
import Hummingbird
import HummingbirdTesting
import NNCore
import Testing

@Suite struct PredictErrorTests {
    /// Posts `body` and returns the status and the one-line error message.
    func failure(
        _ body: ByteBuffer, headers: HTTPFields = jsonHeaders, configuration: ServerConfiguration = ServerConfiguration()
    ) async throws -> (HTTPResponse.Status, String) {
        try await makeApp(configuration).test(.router) { client in
            let response = try await postPredict(client, body, headers: headers)
            #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
            let message = try errorMessage(response)
            #expect(!message.contains("\n"))
            return (response.status, message)
        }
    }

    let pixels = samplePixels.map(Int.init)

    @Test func badJSON() async throws {
        let (status, message) = try await failure(ByteBuffer(string: #"{"pixels": [1, 2"#))
        #expect(status == .badRequest)
        #expect(message.hasPrefix("request body is not a JSON object"))
    }

    @Test func jsonThatIsNotAnObject() async throws {
        let (status, message) = try await failure(ByteBuffer(string: "[1, 2, 3]"))
        #expect(status == .badRequest)
        #expect(message.hasPrefix("request body is not a JSON object"))
    }

    @Test func wrongFieldType() async throws {
        let (status, message) = try await failure(json(["pixels": "zeros", "addend": 1]))
        #expect(status == .badRequest)
        #expect(message == "field 'pixels' has the wrong type, expected an array of 784 integers in 0...255")
    }

    @Test func badBase64() async throws {
        let (status, message) = try await failure(json(["image": "data:image/png;base64,iVBO*w0K", "addend": 1]))
        #expect(status == .badRequest)
        #expect(message.hasPrefix("'image' is not valid base64: found the character '*'"))
    }

    @Test func dataURLWithoutBase64() async throws {
        let (status, message) = try await failure(json(["image": "data:image/png,abcd", "addend": 1]))
        #expect(status == .badRequest)
        #expect(message.contains("data:image/png;base64,"))
    }

    @Test(arguments: [783, 785, 0])
    func wrongPixelCount(count: Int) async throws {
        let (status, message) = try await failure(json(["pixels": [Int](repeating: 9, count: count), "addend": 1]))
        #expect(status == .badRequest)
        #expect(message == "'pixels' has \(count) values, expected 784 (28×28, row-major)")
    }

    @Test(arguments: [(256.0, "256"), (-1.0, "-1"), (3.5, "3.5")])
    func pixelOutOfRange(value: Double, shown: String) async throws {
        var values: [Any] = pixels
        values[100] = value
        let (status, message) = try await failure(json(["pixels": values, "addend": 1]))
        #expect(status == .badRequest)
        #expect(message == "pixel 100 is \(shown), expected an integer in 0...255")
    }

    @Test func missingAddend() async throws {
        let (status, message) = try await failure(json(["pixels": pixels]))
        #expect(status == .badRequest)
        #expect(message == "missing 'addend', expected an integer in 0...9")
    }

    @Test(arguments: [(10.0, "10"), (-1.0, "-1"), (2.5, "2.5")])
    func addendOutOfRange(value: Double, shown: String) async throws {
        let (status, message) = try await failure(json(["pixels": pixels, "addend": value]))
        #expect(status == .badRequest)
        #expect(message == "addend \(shown) is out of range, expected an integer in 0...9")
    }

    @Test func addendRangeIsConfigurable() async throws {
        let configuration = ServerConfiguration(addendRange: 0...4)
        let (status, message) = try await failure(json(["pixels": pixels, "addend": 5]), configuration: configuration)
        #expect(status == .badRequest)
        #expect(message == "addend 5 is out of range, expected an integer in 0...4")
        // A model said to be trained on -20...20 may be served on all of it.
        let wide = try PredictionServer.makeApplication(
            model: ServedModel(network: network, metadata: metadata, trainedAddendRange: -20...20),
            configuration: ServerConfiguration(addendRange: -20...20))
        try await wide.test(.router) { client in
            let response = try await postPredict(client, json(["pixels": pixels, "addend": -20]))
            #expect(response.status == .ok)
        }
    }

    @Test func addendOfWrongType() async throws {
        let (status, message) = try await failure(json(["pixels": pixels, "addend": "7"]))
        #expect(status == .badRequest)
        #expect(message == "field 'addend' has the wrong type, expected an integer in 0...9")
    }

    @Test func missingInput() async throws {
        let (status, message) = try await failure(json(["addend": 1]))
        #expect(status == .badRequest)
        #expect(message.hasPrefix("missing input"))
    }

    @Test func bothInputs() async throws {
        let png = try PNGCodec.encodeGray(samplePixels, width: 28, height: 28)
        let (status, message) = try await failure(
            json(["pixels": pixels, "image": Data(png).base64EncodedString(), "addend": 1]))
        #expect(status == .badRequest)
        #expect(message == "both 'image' and 'pixels' are given, expected exactly one of them")
    }

    @Test func undecodablePNGGivesThePNGErrorMessage() async throws {
        let png = try PNGCodec.encodeGray(samplePixels, width: 28, height: 28)
        for bytes in [Array("GIF89a, not a PNG".utf8), Array(png.prefix(40))] {
            // The decoder's own message: what the file is (a GIF), or libpng's (a PNG cut short).
            var expected = ""
            do {
                _ = try ImageDecoder.decodeReduced(bytes, source: "image")
            } catch {
                expected = "\(error)"
            }
            #expect(!expected.isEmpty)
            let (status, message) = try await failure(json(["image": Data(bytes).base64EncodedString(), "addend": 1]))
            #expect(status == .badRequest)
            #expect(message == expected)
        }
    }

    @Test func imageTooLargeIsRefusedFromItsHeader() async throws {
        let png = try PNGCodec.encodeGray([UInt8](repeating: 0, count: 200 * 100), width: 200, height: 100)
        let (status, message) = try await failure(
            json(["image": Data(png).base64EncodedString(), "addend": 1]),
            configuration: ServerConfiguration(maximumImagePixels: 19_999))
        #expect(status == .badRequest)
        #expect(message == "image is 200×100 (20000 pixels), expected at most 19999 pixels in all and 16384 per side")

        // One pixel over the default: 4097×4096 = 16,781,312 > 16,777,216.
        let over = try PNGCodec.encodeGray([UInt8](repeating: 0, count: 4097 * 4096), width: 4097, height: 4096)
        let (overStatus, overMessage) = try await failure(json(["image": Data(over).base64EncodedString(), "addend": 1]))
        #expect(overStatus == .badRequest)
        #expect(overMessage
            == "image is 4097×4096 (16781312 pixels), expected at most 16777216 pixels in all and 16384 per side")
    }

    @Test func blankPixelsAre422() async throws {
        let (status, message) = try await failure(json(["pixels": [Int](repeating: 0, count: 784), "addend": 1]))
        #expect(status == .unprocessableContent)
        #expect(message.hasPrefix("the picture holds no digit"))
    }

    @Test func blankDrawingIs422() async throws {
        let white = try PNGCodec.encodeGray([UInt8](repeating: 255, count: 280 * 280), width: 280, height: 280)
        let transparent = try PNGCodec.encodeRGBA([UInt8](repeating: 0, count: 280 * 280 * 4), width: 280, height: 280)
        for png in [white, transparent] {
            let (status, message) = try await failure(
                json(["image": "data:image/png;base64," + Data(png).base64EncodedString(), "addend": 1]))
            #expect(status == .unprocessableContent)
            #expect(message.hasPrefix("the picture holds no digit"))
        }
    }

    @Test func bodyOverTheConfiguredLimitIs413() async throws {
        let body = json(["pixels": pixels, "addend": 1])
        let configuration = ServerConfiguration(maximumBodyBytes: body.readableBytes - 1)
        let (status, message) = try await failure(body, configuration: configuration)
        #expect(status == .contentTooLarge)
        #expect(message.contains("expected at most \(body.readableBytes - 1) bytes"))
    }

    @Test func bodyOverOneMebibyteIs413ByDefault() async throws {
        let padding = String(repeating: " ", count: 1 << 20)
        let (status, message) = try await failure(ByteBuffer(string: #"{"addend": 1,"# + padding + "}"))
        #expect(status == .contentTooLarge)
        #expect(message.contains("expected at most 1048576 bytes"))
    }

    @Test(arguments: ["text/plain", "application/x-www-form-urlencoded"])
    func wrongContentTypeIs415(contentType: String) async throws {
        let (status, message) = try await failure(
            json(["pixels": pixels, "addend": 1]), headers: [.contentType: contentType])
        #expect(status == .unsupportedMediaType)
        #expect(message == "Content-Type is '\(contentType)', expected application/json")
    }

    @Test func missingContentTypeIs415() async throws {
        let (status, message) = try await failure(json(["pixels": pixels, "addend": 1]), headers: [:])
        #expect(status == .unsupportedMediaType)
        #expect(message == "Content-Type is missing, expected application/json")
    }

    @Test func jsonWithCharsetIsAccepted() async throws {
        try await makeApp().test(.router) { client in
            let response = try await postPredict(
                client, json(["pixels": pixels, "addend": 1]),
                headers: [.contentType: "Application/JSON; charset=utf-8"])
            #expect(response.status == .ok)
        }
    }
}
