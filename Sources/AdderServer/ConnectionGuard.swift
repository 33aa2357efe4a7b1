// One connection's limits and HTTP/1.x bookkeeping, between NIO's HTTP/1 codec and Hummingbird's
// request loop (which sees the request only as HTTPTypes, without its HTTP version).
//
// The guard keeps one deadline at a time: the head's (from the request's first byte), the body's (from
// the end of the head) or the idle one (from the last answer, or the connection's start); while the
// server computes an answer there is none. It answers 408 itself when the head or body is late, a JSON
// 400 when the request cannot be parsed, and decides after each answer whether the connection stays
// open: not for HTTP/1.0 without keep-alive, `Connection: close`, a body the application did not read,
// or a server shutting down.
//
// Hummingbird's own idle handling (`HTTP1Channel.Configuration.idleTimeout`, NIO's `IdleStateHandler`)
// restarts its timer at every part read, so a client trickling bytes is never cut off, and it closes
// without an answer; it also cannot tell the first byte of a request from nothing, nor HTTP/1.0 from 1.1.
import NIOCore
import NIOHTTP1

/// The limits a `ConnectionGuard` enforces, converted once per server.
struct ConnectionLimits: Sendable {
    var headTimeout: Duration
    var bodyTimeout: Duration
    var idleTimeout: Duration
    var shutdownTimeout: Duration
    /// After a final answer with unread input, how long the guard keeps reading and discarding it before
    /// closing, so that the client's unread request bytes do not turn the close into a reset that
    /// destroys the answer in flight.
    var lingerTimeout: Duration = .seconds(2)
    /// On shutdown, how long a connection with nothing in flight stays open before it is closed (at most
    /// the shutdown timeout): the event loop reads what already arrived on it first.
    var shutdownGrace: Duration = .milliseconds(100)
    /// The `Server` header of the guard's own answers.
    var serverName: String

    init(_ configuration: ServerConfiguration, serverName: String) {
        headTimeout = configuration.headTimeout
        bodyTimeout = configuration.bodyTimeout
        idleTimeout = configuration.idleTimeout
        shutdownTimeout = configuration.shutdownTimeout
        self.serverName = serverName
    }
}

