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
    /// The largest PNG width or height in pixels; checked from the PNG header before any pixel buffer is
    /// allocated, so a small file cannot ask for a huge image (2048 by default, a 16 MiB RGBA buffer).
    public var maximumImageSide: Int
    /// How many predictions run at once, each with its own single-threaded `AdderEngine`
    /// (by default one per active core); further requests wait for a free engine.
    public var engineCount: Int

    /// A configuration; every parameter has the default the CLI uses.
    public init(
        host: String = "127.0.0.1",
        port: Int = 8080,
        addendRange: ClosedRange<Int> = 0...9,
        maximumBodyBytes: Int = 1 << 20,
        maximumImageSide: Int = 2048,
        engineCount: Int = ProcessInfo.processInfo.activeProcessorCount
    ) {
        self.host = host
        self.port = port
        self.addendRange = addendRange
        self.maximumBodyBytes = maximumBodyBytes
        self.maximumImageSide = maximumImageSide
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
        guard (28...PNGCodec.maximumSide).contains(maximumImageSide) else {
            throw ServerConfigurationError.imageSideOutOfRange(maximumImageSide, allowed: 28...PNGCodec.maximumSide)
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
    /// The image side limit is outside the allowed range.
    case imageSideOutOfRange(Int, allowed: ClosedRange<Int>)
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
        case .imageSideOutOfRange(let side, let allowed):
            "maximum image side is \(side) pixels, expected \(allowed)"
        case .engineCountOutOfRange(let count, let allowed):
            "engine count is \(count), expected \(allowed)"
        }
    }
}
