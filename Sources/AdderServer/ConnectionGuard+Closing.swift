// The guard's outbound side: whether a connection stays open after an answer, its deadlines, its own
// answers (408, 503, parse errors) and how it closes.
import Foundation
import NIOCore
import NIOHTTP1

extension ConnectionGuard {
    // MARK: Outbound

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if closing {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        switch unwrapOutboundIn(data) {
        case .head(var head):
            guard head.status.code >= 200, !exchanges.isEmpty else {
                context.write(data, promise: promise)
                return
            }
            let first = exchanges.startIndex
            exchanges[first].responseStarted = true
            let exchange = exchanges[first]
            let hasLength = head.headers.contains(name: "content-length") || exchange.isHead
                || head.status == .noContent || head.status == .notModified
            let asksToClose = head.headers[canonicalForm: "connection"].contains { $0.lowercased() == "close" }
            var keepAlive = exchange.keepAlive && exchange.endReceived && !asksToClose && !quiescing && !inputClosed
                && !inputBroken
            if exchange.version.major == 1, exchange.version.minor == 0, !hasLength {
                // HTTP/1.0 has no chunked encoding: such a body ends with the connection.
                head.version = .http1_0
                keepAlive = false
            }
            if keepAlive {
                if exchange.version.minor == 0 { head.headers.replaceOrAdd(name: "Connection", value: "keep-alive") }
            } else {
                head.headers.replaceOrAdd(name: "Connection", value: "close")
            }
            exchanges[first].closeAfter = !keepAlive
            context.write(wrapOutboundOut(.head(head)), promise: promise)
        case .body:
            context.write(data, promise: promise)
        case .end:
            guard let exchange = exchanges.popFirst() else {
                context.write(data, promise: promise)
                return
            }
            if exchange.closeAfter {
                closing = true
                syncRegistry(context)
                let written = context.eventLoop.makePromise(of: Void.self)
                written.futureResult.cascade(to: promise)
                context.writeAndFlush(data, promise: written)
                written.futureResult.assumeIsolated().whenComplete { _ in self.finishClosing(context) }
                return
            }
            context.write(data, promise: promise)
            // A request pipelined behind this one is now the one the application reads or answers.
            guard exchanges.isEmpty else { return syncRegistry(context) }
            if let failure = deferredFailure {
                context.flush()
                respondAndClose(context, status: failure.status, message: failure.message)
                return
            }
            idleSince = .now()
            // A server shutting down, or a client that closed its side, will get no further request.
            if quiescing || inputClosed {
                context.flush()
                return close(context)
            }
            syncRegistry(context)
            updateTimer()
        }
    }

    // MARK: Deadlines

    func updateTimer() {
        guard !closing, let context else { return }
        timer?.cancel()
        timer = nil
        let deadline: NIODeadline
        let action: (ChannelHandlerContext) -> Void
        switch inbound {
        case .head(let since, _):
            (deadline, action) = (since + TimeAmount(limits.headTimeout), headTimedOut)
        case .body(let since, _, _):
            (deadline, action) = (since + TimeAmount(limits.bodyTimeout), bodyTimedOut)
        case .idle:
            guard exchanges.isEmpty else { return }
            (deadline, action) = (idleSince + TimeAmount(limits.idleTimeout), close)
        }
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { action(context) }
    }

    func cancelTimers() {
        timer?.cancel()
        timer = nil
        shutdownTimer?.cancel()
        shutdownTimer = nil
        stallTimer?.cancel()
        stallTimer = nil
    }

    private func headTimedOut(_ context: ChannelHandlerContext) {
        guard case .head(_, let bytes) = inbound, exchanges.isEmpty else { return close(context) }
        respondAndClose(
            context, status: .requestTimeout,
            message: "request head incomplete after \(formatSeconds(limits.headTimeout)) (\(bytes) bytes received), "
                + "expected the request line and headers within \(formatSeconds(limits.headTimeout))")
    }

    private func bodyTimedOut(_ context: ChannelHandlerContext) {
        guard case .body(_, let received, let expected) = inbound, let message = lateBodyMessage(received, expected)
        else { return close(context) }
        respondAndClose(
            context, status: .requestTimeout,
            message: "request body incomplete after \(formatSeconds(limits.bodyTimeout)) (\(message)), "
                + "expected the whole body within \(formatSeconds(limits.bodyTimeout))")
    }

