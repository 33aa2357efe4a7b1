// The checkpoint metadata as `GET /api/model` reports it: safetensors metadata is text only, so the values
// this program writes as JSON (options, metrics, history, the model description, the addend range) are
// parsed back into JSON values instead of being sent as JSON text inside strings.
import Foundation

/// A JSON value: what one metadata entry becomes in `GET /api/model`.
public indirect enum MetadataValue: Sendable, Equatable, Codable {
    /// A string (every metadata value that is not a JSON object or array stays text).
    case string(String)
    /// A number inside a parsed object or array.
    case number(Double)
    /// An integer inside a parsed object or array (kept exact, e.g. a 64-bit seed).
    case integer(Int64)
    /// A boolean inside a parsed object or array.
    case bool(Bool)
    /// JSON null inside a parsed object or array.
    case null
    /// A JSON array.
    case array([MetadataValue])
    /// A JSON object.
    case object([String: MetadataValue])

    /// The value of one metadata entry: its text parsed as JSON when it is an object or an array (it starts
    /// with `{` or `[` and parses), else the text itself as a string, so plain values keep their exact text.
    public init(metadataText text: String) {
        let start = text.first { !$0.isWhitespace }
        if start == "{" || start == "[", let value = try? JSONDecoder().decode(MetadataValue.self, from: Data(text.utf8)) {
            self = value
        } else {
            self = .string(text)
        }
    }

    /// Reads any JSON value; integers that fit in Int64 stay integers.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([MetadataValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: MetadataValue].self))
        }
    }

    /// Writes the value as plain JSON (no tags).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .integer(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        case .null: try container.encodeNil()
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}
