// The HTTP status of each request error (AdderRequest, where the errors live, knows nothing of HTTP).
import AdderRequest
import Hummingbird

extension PredictionRequestError {
    /// The HTTP status of the error response: 415, 413, 422 for a blank drawing, 500 for a non-finite
    /// output, 400 for everything else (each case's doc comment names its status).
    public var status: HTTPResponse.Status {
        switch self {
        case .unsupportedContentType: .unsupportedMediaType
        case .bodyTooLarge: .contentTooLarge
        case .blankDrawing: .unprocessableContent
        case .nonFiniteOutput: .internalServerError
        default: .badRequest
        }
    }
}
