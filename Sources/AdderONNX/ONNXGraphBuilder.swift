// Assembles one ONNX graph: inputs and outputs with their types, weights as initializers, nodes in
// order. Every name (node, value, initializer, graph input or output) is unique in the graph: a
// layer called `logits` or `relu_1` does not clash with a name the exporter makes.
import Foundation
import NNCore
import ONNXProto

/// One axis of a graph input's or output's shape: a number, or a name for a size chosen at run time.
enum ONNXDimension: Equatable {
    /// A fixed size.
    case fixed(Int)
    /// A size the caller picks (`N`, the batch).
    case symbolic(String)
}

/// Builds an `Onnx_GraphProto` node by node.
struct ONNXGraphBuilder {
    /// The graph so far.
    private(set) var graph = Onnx_GraphProto()
    private var used: Set<String> = []

    /// An empty graph called `name`.
    init(name: String) {
        graph.name = name
    }

    /// Marks `names` as taken, so `uniqueName` never returns them (the graph's inputs and outputs,
    /// the initializers).
    mutating func reserve(_ names: some Sequence<String>) {
        used.formUnion(names)
    }

    /// `base` when no name in the graph is `base` yet, else `base_1`, `base_2`, ...; the name is then taken.
    mutating func uniqueName(_ base: String) -> String {
        var name = base
        var suffix = 0
        while used.contains(name) {
            suffix += 1
            name = "\(base)_\(suffix)"
        }
        used.insert(name)
        return name
    }

    /// Adds a float32 graph input.
    mutating func addInput(_ name: String, shape: [ONNXDimension]) {
        graph.input.append(Self.valueInfo(name, shape: shape))
    }

    /// Adds a float32 graph output.
    mutating func addOutput(_ name: String, shape: [ONNXDimension]) {
        graph.output.append(Self.valueInfo(name, shape: shape))
    }

    /// Adds `tensor` as a float32 initializer called `name` (little-endian `raw_data`, dims = its shape).
    mutating func addInitializer(_ name: String, _ tensor: Tensor) {
        var proto = Onnx_TensorProto()
        proto.name = name
        proto.dims = tensor.shape.map(Int64.init)
        proto.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        let words = tensor.scalars.map { $0.bitPattern.littleEndian }
        proto.rawData = words.withUnsafeBytes { Data($0) }
        graph.initializer.append(proto)
    }

    /// Adds a node of the default (ai.onnx) domain computing `opType` on `inputs` into one new value,
    /// and returns that value's name. The node is named `name` (made unique), its output
    /// `output` when given (a reserved name such as `logits`), else `<node name>_output`.
    @discardableResult
    mutating func addNode(
        _ opType: String, name: String, inputs: [String], output: String? = nil,
        attributes: [Onnx_AttributeProto] = []
    ) -> String {
        var node = Onnx_NodeProto()
        node.opType = opType
        node.name = uniqueName(name)
        node.input = inputs
        node.output = [output ?? uniqueName(node.name + "_output")]
        node.attribute = attributes
        graph.node.append(node)
        return node.output[0]
    }

    /// Makes the node that produces `value` write `newName` instead; false when no node produces it
    /// (`value` is a graph input). `newName` should be reserved; no node reads `value` yet.
    mutating func renameOutput(_ value: String, to newName: String) -> Bool {
        guard let index = graph.node.lastIndex(where: { $0.output.contains(value) }) else { return false }
        graph.node[index].output = graph.node[index].output.map { $0 == value ? newName : $0 }
        return true
    }

    /// A float32 tensor type with `shape`.
    static func valueInfo(_ name: String, shape: [ONNXDimension]) -> Onnx_ValueInfoProto {
        var tensorType = Onnx_TypeProto.Tensor()
        tensorType.elemType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        tensorType.shape.dim = shape.map { axis in
            var dimension = Onnx_TensorShapeProto.Dimension()
            switch axis {
            case .fixed(let size): dimension.dimValue = Int64(size)
            case .symbolic(let name): dimension.dimParam = name
            }
            return dimension
        }
        var info = Onnx_ValueInfoProto()
        info.name = name
        info.type.tensorType = tensorType
        return info
    }
}

/// Node attributes of the three kinds the exporter writes, as `.int("axis", 1)` in a node's list.
extension Onnx_AttributeProto {
    /// An `INT` attribute.
    static func int(_ name: String, _ value: Int) -> Onnx_AttributeProto {
        var attribute = Onnx_AttributeProto()
        attribute.name = name
        attribute.type = .int
        attribute.i = Int64(value)
        return attribute
    }

    /// An `INTS` attribute.
    static func intList(_ name: String, _ values: [Int]) -> Onnx_AttributeProto {
        var attribute = Onnx_AttributeProto()
        attribute.name = name
        attribute.type = .ints
        attribute.ints = values.map(Int64.init)
        return attribute
    }

    /// A `FLOAT` attribute.
    static func float(_ name: String, _ value: Float) -> Onnx_AttributeProto {
        var attribute = Onnx_AttributeProto()
        attribute.name = name
        attribute.type = .float
        attribute.f = value
        return attribute
    }
}
