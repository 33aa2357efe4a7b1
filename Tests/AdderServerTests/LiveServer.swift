// The server in this process on 127.0.0.1 and a port the system picks, for the raw-socket tests
// (NNTestSupport's RawClient) of what HummingbirdTesting's clients cannot do: send half a request, hold a
// connection idle, see whether the server closed it.
import AdderServer
import Foundation
import Logging
import NNTestSupport
import ServiceLifecycle

/// A running in-process server: its port and the service group that stops it.
struct LiveServer: Sendable {
    let port: Int
    let group: ServiceGroup

    /// Starts graceful shutdown, as SIGTERM does for `mnist-adder serve`.
    func shutdown() async { await group.triggerGracefulShutdown() }
}

/// Runs the server with `configuration` (host and port replaced by 127.0.0.1:0), calls `body`, then shuts
/// the server down and waits until it stopped (at most the shutdown timeout plus what is in flight).
func withLiveServer<T: Sendable>(
    _ configuration: ServerConfiguration = ServerConfiguration(), _ body: @Sendable (LiveServer) async throws -> T
) async throws -> T {
    var configuration = configuration
    (configuration.host, configuration.port) = ("127.0.0.1", 0)
    let (ports, continuation) = AsyncStream<Int>.makeStream()
    let app = try PredictionServer.makeApplication(
        model: ServedModel(network: network, metadata: metadata), configuration: configuration
    ) { port in
        continuation.yield(port)
        continuation.finish()
    }
    var logger = Logger(label: "live-server-test")
    logger.logLevel = .critical
    let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw RawClientError("the server stopped before it listened") }
        let result: Result<T, any Error>
        do {
            result = .success(try await body(LiveServer(port: port, group: group)))
        } catch {
            result = .failure(error)
        }
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
        return try result.get()
    }
}

/// Runs blocking socket code on a thread of its own, so that it never holds one of the few threads that
/// run Swift concurrency (the in-process server's request handlers run there).
func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        thread.start()
    }
}

