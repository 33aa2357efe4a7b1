// A full disk or a read-only output folder while a checkpoint is written: one clear error, and the
// previous epoch's files (model, training state, history) exactly as they were. Each test trains
// into a small tmpfs it mounts; mounting needs root, so outside CI (CI=true) they are skipped where
// it is not possible.
import AdderNet
import Foundation
import MNISTData
import NNCore
import NNTestSupport
import Testing

/// A tmpfs mounted on a new temporary folder, for tests that need a full or read-only disk.
struct TemporaryMount {
    let folder: URL

    /// Whether this process can mount (root, `mount` present); under CI the tests run regardless and fail.
    static var isAvailable: Bool {
        getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/bin/mount")
    }

    /// Mounts a tmpfs of `size` (`mount -o size=...`, e.g. "8m") on a new folder.
    init(size: String) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("adder-tmpfs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Self.mount(["-t", "tmpfs", "-o", "size=\(size)", "tmpfs", folder.path])
    }

    /// Remounts it read-only.
    func remountReadOnly() throws { try Self.mount(["-o", "remount,ro", folder.path]) }

    /// Unmounts it and removes the folder.
    func unmount() {
        _ = try? runProcess(URL(fileURLWithPath: "/bin/umount"), [folder.path])
        try? FileManager.default.removeItem(at: folder)
    }

    private static func mount(_ arguments: [String]) throws {
        let result = try runProcess(URL(fileURLWithPath: "/bin/mount"), arguments)
        guard result.status == 0 else { throw MountError(message: "mount \(arguments.joined(separator: " ")): \(result.stderr)") }
    }
}

/// `mount` failed; the message is its command line and standard error.
struct MountError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

@Suite(.serialized, .enabled(if: TemporaryMount.isAvailable || Python.isRequired, "needs root and mount (required under CI)"))
struct WriteFaultTests {
    let options: TrainingOptions = {
        var options = TrainingOptions()
        options.epochs = 2
        options.batchSize = 20
        options.limit = 40
        options.testLimit = 20
        return options
    }()

    /// A trainer that has written epoch 1 into `folder`, and the bytes of the run folder's files.
    func trainOneEpoch(into folder: URL) throws -> (Trainer, [URL: Data]) {
        let train = try AdderDataset.load(.train, limit: options.limit, seed: options.seed)
        let test = try AdderDataset.load(.test, limit: options.testLimit, seed: options.seed)
        let trainer = try Trainer(options: options, trainSet: train, testSet: test)
        try trainer.run(outputDirectory: folder, stopAfterEpoch: 1)
        let run = RunFolder(folder)
        let files = [run.trainingState, run.model, run.historyJSON, run.historyCSV]
        return (trainer, try Dictionary(uniqueKeysWithValues: files.map { ($0, try Data(contentsOf: $0)) }))
    }

