// What a server binds to and what it accepts. Checked once, by `PredictionServer.makeApplication`.
import DigitImage
import Foundation

/// Where the server listens and the limits it enforces on requests.
public struct ServerConfiguration: Sendable, Equatable {
    /// The address to bind, e.g. `127.0.0.1` (loopback only) or `0.0.0.0` (every interface).
    public var host: String
    /// The TCP port, 0...65535; 0 lets the system pick a free one.
    public var port: Int
    /// The addends `POST /api/predict` accepts; the page's picker offers the same range.
    /// The seed network was trained with addends 0...9.
    public var addendRange: ClosedRange<Int>
    /// The largest request body in bytes; a larger one gets 413 (1 MiB by default).
    public var maximumBodyBytes: Int
    /// The largest PNG in pixels (width · height), checked from the PNG header before decoding; 16 Mi
    /// (16,777,216) by default, which admits a phone's 12-megapixel photo (4032 × 3024). Whatever the size, the
    /// decoder holds a few MB (`PNGCodec.decodeReduced` averages rows down to 512 a side as they are read),
    /// so the budget bounds the decoding time: about that of inflating and averaging `width · height` pixels.
    /// Sides are also limited to `PNGCodec.maximumSide` (16,384).
    public var maximumImagePixels: Int
    /// How many predictions run at once, each with its own single-threaded `AdderEngine`
    /// (by default one per active core); further requests wait for a free engine.
    public var engineCount: Int

    /// A configuration; every parameter has the default the CLI uses.
    public init(
        host: String = "127.0.0.1",
        port: Int = 8080,
        addendRange: ClosedRange<Int> = 0...9,
        maximumBodyBytes: Int = 1 << 20,
        maximumImagePixels: Int = PNGCodec.defaultMaximumPixelCount,
        engineCount: Int = ProcessInfo.processInfo.activeProcessorCount
    ) {
        self.host = host
        self.port = port
        self.addendRange = addendRange
        self.maximumBodyBytes = maximumBodyBytes
        self.maximumImagePixels = maximumImagePixels
        self.engineCount = engineCount
    }

    /// The largest magnitude an addend may have: past it the adder's Float arithmetic no longer
    /// represents every integer sum exactly.
    public static let maximumAddendMagnitude = 1 << 20

    /// Checks every field. Throws the first `ServerConfigurationError` found.
    public func validate() throws {
        guard !host.isEmpty else { throw ServerConfigurationError.emptyHost }
        guard (0...65535).contains(port) else { throw ServerConfigurationError.portOutOfRange(port) }
        let m = Self.maximumAddendMagnitude
        guard addendRange.lowerBound >= -m, addendRange.upperBound <= m else {
            throw ServerConfigurationError.addendRangeTooWide(addendRange, limit: m)
        }
        guard maximumBodyBytes >= 1 else { throw ServerConfigurationError.bodyLimitNotPositive(maximumBodyBytes) }
        guard PNGCodec.pixelBudgetRange.contains(maximumImagePixels) else {
            throw ServerConfigurationError.imagePixelsOutOfRange(maximumImagePixels, allowed: PNGCodec.pixelBudgetRange)
        }
        guard (1...256).contains(engineCount) else {
            throw ServerConfigurationError.engineCountOutOfRange(engineCount, allowed: 1...256)
        }
    }
}

/// A server configuration that cannot be used; each message names the setting, the expected and the found value.
public enum ServerConfigurationError: Error, Equatable, CustomStringConvertible {
    /// The host is an empty string.
    case emptyHost
    /// The port is outside 0...65535.
    case portOutOfRange(Int)
    /// The addend range reaches past ±`limit`.
    case addendRangeTooWide(ClosedRange<Int>, limit: Int)
    /// The body limit is zero or negative.
    case bodyLimitNotPositive(Int)
    /// The image pixel budget is outside the allowed range.
    case imagePixelsOutOfRange(Int, allowed: ClosedRange<Int>)
    /// The engine count is outside the allowed range.
    case engineCountOutOfRange(Int, allowed: ClosedRange<Int>)

    /// One line naming the setting, the expected and the found value.
    public var description: String {
        switch self {
        case .emptyHost:
            "host is empty, expected an address such as 127.0.0.1"
        case .portOutOfRange(let port):
            "port \(port) is out of range, expected 0...65535"
        case .addendRangeTooWide(let range, let limit):
            "addend range \(range) is too wide, expected bounds within \(-limit)...\(limit)"
        case .bodyLimitNotPositive(let bytes):
            "maximum body size is \(bytes) bytes, expected at least 1"
        case .imagePixelsOutOfRange(let pixels, let allowed):
            "maximum image size is \(pixels) pixels, expected \(allowed)"
        case .engineCountOutOfRange(let count, let allowed):
            "engine count is \(count), expected \(allowed)"
        }
    }
}
