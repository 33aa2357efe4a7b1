// Raw-socket tests of the live server's limits: head, body and idle timeouts, the connection cap, and
// graceful shutdown with slow clients connected. The limits are set small so each test takes a second or
// two; every read has a timeout, so none can hang.
import AdderServer
import Foundation
import NNTestSupport
import Testing

/// Seconds since `start`.
func secondsSince(_ start: Date) -> Double { Date().timeIntervalSince(start) }

@Suite(.timeLimit(.minutes(1)))
struct TimeoutTests {
    @Test func lateHeadGets408AndClose() async throws {
        let configuration = ServerConfiguration(headTimeout: .milliseconds(500))
        let head = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        let (response, elapsed, closed) = try await withLiveServer(configuration) { server in
            try await onThread {
                let client = try RawClient(port: server.port)
                let start = Date()
                try client.send(head)
                let response = try client.readResponse()
                return (response, secondsSince(start), try client.isClosed(within: 5))
            }
        }
        #expect(response.status == 408)
        #expect(response.header("connection") == "close")
        #expect(response.errorMessage == "request head incomplete after 0.5 s (\(head.utf8.count) bytes received), "
            + "expected the request line and headers within 0.5 s")
        #expect(elapsed >= 0.45)
        #expect(closed)
    }

    /// A byte every 50 ms keeps the connection busy, but the head's deadline counts from its first byte.
    @Test func tricklingHeadIsCutOffAtTheDeadline() async throws {
        let configuration = ServerConfiguration(headTimeout: .milliseconds(500))
        let (sent, response) = try await withLiveServer(configuration) { server in
            try await onThread {
                let client = try RawClient(port: server.port)
                try client.send("GET /healthz HTTP/1.1\r\nX-Slow: ")
                var sent = 0
                // 200 bytes at 50 ms would take 10 s; the server answers after 0.5 s.
                while sent < 200, (try? client.send("a")) != nil {
                    sent += 1
                    usleep(50_000)
                    if try client.hasData(within: 0) { break }
                }
                return (sent, try client.readResponse())
            }
        }
        #expect(response.status == 408)
        #expect(sent < 200, "the trickle was never cut off")
    }

    @Test func lateBodyGets408AndClose() async throws {
        let configuration = ServerConfiguration(bodyTimeout: .milliseconds(500))
        let (response, elapsed, closed) = try await withLiveServer(configuration) { server in
            try await onThread {
                let client = try RawClient(port: server.port)
                try client.send(predictHead(length: 1000))
                let start = Date()
                try client.send("{\"pixels\":")
                let response = try client.readResponse()
                return (response, secondsSince(start), try client.isClosed(within: 5))
            }
        }
        #expect(response.status == 408)
        #expect(response.errorMessage == "request body incomplete after 0.5 s (10 of 1000 bytes received), "
            + "expected the whole body within 0.5 s")
        #expect(elapsed >= 0.45)
        #expect(closed)
    }

    /// A client that sends requests but takes none of the answers: once the server could send nothing
    /// for the body timeout, the connection is closed (it stayed open, busy, forever).
    @Test func aClientThatReadsNothingIsClosed() async throws {
        let configuration = ServerConfiguration(bodyTimeout: .milliseconds(500))
        let closed = try await withLiveServer(configuration) { server in
            try await onThread {
                let client = try RawClient(port: server.port, receiveBuffer: 4096)
                try client.send(String(repeating: getRequest("/"), count: 2000))
                usleep(3_000_000)
                return try client.drainUntilClosed(within: 10)
            }
        }
        #expect(closed)
    }

    @Test func idleConnectionsCloseWithoutAnAnswer() async throws {
        let configuration = ServerConfiguration(idleTimeout: .milliseconds(500))
        let (status, keptAliveClosed, freshClosed, elapsed) = try await withLiveServer(configuration) { server in
            try await onThread {
                let fresh = try RawClient(port: server.port)
                let kept = try RawClient(port: server.port)
                let start = Date()
                try kept.send(getRequest("/healthz"))
                let status = try kept.readResponse().status
                return (status, try kept.isClosed(within: 5), try fresh.isClosed(within: 5), secondsSince(start))
            }
        }
        #expect(status == 200)
        #expect(keptAliveClosed && freshClosed)
        #expect(elapsed >= 0.45)
    }
}

/// A connection whose POST body is still arriving (10 of 1000 bytes), known to the server as such: the
/// POST is pipelined behind a GET /healthz sent in the same packet, whose answer comes after the server
/// read both.
func slowBody(port: Int) throws -> RawClient {
    let client = try RawClient(port: port)
    try client.send(getRequest("/healthz") + predictHead(length: 1000) + "{\"pixels\":")
    guard try client.readResponse().status == 200 else { throw RawClientError("the GET before the slow body failed") }
    return client
}

@Suite(.timeLimit(.minutes(1)))
struct ConnectionCapTests {
    @Test func aNewConnectionClosesTheLongestIdleOne() async throws {
        let configuration = ServerConfiguration(maximumConnections: 4)
        let (status, oldestClosed, others) = try await withLiveServer(configuration) { server in
            try await onThread {
                var idle: [RawClient] = []
                for _ in 0..<4 {
                    let client = try RawClient(port: server.port)
                    try client.send(getRequest("/healthz"))
                    _ = try client.readResponse()
                    idle.append(client)
                    usleep(20_000)
                }
                let newcomer = try RawClient(port: server.port)
                try newcomer.send(getRequest("/healthz"))
                let status = try newcomer.readResponse().status
                let oldestClosed = try idle[0].isClosed(within: 5)
                var others: [Int] = []
                for client in idle.dropFirst() {
                    try client.send(getRequest("/healthz"))
                    others.append(try client.readResponse().status)
                }
                return (status, oldestClosed, others)
            }
        }
        #expect(status == 200)
        #expect(oldestClosed)
        #expect(others == [200, 200, 200])
    }

