// The exported file read back with swift-protobuf: the header fields, the inputs and outputs, the
// nodes each network's description calls for (written out here by hand), the initializers' names
// and values, and a graph in which every value is made before it is read.
import AdderNet
import AdderONNX
import Foundation
import MNISTData
import NNCore
import ONNXProto
import Testing

/// The model `ONNXExport.serialized` writes for `network`, decoded again.
private func roundTrip(_ network: AdderNetwork, metadata: [String: String] = [:]) throws -> Onnx_ModelProto {
    try Onnx_ModelProto(serializedBytes: try ONNXExport.serialized(network, metadata: metadata))
}

/// The nodes of the adder after the CNN's logits, the same in every network with the standard adder.
private let standardAdderOps = ["ArgMax", "Cast", "Concat", "Gemm", "Gemm", "Gemm"]

@Suite("ONNX export: the file")
struct ONNXExportTests {
    @Test("the seed: opset 17, inputs and outputs with a symbolic batch, the nodes, metadata")
    func seed() throws {
        let network = AdderNetwork(.seed, seed: 5)
        let model = try roundTrip(network, metadata: ["epoch": "10", "model": "not this one"])
        #expect(model.irVersion == 8)
        #expect(model.opsetImport.map(\.domain) == [""] && model.opsetImport.map(\.version) == [17])
        #expect(model.producerName == "mnist-adder" && model.producerVersion == "1")
        #expect(model.docString.contains("(x / 255 - 0.1307) / 0.3081"), "\(model.docString)")

        let graph = model.graph
        #expect(graph.input.map(\.name) == ["image", "addend"])
        #expect(graph.input.map(\.dimensions) == [["N", "1", "28", "28"], ["N", "1"]])
        #expect(graph.output.map(\.name) == ["logits", "sum"])
        #expect(graph.output.map(\.dimensions) == [["N", "10"], ["N", "1"]])
        #expect((graph.input + graph.output).allSatisfy { $0.type.tensorType.elemType == 1 }, "float32")

        let cnn = ["Conv", "Relu", "Conv", "Relu", "Conv", "Relu", "MaxPool", "Conv", "Relu", "Conv", "Relu",
                   "Conv", "Relu", "Conv", "Relu", "Conv", "Flatten"]
        #expect(graph.node.map(\.opType) == cnn + standardAdderOps)
        let conv6 = try #require(graph.node.first { $0.name == "conv6" })
        #expect(Array(conv6.input.dropFirst()) == ["conv6.weight", "conv6.bias"])
        #expect(conv6.attribute("kernel_shape")?.ints == [5, 5] && conv6.attribute("pads")?.ints == [0, 0, 0, 0])
        let pool = try #require(graph.node.first { $0.opType == "MaxPool" })
        #expect(pool.name == "pool" && pool.attribute("kernel_shape")?.ints == [2, 2] && pool.attribute("strides")?.ints == [2, 2])
        // (N, 10, 1, 1) flattened to the logits; the adder reads them.
        #expect(graph.node[16].input == conv6.output && graph.node[16].output == ["logits"])
        #expect(graph.node[16].attribute("axis")?.i == 1)
        let argmax = graph.node[17]
        #expect(argmax.input == ["logits"] && argmax.attribute("axis")?.i == 1 && argmax.attribute("keepdims")?.i == 1)
        #expect(graph.node[18].attribute("to")?.i == 1, "Cast to FLOAT")
        #expect(graph.node[19].input == [graph.node[18].output[0], "addend"] && graph.node[19].attribute("axis")?.i == 1)
        let gemms = graph.node.suffix(3)
        #expect(gemms.map(\.name) == ["input2", "layer1", "out2"])
        #expect(gemms.allSatisfy { $0.attribute("transB")?.i == 1 })
        #expect(gemms.last?.output == ["sum"])

        let props = Dictionary(uniqueKeysWithValues: model.metadataProps.map { ($0.key, $0.value) })
        #expect(try ModelDescription(json: try #require(props["model"])) == .seed, "ours, not the caller's 'model'")
        #expect(props["epoch"] == "10" && props["normalization_mean"] == "0.1307" && props["normalization_std"] == "0.3081")
        #expect(model.metadataProps.count == 4)
    }

    @Test("the seed's initializers are its state_dict, in order, bit for bit")
    func seedInitializers() throws {
        let network = AdderNetwork(.seed, seed: 5)
        let initializers = try roundTrip(network).graph.initializer
        let keys = ["input1", "conv1", "conv2", "oneconv1", "conv3", "conv4", "conv5", "conv6", "input2", "layer1", "out2"]
            .flatMap { ["\($0).weight", "\($0).bias"] }
        #expect(initializers.map(\.name) == keys)
        #expect(initializers.first?.dims == [16, 1, 3, 3] && initializers.last?.dims == [1])
        #expect(initializers.allSatisfy { $0.dataType == 1 })
        for (initializer, tensor) in zip(initializers, network.parameters) {
            #expect(initializer.dims == tensor.shape.map(Int64.init), "\(initializer.name)")
            #expect(initializer.floats.map(\.bitPattern) == tensor.scalars.map(\.bitPattern), "\(initializer.name)")
        }
    }