    /// "10 of 1000 bytes received" when the guard may still answer the request whose body is late (its
    /// answer has not started and none is pending before it), else nil.
    private func lateBodyMessage(_ received: Int, _ expected: Int?) -> String? {
        guard exchanges.count == 1, !exchanges[exchanges.startIndex].responseStarted else { return nil }
        return expected.map { "\(received) of \($0) bytes received" } ?? "\(received) bytes received"
    }

    // MARK: Shutdown and eviction

    func beginShutdown(_ context: ChannelHandlerContext) {
        quiescing = true
        shutdownTimer = context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(limits.shutdownTimeout)) {
            self.shutdownDeadlinePassed(context)
        }
        // Nothing in flight (an idle connection, or a head not complete yet): close after a short grace,
        // so that bytes already received are read first (a request they complete is in flight; closing
        // with them unread would also reset the connection). A connection already closing goes on
        // lingering, within the shutdown deadline.
        let grace = min(limits.shutdownGrace, limits.shutdownTimeout)
        context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(grace)) {
            if !self.closing, self.exchanges.isEmpty { self.close(context) }
        }
    }

    private func shutdownDeadlinePassed(_ context: ChannelHandlerContext) {
        guard !closing, case .body(_, let received, let expected) = inbound,
            let message = lateBodyMessage(received, expected)
        else { return close(context) }
        respondAndClose(
            context, status: .serviceUnavailable, linger: false,
            message: "the server is shutting down and the request body was incomplete after the shutdown timeout of "
                + "\(formatSeconds(limits.shutdownTimeout)) (\(message)), expected the whole body sooner")
    }

    func evict(_ context: ChannelHandlerContext) {
        guard !closing, case .body(_, let received, let expected) = inbound,
            let message = lateBodyMessage(received, expected)
        else { return close(context) }
        respondAndClose(
            context, status: .serviceUnavailable,
            message: "the server is at its limit of \(registry.maximum) connections and closed this one, whose body "
                + "was still arriving (\(message)), expected the whole body sooner")
    }

    // MARK: Closing

    /// Writes `{"error": message}` with `status` and `Connection: close`, then closes (lingering on the
    /// input unless `linger` is false).
    func respondAndClose(_ context: ChannelHandlerContext, status: HTTPResponseStatus, linger: Bool = true, message: String) {
        let body = PredictionServer.errorBuffer(message)
        let headers = HTTPHeaders([
            ("Content-Type", "application/json; charset=utf-8"), ("Content-Length", String(body.readableBytes)),
            ("Date", httpDate()), ("Server", limits.serverName), ("Connection", "close"),
        ])
        closing = true
        syncRegistry(context)
        timer?.cancel()
        timer = nil
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            if linger { self.finishClosing(context) } else { self.close(context) }
        }
    }

    /// After a final answer: closes at once when the request was read to its end, else closes the output
    /// and discards input until the client closes its side or `lingerTimeout` passes.
    func finishClosing(_ context: ChannelHandlerContext) {
        closing = true
        timer?.cancel()
        timer = nil
        guard context.channel.isActive else { return }
        if inputClosed || (isIdle && !inputBroken) { return close(context) }
        context.close(mode: .output).assumeIsolated().whenFailure { _ in self.close(context) }
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(limits.lingerTimeout)) {
            self.close(context)
        }
    }

    func close(_ context: ChannelHandlerContext) {
        closing = true
        cancelTimers()
        guard self.context != nil else { return }  // removed from the pipeline: the channel is gone
        context.close(promise: nil)
    }
}

/// The current time as an HTTP `Date` header writes it: "Mon, 07 Dec 2026 02:15:49 GMT".
func httpDate() -> String {
    var now = time(nil)
    var parts = tm()
    gmtime_r(&now, &parts)
    var text = [CChar](repeating: 0, count: 40)
    let count = strftime(&text, text.count, "%a, %d %b %Y %H:%M:%S GMT", &parts)
    return String(decoding: text.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
