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
    /// How many forward passes (batches, see `batchWait`) run at once, each on its own single-threaded
    /// `AdderEngine` (by default one per active core); further batches wait for a free engine.
    public var engineCount: Int
    /// How long a prediction may wait for others to share its forward pass (2 ms by default): a batch
    /// leaves for a free engine once it holds `maximumBatch` images, once its first image has waited this
    /// long, or at once when no other prediction request is being read or prepared (so a lone client
    /// never waits). Zero turns batching off: every image gets a forward pass of its own.
    public var batchWait: Duration
    /// The most images one forward pass takes (64 by default); ignored when `batchWait` is zero.
    public var maximumBatch: Int
    /// The longest a client may take to send a request's line and headers, counted from the request's
    /// first byte (10 s by default). Past it the server answers 408 and closes the connection. A total
    /// deadline, not an inactivity timer: a client trickling a byte a second is cut off all the same.
    public var headTimeout: Duration
    /// The longest a client may take to send a request's body, counted from the end of its head
    /// (30 s by default). Past it the server answers 408 and closes the connection. Also how long a
    /// client may take none of its answer (the connection cannot be written to) before it is closed.
    public var bodyTimeout: Duration
    /// How long a connection may wait for the first byte of a request, new or kept alive after an answer,
    /// before the server closes it without answering (60 s by default).
    public var idleTimeout: Duration
    /// The most connections open at once (4096 by default). At the cap a new connection closes the one
    /// that has been idle longest (then one stuck in its head, then one stuck in its body, which gets a 503)
    /// to make room; only when every connection is computing an answer does the server stop accepting
    /// until one finishes (new clients wait in the listen backlog meanwhile). An accept burst can pass
    /// the cap by a few connections for as long as the evicted ones take to close.
    public var maximumConnections: Int
    /// On graceful shutdown (SIGTERM, SIGINT): how long requests in flight may take to finish before
    /// their connections are closed anyway (10 s by default; 0 closes them at once). Idle connections
    /// close within 0.1 s (bytes already received are read first); a request whose body is still
    /// arriving at the deadline gets a 503.
    public var shutdownTimeout: Duration

    /// A configuration; every parameter has the default the CLI uses.
    public init(
        host: String = "127.0.0.1",
        port: Int = 8080,
        addendRange: ClosedRange<Int> = 0...9,
        maximumBodyBytes: Int = 1 << 20,
        maximumImagePixels: Int = PNGCodec.defaultMaximumPixelCount,
        engineCount: Int = ProcessInfo.processInfo.activeProcessorCount,
        batchWait: Duration = .milliseconds(2),
        maximumBatch: Int = 64,
        headTimeout: Duration = .seconds(10),
        bodyTimeout: Duration = .seconds(30),
        idleTimeout: Duration = .seconds(60),
        maximumConnections: Int = 4096,
        shutdownTimeout: Duration = .seconds(10)
    ) {
        self.host = host
        self.port = port
        self.addendRange = addendRange
        self.maximumBodyBytes = maximumBodyBytes
        self.maximumImagePixels = maximumImagePixels
        self.engineCount = engineCount
        self.batchWait = batchWait
        self.maximumBatch = maximumBatch
        self.headTimeout = headTimeout
        self.bodyTimeout = bodyTimeout
        self.idleTimeout = idleTimeout
        self.maximumConnections = maximumConnections
        self.shutdownTimeout = shutdownTimeout
    }

    /// The largest magnitude an addend may have: past it the adder's Float arithmetic no longer
    /// represents every integer sum exactly.
    public static let maximumAddendMagnitude = 1 << 20

    /// The longest any timeout may be: one hour.
    public static let maximumTimeout = Duration.seconds(3600)
    /// The longest `batchWait`: one second.
    public static let maximumBatchWait = Duration.seconds(1)
    /// The allowed `maximumBatch` values.
    public static let batchSizeRange = 1...256

    /// The allowed connection caps.
    public static let connectionCapRange = 1...(1 << 20)

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
        guard batchWait >= .zero, batchWait <= Self.maximumBatchWait else {
            throw ServerConfigurationError.batchWaitOutOfRange(batchWait)
        }
        guard Self.batchSizeRange.contains(maximumBatch) else {
            throw ServerConfigurationError.batchSizeOutOfRange(maximumBatch, allowed: Self.batchSizeRange)
        }
        for (name, value) in [("head timeout", headTimeout), ("body timeout", bodyTimeout), ("idle timeout", idleTimeout)] {
            guard value > .zero, value <= Self.maximumTimeout else {
                throw ServerConfigurationError.timeoutOutOfRange(name: name, value, allowed: "more than 0 s and at most 3600 s")
            }
        }
        guard shutdownTimeout >= .zero, shutdownTimeout <= Self.maximumTimeout else {
            throw ServerConfigurationError.timeoutOutOfRange(
                name: "shutdown timeout", shutdownTimeout, allowed: "0 s to 3600 s")
        }
        guard Self.connectionCapRange.contains(maximumConnections) else {
            throw ServerConfigurationError.connectionCapOutOfRange(maximumConnections, allowed: Self.connectionCapRange)
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
    /// The batch wait is negative or over `ServerConfiguration.maximumBatchWait`.
    case batchWaitOutOfRange(Duration)
    /// The largest batch is outside the allowed range.
    case batchSizeOutOfRange(Int, allowed: ClosedRange<Int>)
    /// A timeout (`name`: "head timeout", "body timeout", "idle timeout", "shutdown timeout") is outside
    /// what `allowed` says.
    case timeoutOutOfRange(name: String, Duration, allowed: String)
    /// The connection cap is outside the allowed range.
    case connectionCapOutOfRange(Int, allowed: ClosedRange<Int>)
    /// The process may not open enough file descriptors for the connection cap, even after raising its
    /// soft limit to the hard one: `needed` descriptors (the cap plus a reserve), `limit` allowed.
    case descriptorLimitTooLow(connections: Int, needed: Int, limit: Int)

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
        case .batchWaitOutOfRange(let wait):
            "batch wait is \(formatSeconds(wait)), expected 0 s (no batching) to 1 s"
        case .batchSizeOutOfRange(let size, let allowed):
            "largest batch is \(size) images, expected \(allowed)"
        case .timeoutOutOfRange(let name, let value, let allowed):
            "\(name) is \(formatSeconds(value)), expected \(allowed)"
        case .connectionCapOutOfRange(let count, let allowed):
            "maximum connections is \(count), expected \(allowed)"
        case .descriptorLimitTooLow(let connections, let needed, let limit):
            "maximum connections \(connections) needs \(needed) file descriptors, expected at most the process limit "
                + "of \(limit) (ulimit -n): lower the cap or raise the limit"
        }
    }
}

