// The HTTP application: a JSON API over the served model and the drawing page, on Hummingbird 2.
//
// Every error, ours or the router's (unknown path, wrong method), leaves as `{"error": "<one line>"}`
// with its status, so a client never has to parse HTML or an empty body.
import Foundation
import Hummingbird
import HummingbirdCore
import NIOHTTP1
import NNCore

/// What `GET /api/model` answers.
public struct ModelResponse: Sendable, Equatable, Codable {
    /// Layers, shapes and the parameter count.
    public var summary: ModelSummary
    /// The checkpoint's metrics and metadata, as the CLI gave them: values written as JSON (options, metrics,
    /// history, model, addendRange) as JSON objects and arrays, every other value as its text
    /// (`MetadataValue(metadataText:)`).
    public var metadata: [String: MetadataValue]
    /// The smallest addend `POST /api/predict` accepts.
    public var addendMinimum: Int
    /// The largest addend `POST /api/predict` accepts.
    public var addendMaximum: Int
}

/// Builds and runs the prediction server.
public enum PredictionServer {
    /// The paths the server knows, each with the methods it accepts (HEAD is answered wherever GET is).
    public static let routes: [String: [HTTPRequest.Method]] = [
        "/": [.get, .head],
        "/healthz": [.get, .head],
        "/api/model": [.get, .head],
        "/api/predict": [.post],
    ]

    /// An application serving `model` with `configuration`: `GET /` (the drawing page), `GET /healthz`,
    /// `GET /api/model` and `POST /api/predict`. Run it with `run()` (no signal handling) or
    /// `runService()` (graceful shutdown on SIGTERM and SIGINT); `PredictionServer.run` does the latter.
    ///
    /// `onRunning` is called once the server listens, with the port it got (the one asked for, or the
    /// one the system chose for port 0). With a `collector` the server also answers `POST /api/collect`
    /// and `GET /api/collect` and the page offers to save a drawing under its digit (`serve --collect`).
    ///
    /// Each connection runs through a `ConnectionGuard` (head, body and idle timeouts, HTTP/1.0 and
    /// early answers closing the connection, JSON answers to malformed requests) and the connections
    /// share the configuration's cap; see `ServerConfiguration` and docs/server.md.
    ///
    /// - Throws: `ServerConfigurationError` when the configuration is invalid, `AddendRangeBeyondTrainingError`
    ///   when its addend range reaches outside the one the model was trained on.
    public static func makeApplication(
        model: ServedModel, configuration: ServerConfiguration, collector: SampleCollector? = nil,
        onRunning: @escaping @Sendable (_ port: Int) -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        try configuration.validate()
        let (configured, trained) = (configuration.addendRange, model.trainedAddendRange)
        guard trained.contains(configured.lowerBound), trained.contains(configured.upperBound) else {
            throw AddendRangeBeyondTrainingError(configured: configured, trained: trained)
        }
        let router = makeRouter(model: model, configuration: configuration, collector: collector)
        let registry = ConnectionRegistry(maximum: configuration.maximumConnections)
        let limits = ConnectionLimits(configuration, serverName: serverName)
        return Application(
            router: router,
            server: HTTPServerBuilder { responder in
                GuardedHTTP1Channel(responder: responder, limits: limits, registry: registry)
            },
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port), serverName: serverName,
                availableConnectionsDelegate: ConnectionCap(registry: registry)),
            onServerRunning: { channel in
                registry.setListener(channel)
                onRunning(channel.localAddress?.port ?? configuration.port)
            })
    }

    /// The `Server` header of every answer.
    static let serverName = "mnist-adder"

    /// Serves until SIGINT or SIGTERM, then stops accepting connections, lets requests in flight finish
    /// within the configuration's shutdown timeout, closes the connections left and returns.
    /// Hummingbird's `runService()` runs the application in a swift-service-lifecycle `ServiceGroup`
    /// with `gracefulShutdownSignals: [.sigterm, .sigint]`. First makes sure the process may open
    /// enough file descriptors for the connection cap (`ensureDescriptorLimit`).
    ///
    /// `onRunning` is called once the server listens, with its port; `collector` as in `makeApplication`.
    ///
    /// - Throws: `ServerConfigurationError` for an invalid configuration or a descriptor limit below the
    ///   cap; `ServerStartError` naming the address and NIO's reason when the server stops before it
    ///   listened (the port is in use, the host is unknown).
    public static func run(
        model: ServedModel, configuration: ServerConfiguration, collector: SampleCollector? = nil,
        onRunning: @escaping @Sendable (_ port: Int) -> Void = { _ in }
    ) async throws {
        try configuration.validate()
        try configuration.ensureDescriptorLimit()
        let listening = ListeningFlag()
        let app = try makeApplication(model: model, configuration: configuration, collector: collector) { port in
            listening.set()
            onRunning(port)
        }
        do {
            try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
        } catch {
            guard !listening.value else { throw error }
            throw ServerStartError(host: configuration.host, port: configuration.port, reason: "\(error)")
        }
    }

    static func makeRouter(
        model: ServedModel, configuration: ServerConfiguration, collector: SampleCollector? = nil
    ) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self, options: .autoGenerateHeadEndpoints)
        // Added before the routes so it wraps them and the not-found responder.
        let known = collector == nil ? routes : routes.merging(collectRoutes) { $1 }
        router.add(middleware: JSONErrorMiddleware(routes: known))
        if let collector { addCollectRoutes(to: router, collector: collector, configuration: configuration) }
        let predictor = Predictor(model: model, configuration: configuration)
        let page = ByteBuffer(string: Page.html(addendRange: configuration.addendRange, collect: collector != nil))
        let modelAnswer = jsonAnswer(
            ModelResponse(
                summary: model.summary, metadata: model.metadata.mapValues(MetadataValue.init(metadataText:)),
                addendMinimum: configuration.addendRange.lowerBound,
                addendMaximum: configuration.addendRange.upperBound))

        router.get("/") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                body: ResponseBody(byteBuffer: page))
        }
        router.get("/healthz") { _, _ in
            jsonResponse(.ok, ByteBuffer(string: #"{"status":"ok"}"#))
        }
        router.get("/api/model") { _, _ in
            jsonResponse(modelAnswer.status, modelAnswer.body)
        }
        router.post("/api/predict") { request, context in
            let start = ContinuousClock.now
            let body = try await readJSONBody(request, limit: configuration.maximumBodyBytes)
            let prediction = try await predictor.predict(body: body, start: start)
            let answer = jsonAnswer(prediction)
            if answer.status != .ok { context.logger.error("a prediction could not be encoded as JSON: \(prediction)") }
            return jsonResponse(answer.status, answer.body)
        }
        return router
    }

    /// The body of a JSON request, checking its Content-Type and size before parsing anything.
    static func readJSONBody(_ request: Request, limit: Int) async throws -> Data {
        let contentType = request.headers[.contentType]
        let mediaType = contentType?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
        guard mediaType == "application/json" else {
            throw PredictionRequestError.unsupportedContentType(found: contentType)
        }
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > limit {
            throw PredictionRequestError.bodyTooLarge(limit: limit, found: declared)
        }
        var request = request
        do {
            let buffer = try await request.collectBody(upTo: limit)
            return Data(buffer.readableBytesView)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw PredictionRequestError.bodyTooLarge(limit: limit, found: nil)
        }
    }

    /// The body of every answer whose JSON could not be encoded, sent with status 500.
    public static let encodingFailureBody = #"{"error":"internal error: the answer could not be encoded as JSON"}"#

    /// `value` as a JSON answer: status 200 and its JSON (`JSONOutput`: keys sorted, slashes unescaped),
    /// or, when it cannot be encoded (a NaN or infinite number: `JSONEncoder` throws for those), status
    /// 500 and `encodingFailureBody`, never a 200 with a stand-in body. The server checks every number it
    /// answers before encoding (`NonFiniteForwardError` is a 500 naming the layer), so the 500 here means
    /// a bug, not bad input.
    public static func jsonAnswer(_ value: some Encodable) -> (status: HTTPResponse.Status, body: ByteBuffer) {
        do {
            return (.ok, try jsonBuffer(value))
        } catch {
            return (.internalServerError, ByteBuffer(string: encodingFailureBody))
        }
    }

    /// `value` encoded as the server's JSON; throws `EncodingError` for a NaN or infinite number.
    static func jsonBuffer(_ value: some Encodable) throws -> ByteBuffer {
        ByteBuffer(bytes: try JSONOutput.encoder().encode(value))
    }

    /// `{"error": message}`; a dictionary of strings always encodes (`encodingFailureBody` if it ever did not).
    static func errorBuffer(_ message: String) -> ByteBuffer {
        (try? jsonBuffer(["error": message])) ?? ByteBuffer(string: encodingFailureBody)
    }

    static func jsonResponse(_ status: HTTPResponse.Status, _ body: ByteBuffer, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: body))
    }

    static func errorResponse(_ status: HTTPResponse.Status, _ message: String, headers: HTTPFields = [:]) -> Response {
        jsonResponse(status, errorBuffer(message), headers: headers)
    }
}

