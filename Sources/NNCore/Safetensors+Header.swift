// Parsing and checking a safetensors JSON header. JSONSerialization parses; it keeps one of two
// equal keys silently, so a small scan of the top-level object's keys finds duplicates first.
import Foundation

/// The checked contents of a header: metadata and entries whose ranges tile the data buffer.
struct SafetensorsHeader {
    var metadata: [String: String] = [:]
    var entries: [String: SafetensorsEntry] = [:]

    init(_ header: [UInt8], source: String, bufferSize: Int) throws {
        guard !header.isEmpty else { throw SafetensorsError.headerNotJSON(file: source, reason: "header is empty") }
        guard String(validating: header, as: UTF8.self) != nil else {
            throw SafetensorsError.headerNotJSON(file: source, reason: "header is not valid UTF-8")
        }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(header), options: [])
        } catch {
            throw SafetensorsError.headerNotJSON(file: source, reason: Self.firstLine(of: error))
        }
        guard let dictionary = object as? [String: Any] else {
            throw SafetensorsError.headerNotObject(file: source, found: object is [Any] ? "array" : "value")
        }
        var scanner = TopLevelKeyScanner(header, source: source)
        let keys = try scanner.keys()
        var seen = Set<String>()
        for key in keys where !seen.insert(key).inserted {
            throw SafetensorsError.duplicateName(file: source, name: key)
        }

        for (name, value) in dictionary {
            if name == "__metadata__" {
                metadata = try Self.metadata(value, source: source)
            } else {
                entries[name] = try Self.entry(name, value, source: source, bufferSize: bufferSize)
            }
        }
        try Self.checkTiling(entries, source: source, bufferSize: bufferSize)
    }

    /// The parser's own words for `error`, on one line: JSONSerialization's debug description
    /// ("Invalid value around character 1.") rather than the NSError around it.
    private static func firstLine(of error: Error) -> String {
        let text = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(error)"
        let line = text.split(separator: "\n").first.map(String.init) ?? text
        return line.count > 200 ? String(line.prefix(200)) + "..." : line
    }

    private static func metadata(_ value: Any, source: String) throws -> [String: String] {
        guard let object = value as? [String: Any] else {
            throw SafetensorsError.invalidMetadata(file: source, reason: "is not an object")
        }
        var result: [String: String] = [:]
        for (key, item) in object {
            guard let string = item as? String else {
                throw SafetensorsError.invalidMetadata(file: source, reason: "value of \"\(key)\" is not a string")
            }
            result[key] = string
        }
        return result
    }

    /// A JSON integer ≥ 0 (not a boolean, not written with a fraction or exponent).
    private static func nonNegativeInteger(_ value: Any) -> Int? {
        guard let number = value as? NSNumber, !(number is NSDecimalNumber) else { return nil }
        // objCType tells JSON integers ("i", "q", ...) from booleans ("c") and non-integers ("d").
        let kind = String(cString: number.objCType)
        guard !["c", "B", "d", "f"].contains(kind) else { return nil }
        let integer = number.int64Value
        guard integer >= 0, integer <= Int64(Int.max) else { return nil }
        return Int(integer)
    }

    private static func entry(_ name: String, _ value: Any, source: String, bufferSize: Int) throws
        -> SafetensorsEntry
    {
        func invalid(_ reason: String) -> SafetensorsError {
            .invalidEntry(file: source, name: name, reason: reason)
        }
        guard let object = value as? [String: Any] else {
            throw invalid("entry is not an object with dtype, shape and data_offsets")
        }
        guard let dtypeString = object["dtype"] as? String else { throw invalid("dtype missing or not a string") }
        guard let dtype = SafetensorsDType(rawValue: dtypeString) else {
            throw SafetensorsError.unknownDType(file: source, name: name, dtype: dtypeString)
        }
        guard let shapeValues = object["shape"] as? [Any] else { throw invalid("shape missing or not an array") }
        var shape: [Int] = []
        for value in shapeValues {
            guard let size = nonNegativeInteger(value) else {
                throw invalid("shape \(shapeValues) has an entry that is not an integer ≥ 0")
            }
            shape.append(size)
        }
        guard let offsetValues = object["data_offsets"] as? [Any], offsetValues.count == 2,
            let begin = nonNegativeInteger(offsetValues[0]), let end = nonNegativeInteger(offsetValues[1])
        else {
            throw invalid("data_offsets missing or not two integers ≥ 0")
        }
        guard begin <= end else { throw SafetensorsError.reversedRange(file: source, name: name, begin: begin, end: end) }
        guard end <= bufferSize else {
            throw SafetensorsError.rangeBeyondBuffer(file: source, name: name, end: end, bufferSize: bufferSize)
        }
        var byteCount = dtype.byteCount
        for size in shape {
            let (product, overflow) = byteCount.multipliedReportingOverflow(by: size)
            guard !overflow else { throw invalid("shape \(shape) overflows the size of an integer") }
            byteCount = product
        }
        guard byteCount == end - begin else {
            throw SafetensorsError.byteCountMismatch(
                file: source, name: name, shape: shape, dtype: dtype.rawValue, expected: byteCount, found: end - begin)
        }
        return SafetensorsEntry(dtype: dtype, shape: shape, byteRange: begin..<end)
    }

    /// Ranges sorted by start must follow each other with no overlap and no gap, from 0 to the end.
    private static func checkTiling(_ entries: [String: SafetensorsEntry], source: String, bufferSize: Int) throws {
        let ordered = entries.sorted {
            ($0.value.byteRange.lowerBound, $0.value.byteRange.upperBound, $0.key)
                < ($1.value.byteRange.lowerBound, $1.value.byteRange.upperBound, $1.key)
        }
        var covered = 0
        var lastName: String?
        for (name, entry) in ordered {
            let range = entry.byteRange
            if range.lowerBound < covered, let lastName {
                throw SafetensorsError.overlappingRanges(file: source, first: lastName, second: name)
            }
            if range.lowerBound > covered {
                throw SafetensorsError.uncoveredBytes(
                    file: source, range: covered..<range.lowerBound, bufferSize: bufferSize)
            }
            if range.upperBound > covered || lastName == nil {
                covered = range.upperBound
                lastName = name
            }
        }
        if covered < bufferSize {
            throw SafetensorsError.uncoveredBytes(file: source, range: covered..<bufferSize, bufferSize: bufferSize)
        }
    }
}

