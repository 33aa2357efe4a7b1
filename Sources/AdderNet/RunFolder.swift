// The layout of a training run's folder, in one place: what `train` writes, `--resume` and
// `report` read, and `evaluate`, `predict`, `serve`, `summary` and `export` accept as a checkpoint.
import Foundation

/// A run folder and the files in it.
public struct RunFolder: Sendable, Equatable {
    /// The model alone, PyTorch `state_dict` keys, loadable with `safetensors.torch.load_file`.
    public static let modelFile = "model.safetensors"
    /// Model, optimizer state and history together, written in one atomic rename; `--resume` reads it.
    public static let trainingStateFile = "training-state.safetensors"
    /// The metrics of every epoch as JSON.
    public static let historyJSONFile = "history.json"
    /// The metrics of every epoch as CSV.
    public static let historyCSVFile = "history.csv"
    /// The self-contained page of the run's pictures and tables.
    public static let reportFile = "report.html"

    /// The folder.
    public let url: URL

    /// The run folder at `url` (it need not exist yet).
    public init(_ url: URL) { self.url = url }

    /// The model checkpoint.
    public var model: URL { url.appendingPathComponent(Self.modelFile) }
    /// The training state `--resume` reads.
    public var trainingState: URL { url.appendingPathComponent(Self.trainingStateFile) }
    /// The history as JSON.
    public var historyJSON: URL { url.appendingPathComponent(Self.historyJSONFile) }
    /// The history as CSV.
    public var historyCSV: URL { url.appendingPathComponent(Self.historyCSVFile) }
    /// The report page.
    public var report: URL { url.appendingPathComponent(Self.reportFile) }

    /// Whether the folder holds a run that can be resumed (a training state).
    public var holdsTrainingState: Bool { FileManager.default.fileExists(atPath: trainingState.path) }
    /// Whether the folder holds a model checkpoint.
    public var holdsModel: Bool { FileManager.default.fileExists(atPath: model.path) }

    /// The checkpoint file a user named: `path` itself, or the model of the run folder at `path`.
    /// Throws `RunFolderError.noModel` for a folder without one.
    public static func checkpoint(at path: String) throws -> URL {
        let url = URL(fileURLWithPath: path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            return url
        }
        let folder = RunFolder(url)
        guard folder.holdsModel else { throw RunFolderError.noModel(folder: url.path) }
        return folder.model
    }
}

/// A folder that is not the run it was given as.
public enum RunFolderError: Error, Equatable, CustomStringConvertible {
    /// A folder given as a checkpoint holds no model file.
    case noModel(folder: String)

    /// One line naming the folder and what was expected.
    public var description: String {
        switch self {
        case .noModel(let folder):
            "\(folder) is a folder without \(RunFolder.modelFile), expected a checkpoint file or a run folder"
        }
    }
}