    /// Checks that every file is as it was after epoch 1 and that no temporary file is left.
    func expectUnchanged(_ saved: [URL: Data], in folder: URL, besides extra: Set<String> = []) throws {
        for (url, data) in saved { #expect(try Data(contentsOf: url) == data, "\(url.lastPathComponent) changed") }
        let names = Set(try FileManager.default.contentsOfDirectory(atPath: folder.path))
        #expect(names == Set(saved.keys.map(\.lastPathComponent)).union(extra))
        let (_, metadata) = try Checkpoint.load(contentsOf: RunFolder(folder).model)
        #expect(metadata["epoch"] == "1")
    }

    @Test("a read-only output folder at epoch 2: 'Read-only file system', epoch 1's files intact")
    func readOnlyFolder() throws {
        let mount = try TemporaryMount(size: "16m")
        defer { mount.unmount() }
        let folder = mount.folder.appendingPathComponent("run")
        let (trainer, saved) = try trainOneEpoch(into: folder)
        try mount.remountReadOnly()
        let error = try #require(throws: TrainingError.self) { try trainer.run(outputDirectory: folder) }
        guard case let .cannotWrite(path, reason) = error else {
            Issue.record("expected cannotWrite, got \(error)")
            return
        }
        #expect(path == RunFolder(folder).trainingState.path)
        #expect(reason == "Read-only file system")
        #expect(error.description == "cannot write \(path): Read-only file system")
        try expectUnchanged(saved, in: folder)
    }

    @Test("a full disk at epoch 2: 'No space left on device', epoch 1's files intact, no temporary file left")
    func fullDisk() throws {
        let mount = try TemporaryMount(size: "16m")
        defer { mount.unmount() }
        let folder = mount.folder.appendingPathComponent("run")
        let (trainer, saved) = try trainOneEpoch(into: folder)
        // Fill the disk, then free room for the training state (written first) but not for the model
        // after it: the staged training state must be thrown away, not left as epoch 2's.
        let filler = folder.appendingPathComponent("filler")
        let descriptor = open(filler.path, O_WRONLY | O_CREAT, 0o644)
        #expect(descriptor >= 0)
        let page = [UInt8](repeating: 1, count: 4096)
        var filled = 0
        while page.withUnsafeBytes({ write(descriptor, $0.baseAddress!, $0.count) }) == 4096 { filled += 1 }
        let room = try #require(saved[RunFolder(folder).trainingState]).count + 64 * 1024
        #expect(filled * 4096 > room, "the disk should have had room left after epoch 1 (\(filled) pages)")
        #expect(ftruncate(descriptor, off_t(filled * 4096 - room)) == 0)
        close(descriptor)
        let error = try #require(throws: TrainingError.self) { try trainer.run(outputDirectory: folder) }
        guard case let .cannotWrite(path, reason) = error else {
            Issue.record("expected cannotWrite, got \(error)")
            return
        }
        #expect(path == RunFolder(folder).model.path)
        #expect(reason == "No space left on device")
        try expectUnchanged(saved, in: folder, besides: ["filler"])
    }
}

@Suite(.serialized, .enabled(if: TemporaryMount.isAvailable || Python.isRequired, "needs root and mount (required under CI)"))
struct MidEpochWriteFaultTests {
    let faults = WriteFaultTests()

    /// Trains epoch 1 into `folder`, then runs on with a state save after every step until `fault`
    /// breaks the disk: the first mid-epoch save of epoch 2 must fail with `reason`, leaving epoch 1's files.
    func expectFailure(reason: String, besides extra: Set<String> = [], fault: (URL, TemporaryMount, [URL: Data]) throws -> Void) throws {
        let mount = try TemporaryMount(size: "16m")
        defer { mount.unmount() }
        let folder = mount.folder.appendingPathComponent("run")
        let (trainer, saved) = try faults.trainOneEpoch(into: folder)
        try fault(folder, mount, saved)
        let error = try #require(throws: TrainingError.self) { try trainer.run(outputDirectory: folder, saveEvery: 0) }
        #expect(error == .cannotWrite(path: RunFolder(folder).trainingState.path, reason: reason))
        #expect(trainer.progress?.epoch == 2 && trainer.progress?.batchesDone == 1, "the save after epoch 2's first step")
        try faults.expectUnchanged(saved, in: folder, besides: extra)
        // What is left resumes: epoch 1's state.
        let resumed = try Trainer.resume(from: folder, trainSet: trainer.trainSet, testSet: trainer.testSet)
        #expect(resumed.completedEpochs == 1 && resumed.progress == nil)
    }

    @Test("a read-only folder at the first mid-epoch save: 'Read-only file system', epoch 1's state intact")
    func readOnlyMidEpoch() throws {
        try expectFailure(reason: "Read-only file system") { _, mount, _ in try mount.remountReadOnly() }
    }

    @Test("a full disk at the first mid-epoch save: 'No space left on device', epoch 1's state intact")
    func fullDiskMidEpoch() throws {
        try expectFailure(reason: "No space left on device", besides: ["filler"]) { folder, _, _ in
            let filler = folder.appendingPathComponent("filler")
            let descriptor = open(filler.path, O_WRONLY | O_CREAT, 0o644)
            #expect(descriptor >= 0)
            let page = [UInt8](repeating: 1, count: 4096)
            while page.withUnsafeBytes({ write(descriptor, $0.baseAddress!, $0.count) }) == 4096 {}
            close(descriptor)
        }
    }
}
