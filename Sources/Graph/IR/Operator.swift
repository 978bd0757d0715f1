import SNNTensor

/// Every operator SNNKit understands, with its attributes already typed and checked.
///
/// The importer turns ONNX's loosely typed attribute lists into these cases once, so
/// passes and executors pattern-match on meaning ("a conv with stride 2") instead of
/// re-parsing strings. Inputs stay ONNX-style names on the node (see `Node`), including
/// the weight tensors, so a pass that folds BatchNorm rewrites initializers, not the op.
public enum Operator: Sendable, Equatable {
    /// inputs: X, W, [B]
    case conv(ConvAttributes)
    /// inputs: X, W, [B]
    case convTranspose(ConvAttributes)
    /// inputs: X, scale, bias, mean, variance (inference form)
    case batchNormalization(epsilon: Float)
    /// max(x, 0); becomes an IF neuron in conversion.
    case relu
    /// Clip with bounds resolved at import (ReLU6 is Clip(0, 6)).
    case clip(min: Float?, max: Float?)
    /// x for x >= 0, alpha * x below.
    case leakyRelu(alpha: Float)
    /// 1 / (1 + e^-x).
    case sigmoid
    /// `coerceTo2D`: opsets before 13 flatten the axes from `axis` on into one.
    case softmax(axis: Int, coerceTo2D: Bool)
    /// e^x, element-wise.
    case exp
    /// Largest value in each window. inputs: X
    case maxPool(PoolAttributes)
    /// inputs: X. `countIncludePad`: padded positions count in the divisor.
    case averagePool(PoolAttributes, countIncludePad: Bool)
    /// Mean over all spatial positions, per channel.
    case globalAveragePool
    /// Maximum over all spatial positions, per channel.
    case globalMaxPool
    /// inputs: A, B, [C]
    case gemm(GemmAttributes)
    /// inputs: A, B; numpy-style matrix product with broadcast batch axes.
    case matMul
    /// Element-wise Add, Sub, Mul, Div, Min or Max with numpy broadcasting.
    case binary(BinaryOperator)
    /// Joins the inputs along `axis`.
    case concat(axis: Int)
    /// Reshapes to 2-D: the axes before `axis` times the axes from `axis` on.
    case flatten(axis: Int)
    /// inputs: data, shape
    case reshape(allowZero: Bool)
    /// Permutes the axes (nil: reverses them, ONNX's default).
    case transpose(permutation: [Int]?)
    /// Axes from the attribute (opset < 13) or nil when they come as input 1.
    case squeeze(axes: [Int]?)
    /// Axes from the attribute (opset < 13) or nil when they come as input 1.
    case unsqueeze(axes: [Int]?)
    /// inputs: data, starts, ends, [axes], [steps]
    case slice
    /// inputs: data, pads, [constant_value], [axes]
    case pad(mode: Layout.PadMode)
    /// inputs: X, [roi], [scales], [sizes] (opset 11+); X, scales (opset 10)
    case resize(Resize.Options)
    /// inputs: X, scales
    case upsample(Resize.Options)
    /// Passes its input through.
    case identity
    /// The identity at inference.
    case dropout
    /// The input's shape, axes `start..<end`, as an int64 tensor.
    case shape(start: Int, end: Int?)
    /// inputs: data, indices; picks entries along `axis`.
    case gather(axis: Int)
    /// Target ONNX element type.
    case cast(to: ElementType)
    /// inputs: shape; output filled with the scalar `value` (float or integer)
    case constantOfShape(value: Constant)
    /// Integrate-and-fire neuron layer (custom domain ai.snnkit). inputs: current, threshold
    /// (one value per channel along axis 1, or a single value), and optionally v(0) / theta
    /// per channel (a calibrated initial potential), which overrides `initialPotential`. As an
    /// ANN layer it is the clip function min(max(x, 0), theta): the network the spiking one
    /// converges to.
    case ifNeuron(initialPotential: Float)
    /// A node SNNKit has no implementation for; kept so `inspect` can list it.
    case unsupported(domain: String, type: String)

    /// Conv and ConvTranspose attributes, with ONNX's defaults filled in.
    public struct ConvAttributes: Sendable, Equatable {
        /// Spatial kernel size, or nil to take it from the weight's shape.
        public var kernelShape: [Int]?
        /// Step per spatial axis.
        public var strides: [Int]
        /// Spacing between kernel taps per spatial axis.
        public var dilations: [Int]
        /// ONNX order: begins of every spatial axis, then ends.
        public var pads: [Int]
        /// Padding computed from the output size instead of `pads` (SAME_UPPER, SAME_LOWER, VALID).
        public var autoPad: AutoPad
        /// Channel groups: input and output channels split into `group` independent convolutions.
        public var group: Int
        /// ConvTranspose only.
        public var outputPadding: [Int] = []
        /// ConvTranspose only: explicit output spatial shape.
        public var outputShape: [Int]? = nil
        /// Attributes as the importer resolved them.
        public init(kernelShape: [Int]?, strides: [Int], dilations: [Int], pads: [Int], autoPad: AutoPad, group: Int,
                    outputPadding: [Int] = [], outputShape: [Int]? = nil) {
            self.kernelShape = kernelShape
            self.strides = strides
            self.dilations = dilations
            self.pads = pads
            self.autoPad = autoPad
            self.group = group
            self.outputPadding = outputPadding
            self.outputShape = outputShape
        }
    }