/// The per-connection state machine; see the file comment. Lives on its channel's event loop.
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// What the request currently arriving is at.
    enum Inbound {
        /// No byte of a request since the last one ended (or since the connection opened).
        case idle
        /// Some bytes of a request head.
        case head(since: NIODeadline, bytes: Int)
        /// The head is complete and the body not yet.
        case body(since: NIODeadline, received: Int, expected: Int?)
    }

    /// A request whose answer has not ended yet, oldest first (HTTP/1.1 clients may pipeline).
    struct Exchange {
        var keepAlive: Bool
        var version: HTTPVersion
        var isHead: Bool
        var endReceived = false
        var responseStarted = false
        var closeAfter = false
    }

    let limits: ConnectionLimits
    let registry: ConnectionRegistry
    var context: ChannelHandlerContext?
    var inbound = Inbound.idle
    var exchanges = CircularBuffer<Exchange>()
    var idleSince = NIODeadline.now()
    var timer: Scheduled<Void>?
    var shutdownTimer: Scheduled<Void>?
    /// Runs while the client takes none of the answer (the channel is not writable).
    var stallTimer: Scheduled<Void>?
    var quiescing = false
    /// The client closed its side: no further request can come.
    var inputClosed = false
    /// The parser failed: what follows on the input cannot be read.
    var inputBroken = false
    /// Decided to close: further answers from the application are dropped, further input discarded.
    var closing = false
    /// A parse failure to answer once the answers to earlier pipelined requests have been written.
    var deferredFailure: (status: HTTPResponseStatus, message: String)?

    init(limits: ConnectionLimits, registry: ConnectionRegistry) {
        self.limits = limits
        self.registry = registry
    }

    /// True once the guard discards what arrives (read by `RequestBytesObserver`, in front of the decoder).
    var isDiscardingInput: Bool { closing || inputBroken }

    // MARK: Lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { start(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context)
        context.fireChannelActive()
    }

    private func start(_ context: ChannelHandlerContext) {
        idleSince = .now()
        registry.update(context.channel, phase: .idle, since: idleSince)
        updateTimer()
    }

    /// Tells the registry what the connection is doing now.
    func syncRegistry(_ context: ChannelHandlerContext) {
        let (phase, since): (ConnectionRegistry.Phase, NIODeadline) =
            switch inbound {
            case _ where closing: (.closing, .now())
            case .body(let since, _, _) where exchanges.count == 1: (.body, since)
            case _ where !exchanges.isEmpty: (.busy, .now())
            case .head(let since, _): (.head, since)
            case .body(let since, _, _): (.body, since)
            case .idle: (.idle, idleSince)
            }
        registry.update(context.channel, phase: phase, since: since)
    }

    func channelInactive(context: ChannelHandlerContext) {
        closing = true
        cancelTimers()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        closing = true
        cancelTimers()
        self.context = nil
    }

    // MARK: Inbound

    /// Called by `RequestBytesObserver` before the decoder sees `count` new bytes.
    func bytesArrived(_ count: Int) {
        guard !closing, let context else { return }
        switch inbound {
        case .idle:
            inbound = .head(since: .now(), bytes: count)
            syncRegistry(context)
            updateTimer()
        case .head(let since, let bytes):
            inbound = .head(since: since, bytes: bytes + count)
        case .body:
            break
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if closing { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            let expected = head.headers.first(name: "content-length").flatMap { Int($0) }
            inbound = .body(since: .now(), received: 0, expected: expected)
            exchanges.append(Exchange(keepAlive: head.isKeepAlive, version: head.version, isHead: head.method == .HEAD))
            syncRegistry(context)
            updateTimer()
        case .body(let buffer):
            if case .body(let since, let received, let expected) = inbound {
                inbound = .body(since: since, received: received + buffer.readableBytes, expected: expected)
            }
        case .end:
            inbound = .idle
            if !exchanges.isEmpty { exchanges[exchanges.index(before: exchanges.endIndex)].endReceived = true }
            syncRegistry(context)
            updateTimer()
        }
        context.fireChannelRead(data)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Once closing, the decoder's complaints about input cut short are expected.
        if closing || error is ByteToMessageDecoderError { return }
        guard let parserError = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        inputBroken = true
        let failure = ParseFailure(parserError)
        let status = HTTPResponseStatus(statusCode: failure.code)
        if case .body = inbound, exchanges.count == 1, !exchanges[exchanges.startIndex].responseStarted {
            // The application is reading this body: its body stream fails with the error and the
            // application answers it (a JSON 400), after which the connection closes.
            context.fireErrorCaught(error)
        } else if exchanges.isEmpty {
            respondAndClose(context, status: status, message: failure.message)
        } else {
            deferredFailure = (status, failure.message)
        }
    }

    /// A client that takes none of its answers (it sends requests but reads nothing) would hold its
    /// connection, busy, forever: when the channel stays unwritable for the body timeout, it is closed.
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            stallTimer?.cancel()
            stallTimer = nil
        } else if stallTimer == nil, !closing {
            stallTimer = context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(limits.bodyTimeout)) {
                self.close(context)
            }
        }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case is ChannelShouldQuiesceEvent:
            beginShutdown(context)
        case is ConnectionRegistry.EvictionEvent:
            evict(context)
        case let event as ChannelEvent where event == .inputClosed:
            inputClosed = true
            if closing || (exchanges.isEmpty && isIdle) {
                close(context)
            }
            context.fireUserInboundEventTriggered(event)
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    var isIdle: Bool {
        if case .idle = inbound { return true }
        return false
    }
}
