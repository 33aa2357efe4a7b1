// The routes of `serve --collect`: POST /api/collect saves the request's picture under its label,
// GET /api/collect reports the counts. Registered only when the server has a collection.
import Foundation
import Hummingbird

extension PredictionServer {
    /// The paths and methods `addCollectRoutes` registers.
    static let collectRoutes: [String: [HTTPRequest.Method]] = ["/api/collect": [.get, .head, .post]]

    /// `POST /api/collect` (body as `/api/predict`'s plus `label`, read within the same size limit; answers
    /// `CollectResponse`) and `GET /api/collect` (answers `CollectionSummary`).
    static func addCollectRoutes(
        to router: Router<BasicRequestContext>, collector: SampleCollector, configuration: ServerConfiguration
    ) {
        router.get("/api/collect") { _, _ in
            jsonAnswerResponse(await collector.summary())
        }
        router.post("/api/collect") { request, context in
            let body = try await readJSONBody(request, limit: configuration.maximumBodyBytes)
            do {
                return jsonAnswerResponse(try await collector.save(body: body, configuration: configuration))
            } catch let error as CollectError {
                if error.status == .internalServerError { context.logger.error("collect failed: \(error)") }
                return errorResponse(error.status, error.description)
            }
        }
    }

    private static func jsonAnswerResponse(_ value: some Encodable) -> Response {
        let answer = jsonAnswer(value)
        return jsonResponse(answer.status, answer.body)
    }
}