    /// MaxPool and AveragePool attributes, with ONNX's defaults filled in.
    public struct PoolAttributes: Sendable, Equatable {
        /// Window size per spatial axis.
        public var kernelShape: [Int]
        /// Step per spatial axis.
        public var strides: [Int]
        /// Spacing between window taps per spatial axis.
        public var dilations: [Int]
        /// ONNX order: begins of every spatial axis, then ends.
        public var pads: [Int]
        /// Padding computed from the output size instead of `pads`.
        public var autoPad: AutoPad
        /// Output size rounded up instead of down (a last, partial window is kept).
        public var ceilMode: Bool
        /// Attributes as the importer resolved them.
        public init(kernelShape: [Int], strides: [Int], dilations: [Int], pads: [Int], autoPad: AutoPad, ceilMode: Bool) {
            self.kernelShape = kernelShape
            self.strides = strides
            self.dilations = dilations
            self.pads = pads
            self.autoPad = autoPad
            self.ceilMode = ceilMode
        }
    }

    /// Gemm attributes: Y = alpha * op(A) * op(B) + beta * C.
    public struct GemmAttributes: Sendable, Equatable {
        /// Factor on the product.
        public var alpha: Float = 1
        /// Factor on C.
        public var beta: Float = 1
        /// A is used transposed.
        public var transA = false
        /// B is used transposed (PyTorch's Linear exports transB = 1).
        public var transB = false
        /// Attributes as the importer resolved them; the defaults are ONNX's.
        public init(alpha: Float = 1, beta: Float = 1, transA: Bool = false, transB: Bool = false) {
            self.alpha = alpha
            self.beta = beta
            self.transA = transA
            self.transB = transB
        }
    }

    /// ONNX's auto_pad: explicit pads, or padding derived from the output size.
    public enum AutoPad: String, Sendable, Equatable {
        /// NOTSET uses `pads`; SAME_* pads so the output is ceil(input / stride), the odd extra cell at the
        /// end (UPPER) or start (LOWER); VALID does not pad.
        case notSet = "NOTSET", sameUpper = "SAME_UPPER", sameLower = "SAME_LOWER", valid = "VALID"
    }

    /// The element-wise two-input operators, named as in ONNX.
    public enum BinaryOperator: String, Sendable, Equatable, CaseIterable {
        /// The ONNX operator each case stands for.
        case add = "Add", sub = "Sub", mul = "Mul", div = "Div", min = "Min", max = "Max"
    }

    /// The ONNX spelling of the operator, for messages and export.
    public var onnxType: String {
        switch self {
        case .conv: "Conv"
        case .convTranspose: "ConvTranspose"
        case .batchNormalization: "BatchNormalization"
        case .relu: "Relu"
        case .clip: "Clip"
        case .leakyRelu: "LeakyRelu"
        case .sigmoid: "Sigmoid"
        case .softmax: "Softmax"
        case .exp: "Exp"
        case .maxPool: "MaxPool"
        case .averagePool: "AveragePool"
        case .globalAveragePool: "GlobalAveragePool"
        case .globalMaxPool: "GlobalMaxPool"
        case .gemm: "Gemm"
        case .matMul: "MatMul"
        case .binary(let op): op.rawValue
        case .concat: "Concat"
        case .flatten: "Flatten"
        case .reshape: "Reshape"
        case .transpose: "Transpose"
        case .squeeze: "Squeeze"
        case .unsqueeze: "Unsqueeze"
        case .slice: "Slice"
        case .pad: "Pad"
        case .resize: "Resize"
        case .upsample: "Upsample"
        case .identity: "Identity"
        case .dropout: "Dropout"
        case .shape: "Shape"
        case .gather: "Gather"
        case .cast: "Cast"
        case .constantOfShape: "ConstantOfShape"
        case .ifNeuron: "IFNeuron"
        case .unsupported(_, let type): type
        }
    }
}

extension Resize.Options: Equatable {
    /// Options are equal when mode, coordinate mapping and rounding are.
    public static func == (a: Self, b: Self) -> Bool {
        a.mode == b.mode && a.mapping == b.mapping && a.rounding == b.rounding
    }
}

/// ONNX tensor element types SNNKit distinguishes.
public enum ElementType: Int, Sendable, Equatable {
    /// The values are ONNX's TensorProto.DataType numbers.
    case float = 1, uint8 = 2, int8 = 3, uint16 = 4, int16 = 5, int32 = 6, int64 = 7, string = 8, bool = 9,
         float16 = 10, double = 11, uint32 = 12, uint64 = 13, complex64 = 14, complex128 = 15, bfloat16 = 16

    /// Float32, float16, float64 or bfloat16.
    public var isFloatingPoint: Bool { self == .float || self == .float16 || self == .double || self == .bfloat16 }
    /// An integer type (bool included, as ONNX stores it as bytes).
    public var isInteger: Bool { [.uint8, .int8, .uint16, .int16, .int32, .int64, .bool, .uint32, .uint64].contains(self) }

    /// ONNX's name for the type, for messages.
    public var name: String {
        switch self {
        case .float: "FLOAT"
        case .uint8: "UINT8"
        case .int8: "INT8"
        case .uint16: "UINT16"
        case .int16: "INT16"
        case .int32: "INT32"
        case .int64: "INT64"
        case .string: "STRING"
        case .bool: "BOOL"
        case .float16: "FLOAT16"
        case .double: "DOUBLE"
        case .uint32: "UINT32"
        case .uint64: "UINT64"
        case .complex64: "COMPLEX64"
        case .complex128: "COMPLEX128"
        case .bfloat16: "BFLOAT16"
        }
    }
}
