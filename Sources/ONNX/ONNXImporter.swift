import Foundation
import SNNGraph
import SNNTensor
import SwiftProtobuf

/// Reads ONNX models into SNNKit's graph.
///
/// Import normalises what ONNX allows several ways: Constant nodes become constants,
/// Clip bounds and Squeeze/Unsqueeze axes given as constant inputs become attributes
/// where possible, nodes are put in execution order, and every value a node reads is
/// checked to exist. Anything still wrong is reported with the file and node name.
public enum ONNXImporter {
    /// Loads a model from a file. External weight files are looked up next to it.
    public static func load(contentsOf url: URL) throws -> Graph {
        let file = url.path
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            throw ONNXError.unreadable(file: file, reason: (error as NSError).localizedDescription)
        }
        return try load(data: data, file: file, baseDirectory: url.deletingLastPathComponent())
    }

    /// Loads a model from serialized bytes; `file` names it in errors.
    public static func load(data: Data, file: String = "<memory>", baseDirectory: URL? = nil) throws -> Graph {
        guard !data.isEmpty else { throw ONNXError.corrupt(file: file, detail: "the file is empty") }
        let model: Onnx_ModelProto
        do {
            var options = BinaryDecodingOptions()
            options.messageDepthLimit = 200
            model = try Onnx_ModelProto(serializedBytes: data, options: options)
        } catch {
            throw ONNXError.corrupt(file: file, detail: "protobuf decoding failed: \(error)")
        }
        guard model.hasGraph, model.hasIrVersion, !model.graph.node.isEmpty || !model.graph.output.isEmpty else {
            throw ONNXError.noGraph(file: file)
        }
        let opset = model.opsetImport.first { $0.domain.isEmpty || $0.domain == "ai.onnx" }.map { Int($0.version) } ?? 1
        var metadata = [String: String]()
        for entry in model.metadataProps { metadata[entry.key] = entry.value }
        metadata["onnx.opset"] = String(opset)
        metadata["onnx.ir_version"] = String(model.irVersion)
        if !model.producerName.isEmpty { metadata["onnx.producer"] = model.producerName + " " + model.producerVersion }
        return try GraphBuilder(file: file, opset: opset, decoder: TensorDecoder(file: file, baseDirectory: baseDirectory))
            .build(model.graph, metadata: metadata)
    }
}

/// Builds one Graph from a GraphProto.
struct GraphBuilder {
    let file: String
    let opset: Int
    let decoder: TensorDecoder

    func build(_ proto: Onnx_GraphProto, metadata: [String: String]) throws -> Graph {
        var constants = [String: Constant]()
        for initializer in proto.initializer {
            constants[initializer.name] = try decoder.decode(initializer)
        }
        var nodes = [Node]()
        var integerConstants = [String: IntegerEncoding]()
        let parser = OperatorParser(file: file, opset: opset)
        var usedNames = Set<String>()
        for (index, nodeProto) in proto.node.enumerated() {
            var named = nodeProto
            // ONNX does not require node names, nor unique ones; the graph does (planning and
            // messages find nodes by name). A missing or repeated name takes the node's index.
            if named.name.isEmpty { named.name = "\(nodeProto.opType)_\(index)" }
            var suffix = 0
            while usedNames.contains(named.name) {
                named.name = "\(nodeProto.name.isEmpty ? nodeProto.opType : nodeProto.name)_\(index)" + (suffix == 0 ? "" : "_\(suffix)")
                suffix += 1
            }
            usedNames.insert(named.name)
            if named.opType == "Constant" && (named.domain.isEmpty || named.domain == "ai.onnx") {
                guard let output = named.output.first else { continue }
                constants[output] = try constantValue(named)
                continue
            }
            if named.opType == "DequantizeLinear" && (named.domain.isEmpty || named.domain == "ai.onnx"),
               let folded = try dequantizedConstant(named, constants: constants, initializers: proto.initializer) {
                constants[named.output[0]] = .float(folded.value)
                if let encoding = folded.encoding { integerConstants[named.output[0]] = encoding }
                continue
            }
            nodes.append(Node(name: named.name, op: try parser.parse(named), inputs: named.input, outputs: named.output))
        }
        nodes = try resolveConstantInputs(nodes, constants: constants)
        let inputs = try proto.input.map { try valueInfo($0) }
        let outputs = try proto.output.map { try valueInfo($0, requireFloat: false) }
        let ordered = try topologicalOrder(nodes, available: Set(constants.keys).union(inputs.map(\.name)))
        var graph = Graph(name: proto.name, nodes: ordered, inputs: inputs, outputs: outputs, constants: constants,
                          metadata: metadata, source: file)
        graph.integerConstants = integerConstants
        return graph
    }

