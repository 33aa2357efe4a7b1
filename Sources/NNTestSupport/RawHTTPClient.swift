// A blocking raw-socket HTTP client on 127.0.0.1 for tests of a server's connection handling: send half
// a request, hold a connection idle, see whether the server closed it. Every read waits at most its
// timeout, so a test using it cannot hang on a silent server.
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A raw client call failed: the message says what and how much was read.
public struct RawClientError: Error, CustomStringConvertible {
    /// One line.
    public let description: String
    /// An error with `description`.
    public init(_ description: String) { self.description = description }
}

/// An HTTP response as the raw client read it.
public struct RawResponse: Sendable {
    /// The status line's version, e.g. "HTTP/1.1".
    public var version: String
    /// The status code.
    public var status: Int
    /// Header names lowercased, in order.
    public var headers: [(name: String, value: String)]
    /// The body (by its Content-Length, or up to the end of the stream).
    public var body: Data

    /// The first value of header `name` (any case), or nil.
    public func header(_ name: String) -> String? { headers.first { $0.name == name.lowercased() }?.value }

    /// The `error` field of a JSON error body `{"error": "..."}`, or nil.
    public var errorMessage: String? {
        (try? JSONSerialization.jsonObject(with: body) as? [String: String])?["error"]
    }
}

/// A blocking TCP client connected to 127.0.0.1:`port`. Used by one thread at a time (hence
/// `@unchecked Sendable`: a test may open clients on one thread and use them on another later).
public final class RawClient: @unchecked Sendable {
    private let fd: Int32
    private var pending: [UInt8] = []

    /// Connects to 127.0.0.1:`port`; sends give up after `timeout` seconds. `receiveBuffer` sets the
    /// socket's receive buffer in bytes (the system's default when nil), to play a client that reads
    /// slowly. Throws `RawClientError` when the connection is refused.
    public init(port: Int, timeout: Double = 5, receiveBuffer: Int? = nil) throws {
        // The socket is `self.fd` only once connected: an init that throws after every stored property is
        // set runs `deinit`, whose close would then close the number a second time, by then maybe another
        // thread's new socket (a server's accepted connection in the same test process).
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socketFD >= 0 else { throw RawClientError("socket() failed: errno \(errno)") }
        var time = timeval(tv_sec: Int(timeout), tv_usec: 0)
        setsockopt(socketFD, SOL_SOCKET, SO_SNDTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
        if var bytes = receiveBuffer.map(Int32.init) {
            setsockopt(socketFD, SOL_SOCKET, SO_RCVBUF, &bytes, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socketFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            let code = errno
            Glibc.close(socketFD)
            throw RawClientError("connect to 127.0.0.1:\(port) failed: errno \(code)")
        }
        fd = socketFD
    }

    deinit { Glibc.close(fd) }

    /// Sends `text` as UTF-8. Throws `RawClientError` when the connection is gone.
    public func send(_ text: String) throws { try send(Array(text.utf8)) }

    /// Sends `bytes`. Throws `RawClientError` when the connection is gone.
    public func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw RawClientError("send failed: errno \(errno)") }
            offset += n
        }
    }

    /// Reads more bytes into `pending`: false at end of stream (or a reset), nil when none came in time.
    private func fill(until deadline: Date) throws -> Bool? {
        let milliseconds = Int32(max(0, deadline.timeIntervalSinceNow * 1000))
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, milliseconds) > 0 else { return nil }
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n <= 0 { return false }
        pending += chunk[0..<n]
        return true
    }

    /// Reads one response (status line, headers, then a Content-Length body, or a body up to the end of
    /// the stream when there is none). Throws when it is not complete within `timeout` seconds.
    public func readResponse(timeout: Double = 10) throws -> RawResponse {
        let deadline = Date().addingTimeInterval(timeout)
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        var headEnd: Int?
        while headEnd == nil {
            headEnd = pending.indices.dropLast(3).first { Array(pending[$0..<($0 + 4)]) == separator }
            if headEnd != nil { break }
            guard let more = try fill(until: deadline) else {
                throw RawClientError("no complete response head within \(timeout) s (have \(pending.count) bytes)")
            }
            guard more else {
                throw RawClientError("connection closed before a response head (have \(pending.count) bytes)")
            }
        }
        let end = headEnd! + 4
        let lines = String(decoding: pending[0..<headEnd!], as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ", maxSplits: 2)
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else {
            throw RawClientError("bad status line '\(lines[0])'")
        }
        let headers = lines.dropFirst().compactMap { line -> (name: String, value: String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (line[..<colon].lowercased(), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        pending.removeFirst(end)
        var response = RawResponse(version: String(statusParts[0]), status: status, headers: headers, body: Data())
        if let length = response.header("content-length").flatMap(Int.init) {
            while pending.count < length {
                guard try fill(until: deadline) == true else {
                    throw RawClientError("body incomplete: \(pending.count) of \(length) bytes within \(timeout) s")
                }
            }
            response.body = Data(pending[0..<length])
            pending.removeFirst(length)
        } else {
            while let more = try fill(until: deadline), more {}
            response.body = Data(pending)
            pending.removeAll()
        }
        return response
    }

    /// Whether bytes (or the end of the stream) wait to be read, polling at most `timeout` seconds.
    public func hasData(within timeout: Double) throws -> Bool {
        if !pending.isEmpty { return true }
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&poller, 1, Int32(timeout * 1000)) > 0
    }

    /// Reads and discards whatever comes until the server closes the connection: true when it did
    /// within `timeout` seconds (end of stream or reset), false when it was still open then.
    public func drainUntilClosed(within timeout: Double) throws -> Bool {
        pending.removeAll()
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            switch try fill(until: deadline) {
            case false?: return true
            case true?: pending.removeAll()
            case nil: return false
            }
        }
        return false
    }

    /// Whether the server closed the connection within `timeout` seconds: true at the end of the stream,
    /// false when nothing came. Throws when bytes arrive instead.
    public func isClosed(within timeout: Double) throws -> Bool {
        guard pending.isEmpty else { throw RawClientError("\(pending.count) unread bytes") }
        switch try fill(until: Date().addingTimeInterval(timeout)) {
        case nil: return false
        case false?: return true
        case true?: throw RawClientError("the server sent '\(String(decoding: pending, as: UTF8.self))'")
        }
    }
}

/// The text of a `GET path` request; `version` "1.0" or "1.1", `extra` further header lines ("Name: value\r\n").
public func getRequest(_ path: String, version: String = "1.1", extra: String = "") -> String {
    "GET \(path) HTTP/\(version)\r\nHost: 127.0.0.1\r\n\(extra)\r\n"
}
