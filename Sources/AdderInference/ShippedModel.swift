// The trained model that ships inside the package, so `predict`, `serve`, `evaluate`, `summary`
// and `export` work on a fresh clone before any training: the seed network trained by
// `scripts/train --validation 5000` and calibrated on those 5,000 images (README, "The shipped
// model"). It sits in Resources/model with its SHA-256 in SHA256SUMS, as MNIST does in MNISTData.
import Foundation
import MNISTData

/// The model shipped as a resource of this module.
public enum ShippedModel {
    /// The checkpoint's file name in the resource folder.
    public static let fileName = "seed.safetensors"
    /// The command that made it (then `scripts/ship-model` copies the run's calibrated
    /// model.safetensors here and records its SHA-256).
    public static let trainingCommand = "scripts/train --validation 5000 --output runs/shipped-seed"

    /// The folder holding the checkpoint and its SHA256SUMS.
    public static var directory: URL {
        Bundle.module.url(forResource: "model", withExtension: nil)
            ?? Bundle.module.bundleURL.appendingPathComponent("model")
    }

    /// The checkpoint file.
    public static var url: URL { directory.appendingPathComponent(fileName) }

    /// The SHA-256 recorded in the folder's SHA256SUMS (lowercase hex). Throws `MNISTError` when the
    /// list is missing, malformed or does not name the checkpoint.
    public static func recordedSHA256() throws -> String {
        let list = directory.appendingPathComponent("SHA256SUMS")
        guard let digest = try SHA256Sums(contentsOf: list)[fileName] else {
            throw MNISTError.notInChecksumList(file: url.path, checksumList: list.path)
        }
        return digest
    }

    /// Checks the file against its recorded SHA-256 and returns the digest. Throws
    /// `MNISTError.checksumMismatch` (a damaged or replaced file), `.unreadable` or the errors of
    /// `recordedSHA256`.
    public static func verifiedSHA256() throws -> String {
        let expected = try recordedSHA256()
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw MNISTError.unreadable(file: url.path, reason: error.localizedDescription)
        }
        let found = SHA256Sums.digest(of: data)
        guard found == expected else { throw MNISTError.checksumMismatch(file: url.path, expected: expected, found: found) }
        return found
    }
}