/// Turns every error below it into a JSON error body; answers a known path with a wrong method with 405.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let routes: [String: [HTTPRequest.Method]]

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as PredictionRequestError {
            if error.status == .internalServerError {
                context.logger.error("prediction failed: \(error)")
            }
            return PredictionServer.errorResponse(error.status, error.description)
        } catch let error as HTTPParserError {
            // A malformed body (e.g. a bad chunk size) surfaces while the route reads it; the input can
            // carry no further request, so the connection closes after this answer.
            let failure = ParseFailure(error)
            return PredictionServer.errorResponse(
                HTTPResponse.Status(code: failure.code), failure.message, headers: [.connection: "close"])
        } catch let error as any HTTPResponseError {
            let path = request.uri.path.count > 1 && request.uri.path.hasSuffix("/")
                ? String(request.uri.path.dropLast()) : request.uri.path
            if error.status == .notFound {
                if let allowed = routes[path] {
                    let list = allowed.map(\.rawValue).joined(separator: ", ")
                    return PredictionServer.errorResponse(
                        .methodNotAllowed, "method \(request.method.rawValue) is not allowed on \(path), expected \(list)",
                        headers: [.allow: list])
                }
                let known = routes.keys.sorted().joined(separator: ", ")
                return PredictionServer.errorResponse(.notFound, "no such path \(path), expected one of \(known)")
            }
            let message = (error as? HTTPError)?.body ?? error.status.reasonPhrase
            return PredictionServer.errorResponse(error.status, message)
        } catch {
            context.logger.error("unexpected error: \(error)")
            return PredictionServer.errorResponse(.internalServerError, "internal error: \(error)")
        }
    }
}

/// The server could not start listening on its address.
public struct ServerStartError: Error, Equatable, CustomStringConvertible {
    /// The host asked for.
    public var host: String
    /// The port asked for.
    public var port: Int
    /// The underlying error's text (NIO's, e.g. "bind(...): Address already in use (errno: 98)").
    public var reason: String

    /// One line: "cannot listen on HOST:PORT: REASON".
    public var description: String { "cannot listen on \(host):\(port): \(reason)" }
}

/// Set once the server listens; read after it stopped.
private final class ListeningFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var listening = false
    func set() { lock.withLock { listening = true } }
    var value: Bool { lock.withLock { listening } }
}
