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
            POST /api/predict with {"image": "<PNG base64>", "addend": 7} or {"pixels": [784 values 0-255], \
            "addend": 7}; GET /api/model; GET /healthz. SIGINT or SIGTERM stops it gracefully.
            """)

    @Option(help: "A model.safetensors file, or a run folder holding one.") var checkpoint: String
    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(parsing: .unconditional, help: "Port to listen on.") var port = 8080
    @Option(parsing: .unconditional, help: "Allowed range of the integer, as LO...HI.") var addendRange = AddendRange(0...9)
    @Option(parsing: .unconditional, help: "Largest request body in bytes.") var maxBodyBytes = 1 << 20
    @Option(parsing: .unconditional, help: "Predictions computed at once, 0 for one per core.") var workers = 0
    @OptionGroup var imageOptions: ImageOptions

    func run() async throws {
        guard workers >= 0 else {
            throw CommandError("--workers: expected 0 (one per core) or more, found \(workers)")
        }
        let maximumImagePixels = try imageOptions.validated()
        let (network, metadata, url) = try loadCheckpoint(checkpoint)
        var info = metadata
        info["checkpoint"] = url.path
        var configuration = ServerConfiguration(
            host: host, port: port, addendRange: try addendRange.validated(), maximumBodyBytes: maxBodyBytes,
            maximumImagePixels: maximumImagePixels)
        if workers > 0 { configuration.engineCount = workers }
        try configuration.validate()
        let (name, host) = (url.lastPathComponent, host)
        try await PredictionServer.run(model: ServedModel(network: network, metadata: info), configuration: configuration) {
            // Unbuffered, so a script that reads the line learns the port at once.
            FileHandle.standardOutput.write(Data("Serving \(name) on http://\(host):\($0)/ (Ctrl-C to stop)\n".utf8))
        }
    }
}
