// `mnist-adder serve`: the JSON API and the drawing page over HTTP.
import AdderNet
import AdderServer
import ArgumentParser
import Foundation

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve live digit and sum predictions: a drawing page at / and a JSON API.",
        discussion: """
            POST /api/predict with {"image": "<PNG or JPEG base64>", "addend": 7} or {"pixels": [784 values 0-255], \
            "addend": 7}; GET /api/model; GET /healthz. SIGINT or SIGTERM stops it gracefully: it stops \
            accepting, lets requests in flight finish within --shutdown-timeout and exits 0.

            Limits: a request's head must arrive within --head-timeout of its first byte and its body within \
            --body-timeout of its head (else 408 and close); a connection waiting for a request longer than \
            --idle-timeout is closed; at --max-connections open connections the longest-idle one is closed \
            to make room for a new one.

            Batching: concurrent predictions share forward passes of up to --max-batch images; a batch waits at \
            most --batch-wait for company, and not at all when no other request is on its way.

            --collect DIR: the page gets "this is a D" buttons and POST /api/collect saves the drawing as the \
            network saw it in DIR/<D>/<id>.png (28×28, white on black as MNIST) and as sent in \
            DIR/originals/<id>.png, an ImageFolder set for evaluate and finetune; --collect-limit bounds the disk \
            it may take.
            """)

    @Option(help: "A model.safetensors file, or a run folder holding one. (default: the shipped model)") var checkpoint: String?
    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(parsing: .unconditional, help: "Port to listen on.") var port = 8080
    @Option(
        parsing: .unconditional,
        help: "Allowed range of the integer, as LO...HI or LO-HI, within the range the checkpoint was trained on. (default: the trained range)")
    var addendRange: AddendRange?
    @Option(parsing: .unconditional, help: "Largest request body in bytes.") var maxBodyBytes = 1 << 20
    @Option(parsing: .unconditional, help: "Forward passes run at once (engines, one thread each), 0 for one per core.") var workers = 0
    @Option(
        parsing: .unconditional,
        help: "Milliseconds a prediction may wait for others to share its forward pass; 0 turns batching off. A lone request never waits.")
    var batchWait = 2.0
    @Option(parsing: .unconditional, help: "Most images in one forward pass (with batching on).")
    var maxBatch = 64
    @OptionGroup var imageOptions: ImageOptions
    @Option(parsing: .unconditional, help: "Seconds a request's line and headers may take from its first byte.")
    var headTimeout = 10.0
    @Option(parsing: .unconditional, help: "Seconds a request's body may take from the end of its head.")
    var bodyTimeout = 30.0
    @Option(parsing: .unconditional, help: "Seconds a connection may wait for a request before it is closed.")
    var idleTimeout = 60.0
    @Option(parsing: .unconditional, help: "Most connections open at once; at the cap the longest-idle one is closed.")
    var maxConnections = 4096
    @Option(parsing: .unconditional, help: "Seconds requests in flight get to finish after SIGTERM or SIGINT.")
    var shutdownTimeout = 10.0
    @Option(help: "Save drawings labelled on the page (POST /api/collect) in this folder, in ImageFolder layout. (default: none, nothing is saved)")
    var collect: String?
    @Option(
        parsing: .unconditional,
        help: "Disk the --collect folder may take, in MB (1,000,000 bytes); a save past it gets 507. (default: 100)")
    var collectLimit: Int?

    func run() async throws {
        guard workers >= 0 else {
            throw CommandError("--workers: expected 0 (one per core) or more, found \(workers)")
        }
        guard ServerConfiguration.connectionCapRange.contains(maxConnections) else {
            throw CommandError(
                "--max-connections: expected \(ServerConfiguration.connectionCapRange), found \(maxConnections)")
        }
        guard batchWait.isFinite, (0...1000).contains(batchWait) else {
            throw CommandError("--batch-wait: expected milliseconds in [0, 1000] (0: no batching), found \(batchWait)")
        }
        guard ServerConfiguration.batchSizeRange.contains(maxBatch) else {
            throw CommandError("--max-batch: expected images in \(ServerConfiguration.batchSizeRange), found \(maxBatch)")
        }
        try checkCollectLimit()
        let maximumImagePixels = try imageOptions.validated()
        var configuration = ServerConfiguration(
            host: host, port: port, addendRange: try addendRange?.validated() ?? 0...9, maximumBodyBytes: maxBodyBytes,
            maximumImagePixels: maximumImagePixels,
            headTimeout: try seconds(headTimeout, "--head-timeout"), bodyTimeout: try seconds(bodyTimeout, "--body-timeout"),
            idleTimeout: try seconds(idleTimeout, "--idle-timeout"), maximumConnections: maxConnections,
            shutdownTimeout: try seconds(shutdownTimeout, "--shutdown-timeout", allowZero: true))
        configuration.batchWait = .microseconds(Int64((batchWait * 1000).rounded()))
        configuration.maximumBatch = maxBatch
        if workers > 0 { configuration.engineCount = workers }
        let model = try loadModel(checkpoint)
        let (network, metadata, url) = (model.network, model.metadata, model.url)
        let trained = try trainedAddendRange(metadata, checkpoint: url)
        configuration.addendRange = try servedAddendRange(try addendRange?.validated(), trained: trained, checkpoint: url)
        try configuration.validate()
        let collector = try await openCollection()
        var info = metadata
        info["checkpoint"] = url.path
        let (name, host) = (url.lastPathComponent, host)
        try await PredictionServer.run(
            model: ServedModel(network: network, metadata: info, trainedAddendRange: trained, calibration: model.calibration),
            configuration: configuration, collector: collector
        ) {
            // Unbuffered, so a script that reads the line learns the port at once.
            FileHandle.standardOutput.write(Data("Serving \(name) on http://\(host):\($0)/ (Ctrl-C to stop)\n".utf8))
        }
    }
}

