// The server's connection pipeline: Hummingbird's HTTP/1 child channel with a `ConnectionGuard` between
// NIO's HTTP/1 codec and the HTTPTypes conversion, and a byte observer in front of the decoder so the
// guard knows when a request's first byte arrives.
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// Hummingbird's `HTTP1Channel` pipeline with the connection guard in it; requests then run through
/// Hummingbird's own request loop (`handleHTTP`).
struct GuardedHTTP1Channel: ServerChildChannel, HTTPChannelHandler {
    typealias Value = NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>

    /// The largest request head (request line and headers together) in bytes; a larger one gets 431.
    static let maximumHeadBytes = 16 * 1024
    /// The most header fields in a request; more get 431.
    static let maximumHeaderFields = 100

    let responder: HTTPChannelHandler.Responder
    let limits: ConnectionLimits
    let registry: ConnectionRegistry

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let connection = ConnectionGuard(limits: limits, registry: registry)
            var decoderLimits = NIOHTTPDecoderLimitConfiguration()
            decoderLimits.maxHeaderFieldSize = Self.maximumHeadBytes
            decoderLimits.maxHeaderListSize = Self.maximumHeadBytes
            decoderLimits.maxHeaderFieldCount = Self.maximumHeaderFields
            let pipeline = channel.pipeline.syncOperations
            try pipeline.addHandler(RequestBytesObserver(connection))
            try pipeline.configureHTTPServerPipeline(
                withPipeliningAssistance: false,  // NIOAsyncChannel already serves requests one at a time
                withErrorHandling: false,  // the guard answers parse errors
                withOutboundHeaderValidation: false,  // HTTPTypes validates header fields
                withEncoderConfiguration: .init(),
                withDecoderLimitConfiguration: decoderLimits)
            try pipeline.addHandler(connection)
            try pipeline.addHandler(HTTP1ToHTTPServerCodec(secure: false))
            registry.register(channel)
            return try NIOAsyncChannel(
                wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
        }
    }

    func handle(value: Value, logger: Logger) async {
        await handleHTTP(asyncChannel: value, logger: logger)
    }
}

/// Tells the guard when request bytes arrive (before the decoder turns them into parts), and drops them
/// once the guard discards input.
final class RequestBytesObserver: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let connection: ConnectionGuard

    init(_ connection: ConnectionGuard) {
        self.connection = connection
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if connection.isDiscardingInput { return }
        connection.bytesArrived(unwrapInboundIn(data).readableBytes)
        context.fireChannelRead(data)
    }
}

/// The answer to a request NIO's HTTP/1 parser rejected: 431 for a head over the limits, 400 otherwise,
/// with one line naming what is wrong and what was expected.
struct ParseFailure {
    let code: Int
    let message: String

    init(_ error: HTTPParserError) {
        let limits = "at most \(GuardedHTTP1Channel.maximumHeadBytes) bytes of headers in at most "
            + "\(GuardedHTTP1Channel.maximumHeaderFields) fields"
        (code, message) =
            switch error {
            case .headerOverflow: (431, "request headers are too large, expected \(limits)")
            case .invalidChunkSize:
                (400, "malformed chunked body: a chunk size is not a hexadecimal number, expected e.g. '1a' then CRLF")
            case .invalidMethod: (400, "malformed request line: unknown method, expected e.g. GET, HEAD or POST")
            case .invalidURL: (400, "malformed request line: invalid request target, expected a path such as /healthz")
            case .invalidVersion: (400, "malformed request line: invalid HTTP version, expected HTTP/1.0 or HTTP/1.1")
            case .invalidHeaderToken:
                (400, "malformed header: invalid character in a header name or value, expected 'Name: value' lines")
            case .invalidContentLength:
                (400, "malformed Content-Length, expected one decimal number of bytes")
            case .unexpectedContentLength:
                (400, "both Content-Length and Transfer-Encoding are given, expected only one of them")
            case .invalidEOFState, .closedConnection:
                (400, "the client closed its side in the middle of the request, expected a complete request")
            case .lfExpected, .invalidConstant, .strictModeAssertion, .invalidCharactersUsed:
                (400, "malformed request: a line does not end in CRLF or holds an invalid character, expected HTTP/1.1 syntax")
            default:
                (400, "malformed request (the HTTP parser stopped: \(error)), expected HTTP/1.1 syntax")
            }
    }
}
