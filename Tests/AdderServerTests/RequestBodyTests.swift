// Request bodies the hardened server reads differently: MIME base64 with line breaks, duplicate keys.
import AdderServer
import DigitImage
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@Suite struct RequestBodyTests {
    let pixelsJSON = "[" + samplePixels.map { String($0) }.joined(separator: ",") + "]"

    /// `base64` wraps at 76 characters with LF; other encoders use CRLF.
    @Test(arguments: ["\n", "\r\n"])
    func mimeBase64WithLineBreaksIsAccepted(lineBreak: String) async throws {
        let png = try PNGCodec.encodeGray(samplePixels, width: 28, height: 28)
        let flat = Data(png).base64EncodedString()
        let wrapped = Data(png).base64EncodedString(options: .lineLength76Characters)
            .replacingOccurrences(of: "\r\n", with: lineBreak) + lineBreak
        #expect(wrapped.contains(lineBreak) && wrapped.count > flat.count)
        try await makeApp().test(.router) { client in
            let expected = try await postPredict(client, json(["image": flat, "addend": 2]))
            let response = try await postPredict(client, json(["image": wrapped, "addend": 2]))
            #expect(response.status == .ok)
            let p = try JSONDecoder().decode(PredictionResponse.self, from: data(response.body))
            #expect(p == (try JSONDecoder().decode(PredictionResponse.self, from: data(expected.body))).with(milliseconds: p.milliseconds))
            checkConsistent(p, pixels: samplePixels, addend: 2)
        }
    }

    @Test func base64WithOtherCharactersIsStillRefused() async throws {
        try await makeApp().test(.router) { client in
            let response = try await postPredict(client, json(["image": "iVBO\nRw0K*GgoA", "addend": 2]))
            #expect(response.status == .badRequest)
            #expect(try errorMessage(response).hasPrefix("'image' is not valid base64: found the character '*'"))
        }
    }

    @Test(arguments: [
        (#"{"addend": 1, "pixels": PIXELS, "addend": 2}"#, "addend"),
        (#"{"addend": 1, "pixels": PIXELS, "add\u0065nd": 2}"#, "addend"),
        (#"{"pixels": PIXELS, "addend": 1, "note": {"a": 1, "b": [{"c": 1, "c": 2}]}}"#, "c"),
        (#"{"pixels": PIXELS, "pixels": [], "addend": 1}"#, "pixels"),
    ])
    func duplicateKeysAre400NamingTheKey(template: String, key: String) async throws {
        let body = template.replacingOccurrences(of: "PIXELS", with: pixelsJSON)
        try await makeApp().test(.router) { client in
            let response = try await postPredict(client, ByteBuffer(string: body))
            #expect(response.status == .badRequest)
            #expect(try errorMessage(response)
                == "request body has the key '\(key)' twice in one object, expected each key at most once")
        }
    }

    /// The same key in different objects, or a value equal to a key, is no duplicate.
    @Test func equalKeysInDifferentObjectsAreFine() async throws {
        let body = #"{"pixels": PIXELS, "addend": 1, "a": {"x": 1}, "b": {"x": "addend"}, "c": ["addend", "addend"]}"#
            .replacingOccurrences(of: "PIXELS", with: pixelsJSON)
        try await makeApp().test(.router) { client in
            let response = try await postPredict(client, ByteBuffer(string: body))
            #expect(response.status == .ok)
        }
    }

    @Test func aDuplicateKeyIsShownOnOneShortLine() async throws {
        let long = String(repeating: "k", count: 100) + "\n"
        let body = #"{"KEY": 1, "KEY": 2}"#.replacingOccurrences(of: "KEY", with: long.replacingOccurrences(of: "\n", with: "\\n"))
        try await makeApp().test(.router) { client in
            let response = try await postPredict(client, ByteBuffer(string: body))
            #expect(response.status == .badRequest)
            let message = try errorMessage(response)
            #expect(message == "request body has the key '\(String(repeating: "k", count: 64))…' twice in one object, "
                + "expected each key at most once")
        }
    }
}

extension PredictionResponse {
    /// A copy with `milliseconds` replaced, to compare two answers timed differently.
    func with(milliseconds: Double) -> PredictionResponse {
        var copy = self
        copy.milliseconds = milliseconds
        return copy
    }
}
