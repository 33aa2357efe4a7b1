// JSONDecoder keeps one of two equal keys in an object and says nothing, so `{"addend": 1, "addend": 9}`
// would be answered for an addend the client may not have meant. This pass finds such keys first.
import Foundation

enum DuplicateKeys {
    private enum Container {
        case object(keys: Set<String>, expectsKey: Bool)
        case array
    }

    /// The first key that appears twice in one object of the JSON text `bytes`, at any depth, with escape
    /// sequences decoded (`"add\u0065nd"` is `addend`). Nil when there is none, or when the text stops
    /// being JSON before one is found (the decoder then reports what is wrong). One pass, no recursion.
    static func first(in bytes: Data) -> String? {
        bytes.withUnsafeBytes { first(in: $0) }
    }

    private static func first(in bytes: UnsafeRawBufferPointer) -> String? {
        var stack: [Container] = []
        var i = 0
        while i < bytes.count {
            switch bytes[i] {
            case UInt8(ascii: "{"):
                stack.append(.object(keys: [], expectsKey: true))
            case UInt8(ascii: "["):
                stack.append(.array)
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                guard stack.popLast() != nil else { return nil }
            case UInt8(ascii: ","):
                if case .object(let keys, _) = stack.last { stack[stack.count - 1] = .object(keys: keys, expectsKey: true) }
            case UInt8(ascii: "\""):
                guard let end = stringEnd(bytes, from: i + 1) else { return nil }
                if case .object(var keys, true) = stack.last {
                    guard let key = decodeString(bytes, (i + 1)..<end) else { return nil }
                    if keys.contains(key) { return key }
                    keys.insert(key)
                    stack[stack.count - 1] = .object(keys: keys, expectsKey: false)
                }
                i = end
            default:
                break  // whitespace, ':', numbers, true, false, null
            }
            i += 1
        }
        return nil
    }

    /// The index of the quote that closes the string whose first character is at `start`.
    private static func stringEnd(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        var i = start
        while i < bytes.count {
            switch bytes[i] {
            case UInt8(ascii: "\\"): i += 2
            case UInt8(ascii: "\""): return i
            default: i += 1
            }
        }
        return nil
    }

    /// The string between the quotes, escapes decoded; nil for an invalid escape.
    private static func decodeString(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> String? {
        let raw = UnsafeRawBufferPointer(rebasing: bytes[range])
        guard raw.contains(UInt8(ascii: "\\")) else { return String(decoding: raw, as: UTF8.self) }
        var utf16: [UInt16] = []
        var text = [UInt8]()
        func flush() {
            text.append(contentsOf: String(decoding: utf16, as: UTF16.self).utf8)
            utf16.removeAll()
        }
        var i = 0
        while i < raw.count {
            let byte = raw[i]
            guard byte == UInt8(ascii: "\\"), i + 1 < raw.count else {
                flush()
                text.append(byte)
                i += 1
                continue
            }
            let escaped = raw[i + 1]
            i += 2
            if escaped == UInt8(ascii: "u") {
                guard i + 4 <= raw.count,
                    let unit = UInt16(String(decoding: UnsafeRawBufferPointer(rebasing: raw[i..<(i + 4)]), as: UTF8.self), radix: 16)
                else { return nil }
                utf16.append(unit)
                i += 4
                continue
            }
            flush()
            switch escaped {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): text.append(escaped)
            case UInt8(ascii: "b"): text.append(0x08)
            case UInt8(ascii: "f"): text.append(0x0C)
            case UInt8(ascii: "n"): text.append(0x0A)
            case UInt8(ascii: "r"): text.append(0x0D)
            case UInt8(ascii: "t"): text.append(0x09)
            default: return nil
            }
        }
        flush()
        return String(decoding: text, as: UTF8.self)
    }

    /// `key` as an error message shows it: control characters escaped, at most 64 characters.
    static func display(_ key: String) -> String {
        var shown = ""
        for (count, character) in key.enumerated() {
            if count == 64 { return shown + "…" }
            if character.isNewline || character.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
                shown += character.unicodeScalars.map { "\\u{\(String($0.value, radix: 16))}" }.joined()
            } else {
                shown.append(character)
            }
        }
        return shown
    }
}