extension ServerConfiguration {
    /// File descriptors kept aside for everything but client connections: the listening socket, the event
    /// loops' own descriptors (epoll, eventfd, timerfd), the standard streams, a few files.
    public static let reservedDescriptors = 128

    /// Makes sure the process may open `maximumConnections` plus `reservedDescriptors` file descriptors,
    /// raising its soft limit (`ulimit -n`) toward the hard one when it is lower; a cap the process
    /// cannot honour would let accepted connections exhaust the descriptors instead.
    ///
    /// - Throws: `ServerConfigurationError.descriptorLimitTooLow` when even the hard limit is too low.
    public func ensureDescriptorLimit() throws {
        var limits = rlimit()
        guard getrlimit(Self.descriptorResource, &limits) == 0 else { return }
        let needed = maximumConnections + Self.reservedDescriptors
        if UInt64(limits.rlim_cur) >= UInt64(needed) { return }
        let hard = limits.rlim_max == rlim_t.max ? UInt64.max : UInt64(limits.rlim_max)
        if hard >= UInt64(needed) {
            limits.rlim_cur = rlim_t(needed)
            if setrlimit(Self.descriptorResource, &limits) == 0 { return }
        }
        throw ServerConfigurationError.descriptorLimitTooLow(
            connections: maximumConnections, needed: needed, limit: Int(clamping: hard))
    }

    #if os(Linux)
    private static let descriptorResource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
    private static let descriptorResource = RLIMIT_NOFILE
    #endif
}

/// Seconds as a person writes them, with at most three decimals: "10 s", "0.5 s", "2.25 s".
package func formatSeconds(_ duration: Duration) -> String {
    let (seconds, attoseconds) = duration.components
    let milliseconds = (Double(seconds) * 1e3 + Double(attoseconds) / 1e15).rounded()
    var text = String(format: "%.3f", milliseconds / 1e3)
    while text.hasSuffix("0") { text.removeLast() }
    if text.hasSuffix(".") { text.removeLast() }
    return text + " s"
}
