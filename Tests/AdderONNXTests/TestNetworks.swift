// The networks the export tests use: the three built-in ones with random weights (seed-bn with
// random running statistics and affine parameters, so BatchNormalization does real work), the seed
// trained by PyTorch (Tests/Fixtures/pytorch-trained.safetensors: real logits, every digit), and a
// made-up one that tries the exporter's corners: stride and padding, a convolution and a linear
// layer without bias, an unnamed 3×3 pool, dropout last, layers named like the graph's outputs and
// like the names the exporter makes for unnamed layers, and an adder of two layers.
import AdderNet
import Foundation
import NNCore
import NNTestSupport
import ONNXProto

enum TestNetworks {
    /// The made-up network (28 → 14 → 6 → 6, 12·6·6 = 432 → 10).
    static let corners = ModelDescription(
        name: "corners",
        layers: [
            .conv2d(Conv2d("logits", 1, 8, kernelSize: 3, stride: 2, padding: 1)),
            .batchNorm2d(BatchNorm2d("relu_2", 8, eps: 1e-3, momentum: 0.2)),
            .relu,
            .maxPool2d(MaxPool2d(kernelSize: 3, stride: 2)),
            .conv2d(Conv2d("sum", 8, 12, kernelSize: 3, padding: 1, bias: false)),
            .relu,
            .flatten,
            .dropout(Dropout("dropout", p: 0.3)),
            .linear(Linear("fc", 432, 10, bias: false)),
            .dropout(Dropout("last_dropout", p: 0.1)),
        ],
        adder: [Linear("input2", 2, 3, bias: false), Linear("out2", 3, 1)])

    /// The name of the PyTorch-trained seed network.
    static let trained = "pytorch-trained"

    /// The networks by name: the built-in ones, `corners` and the trained seed.
    static let names = ModelDescription.builtIn.map(\.name) + [corners.name, trained]

    /// The network called `name` with weights from `AdderNetwork(model, seed: 7)`, and BatchNorm2d's
    /// γ, β, running mean and variance drawn at random (γ in [0.5, 1.5], β in [−0.5, 0.5], mean in
    /// [−0.5, 0.5], variance in [0.25, 2]), num_batches_tracked 100.
    /// `trained` is the fixture's network as it is.
    static func network(_ name: String) throws -> AdderNetwork {
        if name == trained {
            return try Checkpoint.load(contentsOf: Fixtures.directory.appendingPathComponent("pytorch-trained.safetensors")).network
        }
        let model = name == corners.name ? corners : try ModelDescription.named(name)
        var network = AdderNetwork(model, seed: 7)
        var rng = SplitMix64(seed: 11)
        for (index, entry) in model.parameterEntries.enumerated() where entry.fanIn == 0 {
            let (low, high): (Float, Float) = entry.role == .weight ? (0.5, 1.5) : (-0.5, 0.5)
            network.parameters[index].scalars = (0..<entry.count).map { _ in rng.nextUniform(low, high) }
        }
        for (index, entry) in model.bufferEntries.enumerated() {
            switch entry.role {
            case .runningMean: network.buffers[index].scalars = (0..<entry.count).map { _ in rng.nextUniform(-0.5, 0.5) }
            case .runningVar: network.buffers[index].scalars = (0..<entry.count).map { _ in rng.nextUniform(0.25, 2) }
            default: network.buffers[index].scalars = [100]
            }
        }
        return network
    }
}

extension Onnx_TensorProto {
    /// The float32 values of `raw_data`, little-endian.
    var floats: [Float] {
        stride(from: 0, to: rawData.count, by: 4).map { offset in
            let bytes = rawData.subdata(in: (rawData.startIndex + offset)..<(rawData.startIndex + offset + 4))
            let word = bytes.reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            return Float(bitPattern: word)
        }
    }
}

extension Onnx_NodeProto {
    /// The attribute called `name`, if the node has it.
    func attribute(_ name: String) -> Onnx_AttributeProto? {
        attribute.first { $0.name == name }
    }
}

extension Onnx_ValueInfoProto {
    /// The tensor type's shape, each axis its number or its name.
    var dimensions: [String] {
        type.tensorType.shape.dim.map { dimension in
            switch dimension.value {
            case .dimValue(let size)?: String(size)
            case .dimParam(let name)?: name
            case nil: "?"
            }
        }
    }
}
