// A network as an ONNX model (opset 17) that onnxruntime and other ONNX tools run: the image and
// the integer in, the logits and the sum out, in evaluation mode. The graph is derived from the
// model description alone (ONNXExport+Graph.swift); the messages are ONNX's own onnx.proto, through
// swift-protobuf (Sources/ONNXProto).
import AdderNet
import Foundation
import MNISTData
import NNCore
import ONNXProto
import SwiftProtobuf

/// Exports networks as ONNX models.
///
/// The model has two float32 inputs, `image` (N, 1, 28, 28), already normalized as in training
/// (`(x / 255 − 0.1307) / 0.3081` per pixel), and `addend` (N, 1); and two float32 outputs, `logits`
/// (N, 10), before softmax, and `sum` (N, 1), the adder applied to (argmax of the logits, addend).
/// N is a symbolic dimension. Matches `AdderEngine.forward` (evaluation mode; checked against
/// onnxruntime in Tests/AdderONNXTests); the CNN's layers are the operators `torch.onnx.export` writes
/// for them in `eval()` mode, and the weights are initializers named by their `state_dict` keys.
public enum ONNXExport {
    /// The ai.onnx operator set the graph uses.
    public static let opsetVersion = 17
    /// The ONNX IR version of the file: 8, the one that came with opset 17 (onnx 1.12).
    public static let irVersion = 8
    /// `producer_name` of the files written.
    public static let producerName = "mnist-adder"
    /// `producer_version`: the version of this exporter's graph layout (the package has no release
    /// version), raised when the graph it writes changes.
    public static let producerVersion = "1"
    /// The metadata key holding the model description as JSON, as in checkpoints.
    public static let modelMetadataKey = Checkpoint.modelKey
    /// The name of the batch dimension of every input and output.
    public static let batchDimension = "N"

    /// The names of the graph's inputs and outputs.
    public enum Name {
        /// Input: the normalized images, (N, C, H, W) of the description's input shape.
        public static let image = "image"
        /// Input: the integers to add, (N, 1).
        public static let addend = "addend"
        /// Output: the class scores, (N, 10).
        public static let logits = "logits"
        /// Output: the adder's sums, (N, 1).
        public static let sum = "sum"
    }

    /// The ONNX model of `network`: opset 17, the graph of its description with its tensors as
    /// initializers, `producer_name`/`producer_version`, a doc string saying what goes in and out,
    /// and `metadata_props` holding the description as JSON (`model`), the input normalization
    /// (`normalization_mean`, `normalization_std`) and `metadata` (a key of `metadata` named like
    /// one of these is left out).
    ///
    /// Throws `ModelDescriptionError` for a description that does not validate, and
    /// `ONNXExportError.tensorCount` or `.shapeMismatch` for tensors that do not fit it.
    public static func model(_ network: AdderNetwork, metadata: [String: String] = [:]) throws -> Onnx_ModelProto {
        var proto = Onnx_ModelProto()
        proto.irVersion = Int64(irVersion)
        var opset = Onnx_OperatorSetIdProto()
        opset.domain = ""
        opset.version = Int64(opsetVersion)
        proto.opsetImport = [opset]
        proto.producerName = producerName
        proto.producerVersion = producerVersion
        proto.docString = docString(network.model)
        proto.graph = try graph(network)

        var props: [(String, String)] = [
            (modelMetadataKey, try network.model.jsonString()),
            ("normalization_mean", "\(MNISTNormalization.mean)"),
            ("normalization_std", "\(MNISTNormalization.std)"),
        ]
        let ours = Set(props.map(\.0))
        props += metadata.filter { !ours.contains($0.key) }.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        proto.metadataProps = props.map { key, value in
            var entry = Onnx_StringStringEntryProto()
            entry.key = key
            entry.value = value
            return entry
        }
        return proto
    }

    /// The bytes of `model(network, metadata:)`, the protobuf encoding an `.onnx` file holds.
    /// Throws what `model` throws, or swift-protobuf's `BinaryEncodingError` (not expected for a
    /// complete model).
    public static func serialized(_ network: AdderNetwork, metadata: [String: String] = [:]) throws -> [UInt8] {
        try model(network, metadata: metadata).serializedBytes()
    }

    /// Writes `serialized(network, metadata:)` to `url`, atomically (a temporary file in the same
    /// folder, renamed over `url`). Throws what `model` throws, or `ONNXExportError.writeFailed`
    /// naming the file and the system's reason.
    public static func write(_ network: AdderNetwork, metadata: [String: String] = [:], to url: URL) throws {
        let bytes = try serialized(network, metadata: metadata)
        do {
            try Safetensors.writeAtomically(bytes, to: url)
        } catch SafetensorsError.writeFailed(let file, let reason) {
            throw ONNXExportError.writeFailed(file: file, reason: reason)
        }
    }

    /// What goes in and out, in words, for the model's `doc_string`.
    static func docString(_ model: ModelDescription) -> String {
        let shape = ([batchDimension] + model.inputShape.map(String.init)).joined(separator: ", ")
        return """
            mnist-adder, network '\(model.name)', in evaluation mode. Inputs: \(Name.image) float32 (\(shape)), \
            normalized as in training: (x / 255 - \(MNISTNormalization.mean)) / \(MNISTNormalization.std) per pixel \
            x in 0...255 (0 background, 255 ink); \(Name.addend) float32 (\(batchDimension), 1), the integer to add. \
            Outputs: \(Name.logits) float32 (\(batchDimension), \(ModelDescription.classes)), the class scores before \
            softmax; \(Name.sum) float32 (\(batchDimension), 1), the adder applied to (argmax of the logits, addend). \
            The model description is in metadata_props['\(modelMetadataKey)'].
            """
    }
}
