// PredictionServer.jsonAnswer: a value that cannot be encoded (NaN, infinity) is a fixed JSON 500, never a
// 200 with a stand-in body; an encodable value is a 200 with its JSON.
import AdderServer
import Foundation
import Hummingbird
import Testing

@Suite struct JSONAnswerTests {
    private func text(_ buffer: ByteBuffer) -> String {
        String(decoding: buffer.readableBytesView, as: UTF8.self)
    }

    @Test func anEncodableValueIsA200WithItsJSON() {
        let answer = PredictionServer.jsonAnswer(["logits": [Float(1.5), -2], "sum": [7.25]])
        #expect(answer.status == .ok)
        #expect(text(answer.body) == #"{"logits":[1.5,-2],"sum":[7.25]}"#)
    }

    @Test(arguments: [Float.nan, .infinity, -.infinity])
    func aNonFiniteNumberIsTheFixed500(value: Float) throws {
        let answer = PredictionServer.jsonAnswer(["logits": [0, value], "sum": [1]])
        #expect(answer.status == .internalServerError)
        #expect(text(answer.body) == PredictionServer.encodingFailureBody)
        // The fixed body is itself a JSON error object, as every other error answer is.
        let object = try JSONSerialization.jsonObject(with: Data(answer.body.readableBytesView)) as? [String: String]
        #expect(object?["error"] == "internal error: the answer could not be encoded as JSON")
    }
}
