// Replacing a run folder's files all together or not at all: a checkpoint is several files (model,
// training state, history), and a full disk or a read-only folder halfway through must not leave a
// model of one epoch beside the training state of another.
import Foundation
import NNCore

/// Writes a set of files so that either every one is replaced or none is.
///
/// Each file is first written in full to a temporary file beside it (and synced); only when all are
/// written are they renamed over the old ones (a rename within a folder does not need space). On a
/// failure the temporary files are removed and the old files stay as they were.
enum FileSetWriter {
    /// Replaces each `(url, bytes)` file. Throws `TrainingError.cannotWrite` naming the file and the
    /// system's reason (`No space left on device`, `Read-only file system`, ...).
    static func write(_ files: [(url: URL, bytes: [UInt8])]) throws {
        var staged: [(temporary: String, url: URL)] = []
        do {
            for file in files {
                staged.append((try stage(file.bytes, beside: file.url), file.url))
            }
        } catch {
            staged.forEach { unlink($0.temporary) }
            throw error
        }
        for (index, file) in staged.enumerated() where rename(file.temporary, file.url.path) != 0 {
            let reason = String(cString: strerror(errno))
            staged[index...].forEach { unlink($0.temporary) }
            throw TrainingError.cannotWrite(path: file.url.path, reason: reason)
        }
    }

    /// Writes `bytes` to a new temporary file in `url`'s folder and returns its path.
    private static func stage(_ bytes: [UInt8], beside url: URL) throws -> String {
        do {
            return try Safetensors.stageFile(bytes, beside: url)
        } catch let failure as StagingFailure {
            throw TrainingError.cannotWrite(path: url.path, reason: failure.reason)
        }
    }
}