/// Lists the keys of the top-level JSON object in order, duplicates included.
///
/// Runs only on text JSONSerialization has accepted, so it needs no error recovery; it still
/// checks every index and reports anything unexpected as `headerNotJSON`.
private struct TopLevelKeyScanner {
    let bytes: [UInt8]
    let source: String
    var index = 0

    init(_ bytes: [UInt8], source: String) {
        self.bytes = bytes
        self.source = source
    }

    private func unexpected() -> SafetensorsError {
        let found = index < bytes.count ? "byte \(bytes[index])" : "end of header"
        return .headerNotJSON(file: source, reason: "unexpected \(found) at header offset \(index)")
    }

    private mutating func skipWhitespace() {
        while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
    }

    private mutating func expect(_ byte: UInt8) throws {
        guard index < bytes.count, bytes[index] == byte else { throw unexpected() }
        index += 1
    }

    /// Skips a string starting at its opening quote; returns the bytes between the quotes.
    private mutating func skipString() throws -> ArraySlice<UInt8> {
        try expect(UInt8(ascii: "\""))
        let start = index
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\\"): index += 2
            case UInt8(ascii: "\""):
                index += 1
                return bytes[start..<(index - 1)]
            default: index += 1
            }
        }
        throw unexpected()
    }

    private mutating func skipValue() throws {
        guard index < bytes.count else { throw unexpected() }
        switch bytes[index] {
        case UInt8(ascii: "\""):
            _ = try skipString()
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            repeat {
                guard index < bytes.count else { throw unexpected() }
                switch bytes[index] {
                case UInt8(ascii: "\""): _ = try skipString(); continue
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
                default: break
                }
                index += 1
            } while depth > 0
        default:
            while index < bytes.count, ![UInt8(ascii: ","), UInt8(ascii: "}"), 0x20, 0x09, 0x0A, 0x0D]
                .contains(bytes[index])
            {
                index += 1
            }
        }
    }

    private func decodeKey(_ raw: ArraySlice<UInt8>) throws -> String {
        if !raw.contains(UInt8(ascii: "\\")) { return String(decoding: raw, as: UTF8.self) }
        // Escapes (\u0061 is "a") are decoded by JSONSerialization so equal names compare equal.
        let quoted = [UInt8(ascii: "\"")] + raw + [UInt8(ascii: "\"")]
        guard let key = try? JSONSerialization.jsonObject(with: Data(quoted), options: .fragmentsAllowed) as? String
        else { throw SafetensorsError.headerNotJSON(file: source, reason: "bad escape in key \(String(decoding: raw, as: UTF8.self))") }
        return key
    }

    mutating func keys() throws -> [String] {
        var keys: [String] = []
        skipWhitespace()
        try expect(UInt8(ascii: "{"))
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") { return keys }
        while true {
            skipWhitespace()
            keys.append(try decodeKey(try skipString()))
            skipWhitespace()
            try expect(UInt8(ascii: ":"))
            skipWhitespace()
            try skipValue()
            skipWhitespace()
            guard index < bytes.count else { throw unexpected() }
            if bytes[index] == UInt8(ascii: "}") { return keys }
            try expect(UInt8(ascii: ","))
        }
    }
}
