import Foundation
import SNNGraph
import SNNSupport
import SNNTensor
import SwiftProtobuf

/// Writes a Graph back to ONNX, in the opset it was imported with, so a converted model
/// (with ai.snnkit.IFNeuron nodes) or its clip-ANN round-trips through standard tools.
public enum ONNXExporter {
    /// The ONNX ModelProto bytes of `graph`, in its imported opset (17 if unknown), with `producer` as
    /// producer name.
    public static func serialize(_ graph: Graph, producer: String = "snnkit") throws -> Data {
        let opset = Int(graph.metadata["onnx.opset"] ?? "") ?? 17
        var model = Onnx_ModelProto()
        model.irVersion = opset >= 14 ? 8 : 7
        model.producerName = producer
        model.producerVersion = SNNKitVersion.current
        var standard = Onnx_OperatorSetIdProto()
        standard.domain = ""
        standard.version = Int64(opset)
        model.opsetImport = [standard]
        if graph.nodes.contains(where: { if case .ifNeuron = $0.op { true } else { false } }) {
            var custom = Onnx_OperatorSetIdProto()
            custom.domain = SNNKitDomain.name
            custom.version = SNNKitDomain.version
            model.opsetImport.append(custom)
        }
        for (key, value) in graph.metadata.sorted(by: { $0.key < $1.key }) where !key.hasPrefix("onnx.") {
            var entry = Onnx_StringStringEntryProto()
            entry.key = key
            entry.value = value
            model.metadataProps.append(entry)
        }
        var g = Onnx_GraphProto()
        g.name = graph.name
        var extraConstants = [String: Constant]()
        let integers = try integerConstantProtos(graph, opset: opset)
        g.node = try integers.nodes + graph.nodes.map { try nodeProto($0, opset: opset, extraConstants: &extraConstants) }
        for (name, constant) in graph.constants.merging(extraConstants, uniquingKeysWith: { a, _ in a }).sorted(by: { $0.key < $1.key })
        where !integers.replaced.contains(name) {
            g.initializer.append(tensorProto(constant, name: name))
        }
        g.initializer += integers.initializers
        g.input = graph.inputs.filter { graph.constants[$0.name] == nil }.map(valueInfo)
        g.output = graph.outputs.map(valueInfo)
        model.graph = g
        return try model.serializedData()
    }

    /// Writes atomically: a temporary file in the same folder, then a rename, so an
    /// interrupted export never leaves a half-written model behind.
    public static func write(_ graph: Graph, to url: URL) throws {
        let data = try serialize(graph)
        try AtomicFile.write(data, to: url)
    }

    static func valueInfo(_ info: ValueInfo) -> Onnx_ValueInfoProto {
        var v = Onnx_ValueInfoProto()
        v.name = info.name
        var t = Onnx_TypeProto.Tensor()
        t.elemType = Int32(info.elementType.rawValue)
        if let dims = info.dimensions {
            var shape = Onnx_TensorShapeProto()
            shape.dim = dims.map { d in
                var dim = Onnx_TensorShapeProto.Dimension()
                switch d {
                case .fixed(let n): dim.dimValue = Int64(n)
                case .symbolic(let name): dim.dimParam = name
                }
                return dim
            }
            t.shape = shape
        }
        v.type.tensorType = t
        return v
    }

    static func tensorProto(_ constant: Constant, name: String) -> Onnx_TensorProto {
        var t = Onnx_TensorProto()
        t.name = name
        switch constant {
        case .float(let f):
            t.dims = f.shape.map { Int64($0) }
            t.dataType = Int32(ElementType.float.rawValue)
            t.rawData = f.storage.withUnsafeBufferPointer { Data(buffer: $0) }
        case .int(let i):
            t.dims = i.shape.map { Int64($0) }
            t.dataType = Int32(ElementType.int64.rawValue)
            t.rawData = i.values.withUnsafeBufferPointer { Data(buffer: $0) }
        }
        return t
    }

