// `mnist-adder export`: a checkpoint as an ONNX model (opset 17) for onnxruntime and other ONNX tools.
import AdderNet
import AdderONNX
import ArgumentParser
import Foundation

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a checkpoint's network as an ONNX model (opset \(ONNXExport.opsetVersion)).",
        discussion: """
            Inputs: image, float32 (N, 1, 28, 28), normalized as in training, (x / 255 - 0.1307) / 0.3081; \
            addend, float32 (N, 1). Outputs: logits, float32 (N, 10), and sum, float32 (N, 1), the adder \
            applied to (argmax of the logits, addend). N is any batch size. The weights are initializers \
            named by their state_dict keys; the model description is in the metadata.
            """)

    @Option(help: "A model.safetensors file, or a run folder holding one. (default: the shipped model)") var checkpoint: String?
    @Option(help: "The ONNX file to write; an existing file is replaced, as torch.onnx.export does, and the message says so.")
    var output: String

    /// The checkpoint metadata carried into the ONNX file (the description is written by the exporter).
    static let carriedMetadata = ["epoch", "seed", "metrics", Trainer.versionKey]

    func run() throws {
        let model = try loadModel(checkpoint)
        let (network, metadata, checkpointURL) = (model.network, model.metadata, model.url)
        let url = URL(fileURLWithPath: output)
        try Self.checkOutput(url, checkpoint: checkpointURL)
        let replaced = FileManager.default.fileExists(atPath: url.path)
        let carried = metadata.filter { Self.carriedMetadata.contains($0.key) }
        try ONNXExport.write(network, metadata: carried, to: url)
        let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
        print("\(replaced ? "Replaced" : "Wrote") \(url.path): network \(network.model.name), \(network.model.parameterCount) parameters, "
              + "ONNX opset \(ONNXExport.opsetVersion), \(size) bytes")
    }

    /// Refuses an output that is a folder, lies in a missing folder, or is the checkpoint itself.
    static func checkOutput(_ url: URL, checkpoint: URL) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw CommandError("--output \(url.path) is a folder, expected a file such as \(url.appendingPathComponent("model.onnx").path)")
        }
        let folder = url.deletingLastPathComponent()
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CommandError("--output \(url.path): the folder \(folder.path) does not exist, expected an existing folder", status: .noInput)
        }
        if url.resolvingSymlinksInPath().standardizedFileURL.path == checkpoint.resolvingSymlinksInPath().standardizedFileURL.path {
            throw CommandError("--output \(url.path) is the checkpoint being exported, expected another file")
        }
    }
}