extension ServeCommand {
    /// Checks `--collect-limit` before anything is loaded (in `run`: ArgumentParser's `validate` would
    /// turn the error's exit status into 70).
    func checkCollectLimit() throws {
        if let collectLimit {
            guard collect != nil else { throw CommandError("--collect-limit: expected --collect DIR with it") }
            guard (1...1_000_000).contains(collectLimit) else {
                throw CommandError("--collect-limit: expected MB in 1...1000000, found \(collectLimit)")
            }
        }
    }

    /// The `--collect` folder opened and counted, its notes printed to standard error, or nil without
    /// `--collect`.
    func openCollection() async throws -> SampleCollector? {
        guard let collect else { return nil }
        let collectLimit = self.collectLimit ?? SampleCollector.defaultMaximumBytes / 1_000_000
        let collector: SampleCollector
        do {
            collector = try SampleCollector(
                directory: URL(fileURLWithPath: collect, isDirectory: true), maximumBytes: collectLimit * 1_000_000)
        } catch let error as CollectionFolderError {
            if case .notAFolder = error { throw CommandError("--collect: \(error)") }
            throw CommandError("--collect: \(error)", status: .ioError)
        }
        for note in collector.notes { printError("note: \(note)") }
        let summary = await collector.summary()
        let counts = summary.counts.enumerated().map { "\($0.offset): \($0.element)" }.joined(separator: ", ")
        printError(
            "Collecting labelled drawings in \(collector.directory.path): \(summary.total) samples (\(counts)), "
                + String(format: "%.1f of %d MB used", Double(summary.bytesUsed) / 1e6, collectLimit))
        return collector
    }
}

/// `value` seconds as a Duration, or a one-line error naming `option` when it is not a finite number in
/// (0, 3600] (or [0, 3600] with `allowZero`); NaN and infinities never reach Duration, which traps on them.
func seconds(_ value: Double, _ option: String, allowZero: Bool = false) throws -> Duration {
    let allowed = allowZero ? "[0, 3600]" : "(0, 3600]"
    guard value.isFinite, allowZero ? value >= 0 : value > 0, value <= 3600 else {
        throw CommandError("\(option): expected seconds in \(allowed), found \(value)")
    }
    return .seconds(value)
}
