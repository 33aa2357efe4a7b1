// The exit statuses of mnist-adder: one table (README "Exit codes"), and the one place that maps
// each error type to its status. The values are BSD's sysexits.h, as ArgumentParser's 64 for a
// usage error already is, and 128 + the signal number for a run stopped by a signal.
import AdderInference
import AdderNet
import AdderONNX
import AdderReport
import AdderServer
import ArgumentParser
import DigitImage
import Foundation
import MNISTData
import NNCore

/// How `mnist-adder` ends, by kind of failure.
enum ExitStatus: Int32, CaseIterable {
    /// Everything asked was done (also `--help`, `--version`, and `serve` stopped by SIGINT or SIGTERM).
    case success = 0
    /// EX_USAGE: a mistyped subcommand or option, a missing or bad value (`--epochs -1`), options that
    /// do not go together, an output folder that already holds a run.
    case usage = 64
    /// EX_DATAERR: an input file that is malformed or does not fit: a checkpoint (keys, shapes, NaN
    /// weights, a forward pass that overflows), an IDX or PNG file, a run folder's history; an empty
    /// data set; a training run that diverged; a checkpoint without the validation set or the calibration a
    /// command needs.
    case dataError = 65
    /// EX_NOINPUT: a file or folder named on the command line that does not exist or cannot be read.
    case noInput = 66
    /// EX_SOFTWARE: an internal error, a bug in mnist-adder (please report it).
    case internalError = 70
    /// EX_IOERR: writing failed (a full disk, a read-only folder), a download failed, the server could
    /// not listen on its port.
    case ioError = 74
    /// 128 + SIGINT: a run stopped by Ctrl-C.
    case interrupted = 130
    /// 128 + SIGTERM: a run stopped by SIGTERM.
    case terminated = 143

    /// The status for an error thrown while parsing or running a command. Errors of ArgumentParser
    /// keep its status (0 for `--help` and `--version`, 64 for usage errors); an error of no known
    /// type is internal.
    init(for error: any Error) {
        switch error {
        case let error as CommandError: self = error.status
        case let error as TrainingError: self = Self.status(for: error)
        case is CheckpointError, is NonFiniteForwardError, is EmptyDatasetError, is IDXError: self = .dataError
        case is CalibrationError, is FineTuningError: self = .dataError
        case is JPEGError, is NotAnImageError: self = .dataError
        case let error as ImageFolderError:
            switch error {
            case .notFound, .notAFolder, .unreadable: self = .noInput
            default: self = .dataError
            }
        case is AddendRangeBeyondTrainingError: self = .usage
        case let error as ModelDescriptionError:
            if case .unknownModel = error { self = .usage } else { self = .dataError }
        case let error as SafetensorsError: self = Self.status(for: error)
        case is RunFolderError: self = .noInput
        case let error as MNISTError: self = Self.status(for: error)
        case let error as PNGError:
            switch error {
            case .pixelCountMismatch, .encodingFailed: self = .internalError
            default: self = .dataError
            }
        case let error as RunReportError:
            if case .cannotWrite = error { self = .ioError } else { self = .internalError }
        case let error as ONNXExportError:
            if case .writeFailed = error { self = .ioError } else { self = .internalError }
        case is ServerConfigurationError, is PlanError: self = .usage
        case is ServerStartError: self = .ioError
        case let error as OptimizerError:
            if case .invalidHyperparameter = error { self = .usage } else { self = .dataError }
        case let error as ScheduleError:
            if case .invalidSetting = error { self = .usage } else { self = .internalError }
        case is ShapeError: self = .internalError
        case let error as CocoaError: self = Self.status(for: error)
        default:
            let parser = MNISTAdderCommand.exitCode(for: error).rawValue
            // ArgumentParser gives EXIT_FAILURE (1) to every error it does not know.
            self = parser == ExitCode.failure.rawValue ? .internalError : ExitStatus(rawValue: parser) ?? .internalError
        }
    }

    private static func status(for error: TrainingError) -> ExitStatus {
        switch error {
        case .invalidOption: .usage
        case .cannotResume(let folder, _):
            FileManager.default.isReadableFile(atPath: RunFolder(URL(fileURLWithPath: folder)).trainingState.path)
                ? .dataError : .noInput
        case .diverged, .emptyDataset: .dataError
        case .cannotWrite: .ioError
        }
    }

    private static func status(for error: SafetensorsError) -> ExitStatus {
        switch error {
        case .unreadable: .noInput
        case .writeFailed: .ioError
        case .invalidName: .internalError
        default: .dataError
        }
    }

    private static func status(for error: MNISTError) -> ExitStatus {
        switch error {
        case .fileNotFound, .unreadable: .noInput
        case .unwritable, .downloadFailed: .ioError
        case .invalidLimit, .invalidAddendRange, .invalidBatchSize: .usage
        default: .dataError
        }
    }

    private static func status(for error: CocoaError) -> ExitStatus {
        switch error.code {
        case .fileNoSuchFile, .fileReadNoSuchFile, .fileReadNoPermission, .fileReadInvalidFileName: .noInput
        case .fileReadCorruptFile, .fileReadUnknownStringEncoding, .fileReadInapplicableStringEncoding: .dataError
        default: error.code.rawValue >= CocoaError.fileWriteUnknown.rawValue
                && error.code.rawValue <= CocoaError.fileWriteVolumeReadOnly.rawValue ? .ioError : .internalError
        }
    }
}