    private static func attribute(_ name: String, int value: Int) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto(); a.name = name; a.type = .int; a.i = Int64(value); return a
    }
    private static func attribute(_ name: String, float value: Float) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto(); a.name = name; a.type = .float; a.f = value; return a
    }
    private static func attribute(_ name: String, ints value: [Int]) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto(); a.name = name; a.type = .ints; a.ints = value.map { Int64($0) }; return a
    }
    private static func attribute(_ name: String, string value: String) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto(); a.name = name; a.type = .string; a.s = Data(value.utf8); return a
    }
    private static func attribute(_ name: String, tensor value: Constant) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto(); a.name = name; a.type = .tensor; a.t = tensorProto(value, name: name); return a
    }

    static func nodeProto(_ node: Node, opset: Int, extraConstants: inout [String: Constant]) throws -> Onnx_NodeProto {
        var p = Onnx_NodeProto()
        p.name = node.name
        p.opType = node.op.onnxType
        p.input = node.inputs
        p.output = node.outputs
        var attributes = [Onnx_AttributeProto]()
        func window(_ kernel: [Int]?, _ strides: [Int], _ dilations: [Int], _ pads: [Int], _ autoPad: Operator.AutoPad) {
            if let kernel { attributes.append(attribute("kernel_shape", ints: kernel)) }
            if !strides.isEmpty { attributes.append(attribute("strides", ints: strides)) }
            if !dilations.isEmpty { attributes.append(attribute("dilations", ints: dilations)) }
            if !pads.isEmpty { attributes.append(attribute("pads", ints: pads)) }
            if autoPad != .notSet { attributes.append(attribute("auto_pad", string: autoPad.rawValue)) }
        }
        switch node.op {
        case .conv(let a), .convTranspose(let a):
            window(a.kernelShape, a.strides, a.dilations, a.pads, a.autoPad)
            attributes.append(attribute("group", int: a.group))
            if !a.outputPadding.isEmpty { attributes.append(attribute("output_padding", ints: a.outputPadding)) }
            if let s = a.outputShape { attributes.append(attribute("output_shape", ints: s)) }
        case .batchNormalization(let epsilon):
            attributes.append(attribute("epsilon", float: epsilon))
        case .clip(let low, let high):
            // Opset 11+ takes the bounds as inputs.
            let lowName = node.name + ".clip_min", highName = node.name + ".clip_max"
            p.input = [node.inputs[0], low == nil ? "" : lowName, high == nil ? "" : highName]
            if let low { extraConstants[lowName] = .float(Tensor(shape: [], storage: [low])) }
            if let high { extraConstants[highName] = .float(Tensor(shape: [], storage: [high])) }
            while p.input.last == "" { p.input.removeLast() }
        case .leakyRelu(let alpha): attributes.append(attribute("alpha", float: alpha))
        case .softmax(let axis, _): attributes.append(attribute("axis", int: axis))
        case .maxPool(let a):
            window(a.kernelShape, a.strides, a.dilations, a.pads, a.autoPad)
            if a.ceilMode { attributes.append(attribute("ceil_mode", int: 1)) }
        case .averagePool(let a, let include):
            window(a.kernelShape, a.strides, [], a.pads, a.autoPad)
            if a.ceilMode { attributes.append(attribute("ceil_mode", int: 1)) }
            if include { attributes.append(attribute("count_include_pad", int: 1)) }
        case .gemm(let g):
            attributes += [attribute("alpha", float: g.alpha), attribute("beta", float: g.beta),
                           attribute("transA", int: g.transA ? 1 : 0), attribute("transB", int: g.transB ? 1 : 0)]
        case .concat(let axis): attributes.append(attribute("axis", int: axis))
        case .flatten(let axis): attributes.append(attribute("axis", int: axis))
        case .reshape(let allowZero): if allowZero { attributes.append(attribute("allowzero", int: 1)) }
        case .transpose(let perm): if let perm { attributes.append(attribute("perm", ints: perm)) }
        case .squeeze(let axes), .unsqueeze(let axes): if let axes { attributes.append(attribute("axes", ints: axes)) }
        case .pad(let mode): attributes.append(attribute("mode", string: mode.rawValue))
        case .resize(let o), .upsample(let o):
            attributes.append(attribute("mode", string: o.mode.rawValue))
            if case .resize = node.op {
                attributes.append(attribute("coordinate_transformation_mode", string: o.mapping.rawValue))
                attributes.append(attribute("nearest_mode", string: o.rounding.rawValue))
            }
        case .shape(let start, let end):
            if start != 0 { attributes.append(attribute("start", int: start)) }
            if let end { attributes.append(attribute("end", int: end)) }
        case .gather(let axis): attributes.append(attribute("axis", int: axis))
        case .cast(let to): attributes.append(attribute("to", int: to.rawValue))
        case .constantOfShape(let value): attributes.append(attribute("value", tensor: value))
        case .ifNeuron(let v0):
            p.domain = SNNKitDomain.name
            attributes.append(attribute("initial_potential", float: v0))
        case .unsupported(let domain, _):
            p.domain = domain
        case .relu, .sigmoid, .exp, .globalAveragePool, .globalMaxPool, .matMul, .binary, .slice, .identity, .dropout:
            break
        }
        p.attribute = attributes
        return p
    }
}
