import SNNGraph
import SNNTensor

/// SNNKit's custom operator domain: converted models store neurons as ai.snnkit.IFNeuron.
public enum SNNKitDomain {
    /// The domain of SNNKit's own operators.
    public static let name = "ai.snnkit"
    /// The domain's opset version.
    public static let version: Int64 = 1
}

/// Maps an ONNX node to SNNKit's typed operator, resolving opset differences
/// (attributes that became inputs, changed defaults) so later stages see one form.
struct OperatorParser {
    let file: String
    let opset: Int

    func parse(_ proto: Onnx_NodeProto) throws -> Operator {
        let a = NodeAttributes(proto, file: file)
        let domain = proto.domain
        if domain == SNNKitDomain.name && proto.opType == "IFNeuron" {
            return .ifNeuron(initialPotential: try a.float("initial_potential", default: 0.5))
        }
        guard domain.isEmpty || domain == "ai.onnx" else { return .unsupported(domain: domain, type: proto.opType) }
        switch proto.opType {
        case "Conv": return .conv(try convAttributes(a, transposed: false))
        case "ConvTranspose": return .convTranspose(try convAttributes(a, transposed: true))
        case "BatchNormalization":
            if try a.int("training_mode", default: 0) != 0 {
                throw ONNXError.badAttribute(file: file, node: proto.name, detail: "BatchNormalization in training mode; export the model in eval mode")
            }
            return .batchNormalization(epsilon: try a.float("epsilon", default: 1e-5))
        case "Relu": return .relu
        case "Clip":
            // Opset < 11 carries the bounds as attributes; later opsets as inputs (resolved by the importer).
            if a.has("min") || a.has("max") {
                return .clip(min: try a.float("min", default: -Float.greatestFiniteMagnitude),
                             max: try a.float("max", default: Float.greatestFiniteMagnitude))
            }
            return .clip(min: nil, max: nil)
        case "LeakyRelu": return .leakyRelu(alpha: try a.float("alpha", default: 0.01))
        case "Sigmoid": return .sigmoid
        case "Softmax":
            return .softmax(axis: try a.int("axis", default: opset < 13 ? 1 : -1), coerceTo2D: opset < 13)
        case "Exp": return .exp
        case "MaxPool":
            if proto.output.count > 1 && !proto.output[1].isEmpty {
                throw ONNXError.badAttribute(file: file, node: proto.name, detail: "MaxPool's Indices output is not supported")
            }
            return .maxPool(try poolAttributes(a))
        case "AveragePool":
            return .averagePool(try poolAttributes(a), countIncludePad: try a.int("count_include_pad", default: 0) != 0)
        case "GlobalAveragePool": return .globalAveragePool
        case "GlobalMaxPool": return .globalMaxPool
        case "Gemm":
            return .gemm(.init(alpha: try a.float("alpha", default: 1), beta: try a.float("beta", default: 1),
                               transA: try a.int("transA", default: 0) != 0, transB: try a.int("transB", default: 0) != 0))
        case "MatMul": return .matMul
        case "Add": return .binary(.add)
        case "Sub": return .binary(.sub)
        case "Mul": return .binary(.mul)
        case "Div": return .binary(.div)
        case "Min" where proto.input.count == 2: return .binary(.min)
        case "Max" where proto.input.count == 2: return .binary(.max)
        case "Concat":
            guard a.has("axis") else { throw ONNXError.badAttribute(file: file, node: proto.name, detail: "Concat needs an axis") }
            return .concat(axis: try a.int("axis", default: 0))
        case "Flatten": return .flatten(axis: try a.int("axis", default: 1))
        case "Reshape": return .reshape(allowZero: try a.int("allowzero", default: 0) != 0)
        case "Transpose": return .transpose(permutation: try a.ints("perm"))
        case "Squeeze": return .squeeze(axes: try a.ints("axes"))
        case "Unsqueeze": return .unsqueeze(axes: try a.ints("axes"))
        case "Slice":
            if opset < 10 { throw ONNXError.badAttribute(file: file, node: proto.name, detail: "Slice before opset 10 is not supported; export with opset 11 or later") }
            return .slice
        case "Pad":
            if opset < 11 { throw ONNXError.badAttribute(file: file, node: proto.name, detail: "Pad before opset 11 is not supported; export with opset 11 or later") }
            return .pad(mode: try a.choice("mode", default: Layout.PadMode.constant))
        case "Resize": return .resize(try resizeOptions(a, defaultMapping: opset < 11 ? .asymmetric : .halfPixel))
        case "Upsample":
            if a.has("scales") { throw ONNXError.badAttribute(file: file, node: proto.name, detail: "Upsample with a scales attribute (opset < 9) is not supported; export with opset 11 or later") }
            return .upsample(try resizeOptions(a, defaultMapping: .asymmetric))
        case "Identity": return .identity
        case "Dropout": return .dropout
        case "Shape": return .shape(start: try a.int("start", default: 0), end: a.has("end") ? try a.int("end", default: 0) : nil)
        case "Gather": return .gather(axis: try a.int("axis", default: 0))
        case "Cast":
            let to = try a.int("to", default: 1)
            guard let type = ElementType(rawValue: to) else {
                throw ONNXError.badAttribute(file: file, node: proto.name, detail: "Cast to unknown type \(to)")
            }
            return .cast(to: type)
        case "ConstantOfShape":
            let decoder = TensorDecoder(file: file, baseDirectory: nil)
            let value = try a.tensor("value").map { try decoder.decode($0, name: proto.name + ".value") } ?? .float(Tensor(shape: [1], storage: [0]))
            return .constantOfShape(value: value)
        default:
            return .unsupported(domain: domain, type: proto.opType)
        }
    }