    @Test("seed-bn: BatchNormalization in inference with the running statistics; no num_batches_tracked")
    func seedBN() throws {
        let network = try TestNetworks.network("seed-bn")
        let graph = try roundTrip(network).graph
        let block = ["Conv", "BatchNormalization", "Relu"]
        let cnn = block + block + block + ["MaxPool"] + block + block + block + block + ["Conv", "Flatten"]
        #expect(graph.node.map(\.opType) == cnn + standardAdderOps)
        let conv1 = try #require(graph.node.first { $0.name == "conv1" })
        #expect(conv1.input.count == 2, "no bias: \(conv1.input)")
        let bn = try #require(graph.node.first { $0.name == "conv1_bn" })
        #expect(bn.input == conv1.output + ["conv1_bn.weight", "conv1_bn.bias", "conv1_bn.running_mean", "conv1_bn.running_var"])
        #expect(bn.attribute("epsilon")?.f == 1e-5)
        #expect(abs((bn.attribute("momentum")?.f ?? 0) - 0.9) < 1e-6, "ONNX's momentum is 1 − PyTorch's")
        #expect(bn.attribute("training_mode") == nil)
        // 7 bias-free convolutions, conv6 with its bias, 7 BatchNorm2d × 4 tensors, 3 adder layers × 2.
        #expect(graph.initializer.count == 7 + 2 + 28 + 6)
        #expect(!graph.initializer.contains { $0.name.hasSuffix("num_batches_tracked") })
        let variance = try #require(graph.initializer.first { $0.name == "conv5_bn.running_var" })
        let index = try #require(network.model.bufferEntries.firstIndex { $0.key == "conv5_bn.running_var" })
        #expect(variance.floats == network.buffers[index].scalars)
    }

    @Test("pytorch-examples: dropout left out, Flatten, the last Gemm writes the logits")
    func pytorchExamples() throws {
        let graph = try roundTrip(AdderNetwork(.pytorchExamples, seed: 5)).graph
        #expect(graph.node.map(\.opType)
                == ["Conv", "Relu", "Conv", "Relu", "MaxPool", "Flatten", "Gemm", "Relu", "Gemm"] + standardAdderOps)
        let fc2 = try #require(graph.node.first { $0.name == "fc2" })
        #expect(fc2.output == ["logits"] && fc2.input.dropFirst() == ["fc2.weight", "fc2.bias"])
        #expect(fc2.attribute("transB")?.i == 1)
    }

    @Test("names made for unnamed layers and the outputs never clash with the layers' own names")
    func uniqueNames() throws {
        let graph = try roundTrip(try TestNetworks.network(TestNetworks.corners.name)).graph
        #expect(graph.node.map(\.opType) == ["Conv", "BatchNormalization", "Relu", "MaxPool", "Conv", "Relu", "Flatten",
                                             "Gemm", "ArgMax", "Cast", "Concat", "Gemm", "Gemm"])
        let nodeNames = graph.node.map(\.name)
        #expect(Set(nodeNames).count == nodeNames.count, "\(nodeNames)")
        let values = graph.input.map(\.name) + graph.initializer.map(\.name) + graph.node.flatMap(\.output)
        #expect(Set(values).count == values.count, "\(values)")
        // Every node reads only what exists before it: a graph input, an initializer, an earlier output.
        var known = Set(graph.input.map(\.name) + graph.initializer.map(\.name))
        for node in graph.node {
            #expect(node.input.allSatisfy(known.contains), "\(node.name) reads \(node.input)")
            known.formUnion(node.output)
        }
        #expect(graph.output.allSatisfy { known.contains($0.name) })
        let conv = graph.node[0]
        #expect(conv.input.dropFirst() == ["logits.weight", "logits.bias"] && conv.output != ["logits"])
        #expect(conv.attribute("strides")?.ints == [2, 2] && conv.attribute("pads")?.ints == [1, 1, 1, 1])
        #expect(graph.node[7].name == "fc" && graph.node[7].output == ["logits"] && graph.node[7].input.count == 2)
        #expect(graph.node[11].input.count == 2, "input2 has no bias")
        #expect(graph.node[12].output == ["sum"])
    }

    @Test("tensors that do not fit the description, and an unwritable file, are one-line errors")
    func errors() throws {
        var network = AdderNetwork(.seed, seed: 5)
        network.parameters[0] = Tensor(shape: [16, 1, 5, 5])
        #expect(throws: ONNXExportError.shapeMismatch(key: "input1.weight", expected: [16, 1, 3, 3], found: [16, 1, 5, 5])) {
            try ONNXExport.serialized(network)
        }
        network = AdderNetwork(.seedBN, seed: 5)
        network.buffers.removeLast()
        #expect(throws: ONNXExportError.tensorCount(kind: "buffers", expected: 21, found: 20)) {
            try ONNXExport.serialized(network)
        }
        let missing = URL(fileURLWithPath: "/nonexistent-\(UUID().uuidString)/model.onnx")
        do {
            try ONNXExport.write(AdderNetwork(.seed, seed: 5), to: missing)
            Issue.record("wrote into a folder that does not exist")
        } catch let error as ONNXExportError {
            #expect(error.description.hasPrefix("\(missing.path): cannot write ONNX file: cannot create "), "\(error)")
            #expect(error.description.hasSuffix("No such file or directory"), "\(error)")
        }
    }
}
