// The graph of a network, derived layer by layer from its description, as torch.onnx.export writes
// the same layers in eval() mode:
//
//   Conv2d → Conv (with or without its bias)        BatchNorm2d → BatchNormalization (running stats)
//   ReLU → Relu      MaxPool2d → MaxPool            Dropout → nothing (the identity in inference)
//   Flatten → Flatten(axis 1)                        Linear → Gemm(transB = 1)
//
// A CNN that ends in (N, 10, 1, 1) (the seed's last convolution) is flattened to (N, 10): `logits`.
// The adder: ArgMax(logits, axis 1, keepdims 1) → Cast to float → Concat with `addend` → (N, 2) →
// its Gemms → `sum` (N, 1). BatchNorm2d's num_batches_tracked is not written: no node reads it.
import AdderNet
import NNCore
import ONNXProto

extension ONNXExport {
    /// The graph of `network`: inputs `image` and `addend`, every parameter and running statistic
    /// as an initializer named by its `state_dict` key, in `state_dict` order, the layers' nodes, and
    /// outputs `logits` and `sum`. Throws `ModelDescriptionError` for a description that does not
    /// validate, `ONNXExportError.tensorCount` or `.shapeMismatch` for tensors that do not fit it.
    static func graph(_ network: AdderNetwork) throws -> Onnx_GraphProto {
        let model = network.model
        try model.validate()
        let shapes = try model.activationShapes()
        let tensors = try tensorsByKey(network)
        let batch = ONNXDimension.symbolic(batchDimension)

        var builder = ONNXGraphBuilder(name: model.name)
        builder.reserve([Name.image, Name.addend, Name.logits, Name.sum] + model.stateEntries.map(\.key))
        builder.addInput(Name.image, shape: [batch] + model.inputShape.map { .fixed($0) })
        builder.addInput(Name.addend, shape: [batch, .fixed(1)])
        for entry in model.stateEntries where entry.role != .numBatchesTracked {
            if let tensor = tensors[entry.key] { builder.addInitializer(entry.key, tensor) }
        }

        var x = Name.image
        for (index, layer) in model.layers.enumerated() {
            switch layer {
            case .conv2d(let c):
                x = builder.addNode(
                    "Conv", name: c.name, inputs: [x, key(c.name, .weight)] + (c.bias ? [key(c.name, .bias)] : []),
                    attributes: [
                        .intList("kernel_shape", [c.kernelSize, c.kernelSize]), .intList("strides", [c.stride, c.stride]),
                        .intList("pads", [c.padding, c.padding, c.padding, c.padding]), .intList("dilations", [1, 1]),
                        .int("group", 1),
                    ])
            case .batchNorm2d(let b):
                // ONNX's momentum weighs the running value (PyTorch's weighs the batch's); unused in inference.
                x = builder.addNode(
                    "BatchNormalization", name: b.name,
                    inputs: [x] + ([.weight, .bias, .runningMean, .runningVar] as [StateEntry.Role]).map { key(b.name, $0) },
                    attributes: [.float("epsilon", b.eps), .float("momentum", 1 - b.momentum)])
            case .relu:
                x = builder.addNode("Relu", name: "relu_\(index)", inputs: [x])
            case .maxPool2d(let p):
                x = builder.addNode(
                    "MaxPool", name: p.name ?? "maxpool_\(index)", inputs: [x],
                    attributes: [
                        .intList("kernel_shape", [p.kernelSize, p.kernelSize]), .intList("strides", [p.stride, p.stride]),
                        .intList("pads", [0, 0, 0, 0]), .int("ceil_mode", 0),
                    ])
            case .dropout:
                continue
            case .flatten:
                x = builder.addNode("Flatten", name: "flatten_\(index)", inputs: [x], attributes: [.int("axis", 1)])
            case .linear(let l):
                x = gemm(&builder, l, input: x)
            }
        }

        // The logits as (N, 10): flattened from (N, 10, 1, 1), or the last node's output renamed.
        if shapes[shapes.count - 1].count > 1 {
            builder.addNode("Flatten", name: "logits_flatten", inputs: [x], output: Name.logits, attributes: [.int("axis", 1)])
        } else if !builder.renameOutput(x, to: Name.logits) {
            builder.addNode("Identity", name: "logits_identity", inputs: [x], output: Name.logits)
        }

        let digit = builder.addNode(
            "ArgMax", name: "digit", inputs: [Name.logits],
            attributes: [.int("axis", 1), .int("keepdims", 1), .int("select_last_index", 0)])
        let digitFloat = builder.addNode(
            "Cast", name: "digit_float", inputs: [digit],
            attributes: [.int("to", Onnx_TensorProto.DataType.float.rawValue)])
        var y = builder.addNode("Concat", name: "adder_input", inputs: [digitFloat, Name.addend], attributes: [.int("axis", 1)])
        for layer in model.adder {
            y = gemm(&builder, layer, input: y)
        }
        if !builder.renameOutput(y, to: Name.sum) {
            builder.addNode("Identity", name: "sum_identity", inputs: [y], output: Name.sum)
        }

        builder.addOutput(Name.logits, shape: [batch, .fixed(ModelDescription.classes)])
        builder.addOutput(Name.sum, shape: [batch, .fixed(1)])
        return builder.graph
    }

    /// The `state_dict` key of a module's tensor, `<module>.<role>`, as `ModelDescription.stateEntries` names it.
    private static func key(_ module: String, _ role: StateEntry.Role) -> String {
        "\(module).\(role.rawValue)"
    }

    /// `nn.Linear` as Gemm: input (N, I) · weightᵀ + bias → (N, O), the weight kept [O, I] with transB = 1.
    private static func gemm(_ builder: inout ONNXGraphBuilder, _ layer: Linear, input: String) -> String {
        builder.addNode(
            "Gemm", name: layer.name,
            inputs: [input, key(layer.name, .weight)] + (layer.bias ? [key(layer.name, .bias)] : []),
            attributes: [.float("alpha", 1), .float("beta", 1), .int("transA", 0), .int("transB", 1)])
    }

    /// The network's tensors by `state_dict` key, after checking their count and shapes against the
    /// description. Throws `ONNXExportError.tensorCount` or `.shapeMismatch`.
    static func tensorsByKey(_ network: AdderNetwork) throws -> [String: Tensor] {
        let model = network.model
        let parts = [
            ("parameters", model.parameterEntries, network.parameters),
            ("buffers", model.bufferEntries, network.buffers),
        ]
        var tensors: [String: Tensor] = [:]
        for (kind, entries, values) in parts {
            guard entries.count == values.count else {
                throw ONNXExportError.tensorCount(kind: kind, expected: entries.count, found: values.count)
            }
            for (entry, tensor) in zip(entries, values) {
                guard tensor.shape == entry.shape else {
                    throw ONNXExportError.shapeMismatch(key: entry.key, expected: entry.shape, found: tensor.shape)
                }
                tensors[entry.key] = tensor
            }
        }
        return tensors
    }
}
