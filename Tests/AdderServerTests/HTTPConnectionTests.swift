// Raw-socket tests of how the live server manages HTTP/1.x connections: HTTP/1.0, keep-alive, early
// answers to requests whose body was not read, and JSON answers to requests its parser rejects.
import AdderServer
import Foundation
import NNTestSupport
import Testing

/// A POST /api/predict head announcing `length` body bytes (`contentType` nil: no Content-Type).
func predictHead(length: Int, contentType: String? = "application/json", method: String = "POST") -> String {
    "\(method) /api/predict HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + (contentType.map { "Content-Type: \($0)\r\n" } ?? "") + "Content-Length: \(length)\r\n\r\n"
}

@Suite(.timeLimit(.minutes(1)))
struct HTTPConnectionTests {
    @Test func http10IsAnsweredAndClosed() async throws {
        let (response, closed) = try await withLiveServer { server in
            try await onThread {
                let client = try RawClient(port: server.port)
                try client.send(getRequest("/healthz", version: "1.0"))
                return (try client.readResponse(), try client.isClosed(within: 5))
            }
        }
        #expect(response.status == 200)
        #expect(response.header("connection") == "close")
        #expect(String(decoding: response.body, as: UTF8.self) == #"{"status":"ok"}"#)
        #expect(closed, "the server kept the HTTP/1.0 connection open")
    }

    @Test func http10KeepAliveStaysOpenWhenAsked() async throws {
        let (first, second, closed) = try await withLiveServer { server in
            try await onThread {
                let client = try RawClient(port: server.port)
                let request = getRequest("/healthz", version: "1.0", extra: "Connection: keep-alive\r\n")
                try client.send(request)
                let first = try client.readResponse()
                try client.send(request)
                return (first, try client.readResponse(), try client.isClosed(within: 0.3))
            }
        }
        #expect(first.status == 200 && second.status == 200)
        #expect(first.header("connection") == "keep-alive")
        #expect(first.header("content-length") == "15")
        #expect(!closed)
    }

    @Test func http11KeepsTheConnectionUnlessAskedToClose() async throws {
        let (kept, closed) = try await withLiveServer { server in
            try await onThread {
                let keeper = try RawClient(port: server.port)
                for _ in 0..<3 {
                    try keeper.send(getRequest("/healthz"))
                    guard try keeper.readResponse().status == 200 else { throw RawClientError("not 200") }
                }
                let closer = try RawClient(port: server.port)
                try closer.send(getRequest("/healthz", extra: "Connection: close\r\n"))
                let response = try closer.readResponse()
                guard response.status == 200, response.header("connection") == "close" else {
                    throw RawClientError("unexpected \(response.status) \(response.headers)")
                }
                return (try keeper.isClosed(within: 0.3), try closer.isClosed(within: 5))
            }
        }
        #expect(!kept)
        #expect(closed)
    }

    /// Answers given before the body was read: the connection closes, since the unread body would be
    /// taken for the next request (or never come).
    @Test(arguments: [
        (predictHead(length: 2_000_000), 413, "request body is 2000000 bytes, expected at most 1048576 bytes"),
        (predictHead(length: 1000, contentType: "text/plain"), 415, "Content-Type is 'text/plain', expected application/json"),
        (predictHead(length: 1000, method: "PUT"), 405, "method PUT is not allowed on /api/predict, expected POST"),
    ])
    func earlyAnswerClosesTheConnection(head: String, status: Int, message: String) async throws {
        let (response, closed) = try await withLiveServer { server in
            try await onThread {
                let client = try RawClient(port: server.port)
                try client.send(head + "{\"pixels\":")
                return (try client.readResponse(), try client.isClosed(within: 5))
            }
        }
        #expect(response.status == status)
        #expect(response.header("connection") == "close")
        #expect(response.errorMessage == message)
        #expect(closed, "the connection stayed open after an early \(status)")
    }

    @Test func earlyAnswerAfterTheWholeBodyKeepsTheConnection() async throws {
        let (refused, healthy, closed) = try await withLiveServer { server in
            try await onThread {
                let client = try RawClient(port: server.port)
                try client.send(predictHead(length: 2, contentType: "text/plain") + "{}")
                let refused = try client.readResponse()
                try client.send(getRequest("/healthz"))
                return (refused, try client.readResponse(), try client.isClosed(within: 0.3))
            }
        }
        #expect(refused.status == 415 && refused.header("connection") == nil)
        #expect(healthy.status == 200)
        #expect(!closed)
    }

    @Test(arguments: [
        ("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header\r\n\r\n", 400, "malformed header"),
        ("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: \(String(repeating: "a", count: 20_000))\r\n\r\n", 431,
         "request headers are too large, expected at most 16384 bytes of headers in at most 100 fields"),
        ("POST /api/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            + "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n", 400, "malformed chunked body: a chunk size"),
        ("POST /api/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 12x\r\n\r\n",
         400, "malformed Content-Length"),
    ])
    func malformedRequestGetsAJSONError(request: String, status: Int, messagePrefix: String) async throws {
        let (response, closed) = try await withLiveServer { server in
            try await onThread {
                let client = try RawClient(port: server.port)
                try client.send(request)
                return (try client.readResponse(), try client.isClosed(within: 5))
            }
        }
        #expect(response.status == status)
        #expect(response.header("content-type") == "application/json; charset=utf-8")
        #expect(response.header("connection") == "close")
        let message = try #require(response.errorMessage, "\(String(decoding: response.body, as: UTF8.self))")
        #expect(message.hasPrefix(messagePrefix), "\(message)")
        #expect(!message.contains("\n"))
        #expect(closed)
    }

    @Test func chunkedBodyIsAccepted() async throws {
        let body = String(decoding: try JSONSerialization.data(withJSONObject: ["pixels": samplePixels.map(Int.init), "addend": 3]), as: UTF8.self)
        let half = body.utf8.count / 2
        let chunks = [String(body.prefix(half)), String(body.dropFirst(half))]
        let response = try await withLiveServer { server in
            try await onThread {
                let client = try RawClient(port: server.port)
                var request = "POST /api/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + "Transfer-Encoding: chunked\r\n\r\n"
                for chunk in chunks { request += String(chunk.utf8.count, radix: 16) + "\r\n" + chunk + "\r\n" }
                try client.send(request + "0\r\n\r\n")
                return try client.readResponse()
            }
        }
        #expect(response.status == 200)
        let prediction = try JSONDecoder().decode(PredictionResponse.self, from: response.body)
        checkConsistent(prediction, pixels: samplePixels, addend: 3)
    }
}
