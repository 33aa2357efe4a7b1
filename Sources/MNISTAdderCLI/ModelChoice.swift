// Which model a command uses: the checkpoint given with --checkpoint, or else the shipped one
// (AdderInference's ShippedModel), announced on standard error so a --json output stays clean.
import AdderInference
import AdderNet
import Foundation
import NNCore

/// A checkpoint loaded for a command, with its calibration when it has one.
struct LoadedModel {
    let network: AdderNetwork
    let metadata: [String: String]
    let url: URL
    let calibration: Calibration?
    /// How the model is named to the user: the path, or "the shipped model (...)".
    let label: String
}

/// Loads `path` (a file or run folder, see `loadCheckpoint`) or, when nil, the shipped model after
/// checking its SHA-256, and then says so on standard error ("Model: the shipped model ...") when
/// `announce` (a checkpoint the user named is not announced: errors stay one line). A calibration
/// that cannot be read is a one-line error naming the file.
func loadModel(_ path: String?, announce: Bool = true) throws -> LoadedModel {
    let chosen: String
    let label: String
    if let path {
        chosen = path
        label = path
    } else {
        let digest: String
        do {
            digest = try ShippedModel.verifiedSHA256()
        } catch {
            throw CommandError("the shipped model cannot be used: \(error) (give --checkpoint FILE)", status: .dataError)
        }
        chosen = ShippedModel.url.path
        label = "the shipped model (\(ShippedModel.fileName), SHA-256 \(digest.prefix(12))…)"
    }
    let (network, metadata, url) = try loadCheckpoint(chosen)
    let calibration: Calibration?
    do {
        calibration = try Calibration(file: SafetensorsFile(contentsOf: url))
    } catch let error as CalibrationError {
        throw CommandError("\(url.path): \(error)", status: .dataError)
    }
    if announce && path == nil {
        let calibrated = calibration == nil ? "not calibrated" : "calibrated"
        printError("Model: \(label), \(network.model.name), \(calibrated)")
    }
    // A named checkpoint is labelled by the file read (a run folder's model.safetensors).
    return LoadedModel(
        network: network, metadata: metadata, url: url, calibration: calibration, label: path == nil ? label : url.path)
}