    /// Many more idle connections than the cap: the server closes the surplus and still answers.
    @Test func manyIdleConnectionsDoNotStopTheServer() async throws {
        let configuration = ServerConfiguration(maximumConnections: 16)
        let (status, closedCount) = try await withLiveServer(configuration) { server in
            try await onThread {
                let idle = try (0..<100).map { _ in try RawClient(port: server.port) }
                let client = try RawClient(port: server.port)
                try client.send(getRequest("/healthz"))
                // 30 s, not 10: the server works through 100 connections at a cap of 16 first, and on 2
                // busy cores (other test suites running at once) that has taken over 10 s.
                let status = try client.readResponse(timeout: 30).status
                return (status, try idle.filter { try $0.isClosed(within: 0.2) }.count)
            }
        }
        #expect(status == 200)
        #expect(closedCount >= 100 - 16)
    }

    /// Slow clients fill the cap: a head still arriving is evicted (closed) before a body still arriving.
    @Test func aHeadStillArrivingMakesRoomBeforeABody() async throws {
        let configuration = ServerConfiguration(maximumConnections: 4)
        let (status, headClosed, bodiesOpen) = try await withLiveServer(configuration) { server in
            try await onThread {
                // A head cut short behind a whole request: the answer tells that the server has the
                // connection. Whether it counts it idle or in its head, it ranks before a body.
                let slowHead = try RawClient(port: server.port)
                try slowHead.send(getRequest("/healthz") + "GET /healthz HTTP/1.1\r\n")
                _ = try slowHead.readResponse()
                let slowBodies = try (0..<3).map { _ in try slowBody(port: server.port) }
                let newcomer = try RawClient(port: server.port)
                try newcomer.send(getRequest("/healthz"))
                let status = try newcomer.readResponse().status
                return (status, try slowHead.isClosed(within: 5), try slowBodies.allSatisfy { try !$0.hasData(within: 0.1) })
            }
        }
        #expect(status == 200)
        #expect(headClosed)
        #expect(bodiesOpen)
    }

    /// The cap full of bodies still arriving: the oldest is answered 503 and closed to make room.
    @Test func aBodyStillArrivingMakesRoomWith503() async throws {
        let configuration = ServerConfiguration(maximumConnections: 4)
        let (status, oldest, others) = try await withLiveServer(configuration) { server in
            try await onThread {
                var slowBodies: [RawClient] = []
                for _ in 0..<4 {
                    slowBodies.append(try slowBody(port: server.port))
                    usleep(20_000)
                }
                let newcomer = try RawClient(port: server.port)
                try newcomer.send(getRequest("/healthz"))
                let status = try newcomer.readResponse().status
                return (status, try slowBodies[0].readResponse(), try slowBodies.dropFirst().allSatisfy { try !$0.hasData(within: 0.1) })
            }
        }
        #expect(status == 200)
        #expect(oldest.status == 503)
        #expect(oldest.errorMessage == "the server is at its limit of 4 connections and closed this one, whose body "
            + "was still arriving (10 of 1000 bytes received), expected the whole body sooner")
        #expect(others)
    }
}

@Suite(.timeLimit(.minutes(1)))
struct ShutdownTests {
    /// On shutdown: new connections are refused, idle connections close, a request in flight is finished
    /// (and its connection closed), a body still arriving at the deadline gets a 503, and the server stops.
    @Test func shutdownFinishesRequestsInFlightAndClosesTheRest() async throws {
        let configuration = ServerConfiguration(shutdownTimeout: .seconds(5))
        let body = String(decoding: try JSONSerialization.data(withJSONObject: ["pixels": samplePixels.map(Int.init), "addend": 5]), as: UTF8.self)
        let start = Date()
        let results = try await withLiveServer(configuration) { server in
            let (idle, inFlight, slow) = try await onThread {
                let idle = try RawClient(port: server.port)
                try idle.send(getRequest("/healthz"))
                _ = try idle.readResponse()
                // The answer to the GET tells that the server read the POST's head behind it.
                let inFlight = try RawClient(port: server.port)
                try inFlight.send(getRequest("/healthz") + predictHead(length: body.utf8.count) + body.prefix(100))
                _ = try inFlight.readResponse()
                return (idle, inFlight, try slowBody(port: server.port))
            }
            await server.shutdown()
            return try await onThread {
                // Once the listening socket is closed, every connection has been told to shut down.
                var refused = false
                for _ in 0..<100 where !refused {
                    refused = (try? RawClient(port: server.port)) == nil
                    if !refused { usleep(50_000) }
                }
                let idleClosed = try idle.isClosed(within: 5)
                try inFlight.send(String(body.dropFirst(100)))
                let finished = try inFlight.readResponse()
                let inFlightClosed = try inFlight.isClosed(within: 5)
                let slowAnswer = try slow.readResponse(timeout: 15)
                return (refused, idleClosed, finished, inFlightClosed, slowAnswer)
            }
        }
        let (refused, idleClosed, finished, inFlightClosed, slowAnswer) = results
        #expect(refused)
        #expect(idleClosed)
        #expect(finished.status == 200)
        #expect(finished.header("connection") == "close")
        #expect(inFlightClosed)
        #expect(slowAnswer.status == 503)
        #expect(slowAnswer.errorMessage == "the server is shutting down and the request body was incomplete after the "
            + "shutdown timeout of 5 s (10 of 1000 bytes received), expected the whole body sooner")
        #expect(secondsSince(start) < 30)
    }
}