    private func convAttributes(_ a: NodeAttributes, transposed: Bool) throws -> Operator.ConvAttributes {
        Operator.ConvAttributes(
            kernelShape: try a.ints("kernel_shape"),
            strides: try a.ints("strides") ?? [],
            dilations: try a.ints("dilations") ?? [],
            pads: try a.ints("pads") ?? [],
            autoPad: try a.choice("auto_pad", default: Operator.AutoPad.notSet),
            group: try a.int("group", default: 1),
            outputPadding: transposed ? try a.ints("output_padding") ?? [] : [],
            outputShape: transposed ? try a.ints("output_shape") : nil)
    }

    private func poolAttributes(_ a: NodeAttributes) throws -> Operator.PoolAttributes {
        guard let kernel = try a.ints("kernel_shape") else {
            throw ONNXError.badAttribute(file: file, node: a.node, detail: "pooling needs kernel_shape")
        }
        return Operator.PoolAttributes(
            kernelShape: kernel, strides: try a.ints("strides") ?? [], dilations: try a.ints("dilations") ?? [],
            pads: try a.ints("pads") ?? [], autoPad: try a.choice("auto_pad", default: Operator.AutoPad.notSet),
            ceilMode: try a.int("ceil_mode", default: 0) != 0)
    }

    private func resizeOptions(_ a: NodeAttributes, defaultMapping: Resize.CoordinateMapping) throws -> Resize.Options {
        var mode = try a.string("mode", default: "nearest")
        if mode == "bilinear" { mode = "linear" }
        guard let m = Resize.Mode(rawValue: mode) else {
            throw ONNXError.badAttribute(file: file, node: a.node, detail: "resize mode '\(mode)' is not supported (nearest, linear)")
        }
        if try a.int("exclude_outside", default: 0) != 0 {
            throw ONNXError.badAttribute(file: file, node: a.node, detail: "exclude_outside=1 is not supported")
        }
        if try a.string("keep_aspect_ratio_policy", default: "stretch") != "stretch" {
            throw ONNXError.badAttribute(file: file, node: a.node, detail: "keep_aspect_ratio_policy other than stretch is not supported")
        }
        if let axes = try a.ints("axes"), !axes.isEmpty {
            throw ONNXError.badAttribute(file: file, node: a.node, detail: "the axes attribute of Resize is not supported; give scales for every axis")
        }
        let mapping = try a.choice("coordinate_transformation_mode", default: defaultMapping)
        let rounding = try a.choice("nearest_mode", default: Resize.NearestRounding.roundPreferFloor)
        return Resize.Options(mode: m, mapping: mapping, rounding: rounding)
    }
}
