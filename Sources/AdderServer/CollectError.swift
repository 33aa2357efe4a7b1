// What can go wrong with `serve --collect`: a request the collection refuses (CollectError, answered as
// one-line JSON with its status) and a collection folder the server cannot use (CollectionFolderError, at startup).
import Hummingbird

/// A `POST /api/collect` request the collection refuses, past the checks `/api/predict` makes; each message
/// is one line naming what is wrong, the expected and the found value.
public enum CollectError: Error, Equatable, CustomStringConvertible {
    /// The body has no `label` (or `null`). Status 400.
    case missingLabel
    /// `label` is not a number. Status 400.
    case wrongLabelType
    /// `label` is not an integer in 0...9 (`found` as written). Status 400.
    case labelOutOfRange(found: String)
    /// Saving would take the collection past its budget: `bytesUsed` of `bytesLimit` taken by `samples`
    /// samples, `needed` more asked for. Status 507 (Insufficient Storage).
    case full(bytesUsed: Int, bytesLimit: Int, needed: Int, samples: Int)
    /// Writing `file` (relative to the collection folder) failed with the system's `reason`; nothing of the
    /// sample is kept. Status 507 when the disk or quota is full (`noSpace`), else 500.
    case saveFailed(file: String, reason: String, noSpace: Bool)

    /// The HTTP status of the error response.
    public var status: HTTPResponse.Status {
        switch self {
        case .missingLabel, .wrongLabelType, .labelOutOfRange: .badRequest
        case .full: Self.insufficientStorage
        case .saveFailed(_, _, let noSpace): noSpace ? Self.insufficientStorage : .internalServerError
        }
    }

    /// 507 Insufficient Storage (RFC 4918), which HTTPTypes does not name.
    public static let insufficientStorage = HTTPResponse.Status(code: 507, reasonPhrase: "Insufficient Storage")

    /// One line naming what is wrong, the expected and the found value.
    public var description: String {
        switch self {
        case .missingLabel:
            "missing 'label', expected the digit drawn, an integer in 0...9"
        case .wrongLabelType:
            "field 'label' has the wrong type, expected an integer in 0...9"
        case .labelOutOfRange(let found):
            "label \(found) is out of range, expected an integer in 0...9"
        case .full(let used, let limit, let needed, let samples):
            "the collection is full: \(samples) samples take \(used) of its \(limit) bytes, expected room for \(needed) "
                + "more; move samples out or restart serve with a larger --collect-limit"
        case .saveFailed(let file, let reason, _):
            "could not save the sample (\(file)): \(reason)"
        }
    }
}

/// A collection folder `serve --collect` cannot use; each message names the folder and what is wrong.
public enum CollectionFolderError: Error, Equatable, CustomStringConvertible {
    /// The path exists and is not a folder.
    case notAFolder(path: String)
    /// The folder does not exist and could not be created.
    case cannotCreate(path: String, reason: String)
    /// The folder (or a class folder in it) could not be listed.
    case unreadable(path: String, reason: String)
    /// The process may not write in the folder.
    case notWritable(path: String)
    /// The budget is below one sample's two blocks.
    case budgetTooSmall(bytes: Int, minimum: Int)

    /// One line naming the folder, the expected and the found state.
    public var description: String {
        switch self {
        case .notAFolder(let path): "collection folder \(path) is a file, expected a folder (or nothing, to create one)"
        case .cannotCreate(let path, let reason): "cannot create the collection folder \(path): \(reason)"
        case .unreadable(let path, let reason): "cannot list \(path): \(reason)"
        case .notWritable(let path): "collection folder \(path) is not writable, expected a folder this user may write in"
        case .budgetTooSmall(let bytes, let minimum):
            "collection budget is \(bytes) bytes, expected at least \(minimum) (one sample: two 4 KiB blocks)"
        }
    }
}
