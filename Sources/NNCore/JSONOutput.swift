// The one JSON configuration of everything mnist-adder writes for people and scripts to read:
// the CLI's --json output, history.json, checkpoint metadata, the plan cache and server responses.
import Foundation

/// JSON as this program writes it: keys sorted (the same value always gives the same bytes) and `/`
/// written as is (Foundation escapes it as `\/` by default, which is valid JSON but hard to read in
/// paths such as "runs/20260101-120000").
public enum JSONOutput {
    /// A new encoder with the shared formatting; `pretty` adds line breaks and two-space indents,
    /// for output a person reads on a terminal. Non-finite numbers are not encodable (the
    /// encoder's default): `encode` throws `EncodingError.invalidValue`.
    public static func encoder(pretty: Bool = false) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty
            ? [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted] : [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// `value` as JSON text (UTF-8) with the shared formatting. Throws what `JSONEncoder.encode`
    /// throws (`EncodingError.invalidValue` for NaN or an infinity).
    public static func string<T: Encodable>(_ value: T, pretty: Bool = false) throws -> String {
        String(decoding: try encoder(pretty: pretty).encode(value), as: UTF8.self)
    }
}