    private func valueInfo(_ proto: Onnx_ValueInfoProto, requireFloat: Bool = true) throws -> ValueInfo {
        let tensorType = proto.type.tensorType
        let type = ElementType(rawValue: Int(tensorType.elemType)) ?? .float
        let dims: [DimensionValue]? = tensorType.hasShape ? tensorType.shape.dim.map { d in
            switch d.value {
            case .dimValue(let v)?: return .fixed(Int(v))
            case .dimParam(let p)?: return .symbolic(p)
            case nil: return .symbolic("")
            }
        } : nil
        return ValueInfo(name: proto.name, elementType: type, dimensions: dims)
    }

    /// The value of a Constant node, whichever of its attribute forms it uses.
    private func constantValue(_ node: Onnx_NodeProto) throws -> Constant {
        let a = NodeAttributes(node, file: file)
        if let t = try a.tensor("value") { return try decoder.decode(t, name: node.output[0]) }
        if a.has("value_float") { return .float(Tensor(shape: [], storage: [try a.float("value_float", default: 0)])) }
        if let v = try a.floats("value_floats") { return .float(Tensor(shape: [v.count], storage: v)) }
        if a.has("value_int") { return .int(IntTensor(shape: [], values: [Int64(try a.int("value_int", default: 0))])) }
        if let v = try a.ints("value_ints") { return .int(IntTensor(vector: v)) }
        throw ONNXError.badAttribute(file: file, node: node.name, detail: "Constant without a supported value attribute (value, value_float(s), value_int(s))")
    }

    /// Moves constant Clip bounds (opset 11+) into the operator, so later passes see ReLU6
    /// as Clip(0, 6) without chasing inputs.
    private func resolveConstantInputs(_ nodes: [Node], constants: [String: Constant]) throws -> [Node] {
        try nodes.map { node in
            guard case .clip(nil, nil) = node.op else { return node }
            func bound(_ index: Int) throws -> Float? {
                guard let name = node.input(index) else { return nil }
                switch constants[name] {
                case .float(let t)? where t.count == 1: return t.storage[0]
                case .int(let t)? where t.values.count == 1: return Float(t.values[0])
                default:
                    throw ONNXError.graph(file: file, .notConstant(node: node.name, value: name, role: "Clip bound"))
                }
            }
            var resolved = node
            resolved.op = .clip(min: try bound(1), max: try bound(2))
            resolved.inputs = Array(node.inputs.prefix(1))
            return resolved
        }
    }

    /// Orders nodes so each runs after the producers of its inputs (ONNX requires this
    /// already; exporters occasionally break it). Reports the first node whose input
    /// nothing produces, or a cycle.
    private func topologicalOrder(_ nodes: [Node], available: Set<String>) throws -> [Node] {
        var producer = [String: Int]()
        for (i, node) in nodes.enumerated() { for out in node.outputs where !out.isEmpty { producer[out] = i } }
        for node in nodes {
            for input in node.inputs where !input.isEmpty && !available.contains(input) && producer[input] == nil {
                throw ONNXError.graph(file: file, .missingValue(node: node.name, value: input))
            }
        }
        var state = [Int](repeating: 0, count: nodes.count)  // 0 new, 1 in progress, 2 done
        var order = [Node]()
        order.reserveCapacity(nodes.count)
        for start in nodes.indices where state[start] == 0 {
            // Iterative depth-first search so deep networks cannot overflow the stack.
            var stack: [(Int, Int)] = [(start, 0)]
            state[start] = 1
            while let (i, next) = stack.last {
                let inputs = nodes[i].inputs
                if next < inputs.count {
                    stack[stack.count - 1].1 += 1
                    guard let p = producer[inputs[next]], !available.contains(inputs[next]) else { continue }
                    if state[p] == 1 { throw ONNXError.graph(file: file, .cycle(node: nodes[i].name)) }
                    if state[p] == 0 {
                        state[p] = 1
                        stack.append((p, 0))
                    }
                } else {
                    state[i] = 2
                    order.append(nodes[i])
                    stack.removeLast()
                }
            }
        }
        return order
    }
}
