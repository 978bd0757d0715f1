/// Problems with the inputs of a task metric (segmentation masks, detection boxes,
/// ground truth). Each names the sample or image index involved, and the box index for
/// boxes, because these errors reach the command line as they are.
///
/// Sample and image indices count from the first sample the metric has seen (the
/// `ConfusionMatrix` or `DetectionAccumulator` numbers samples across batches), so the
/// index is the position in the evaluation set when batches are added in order.
public enum TaskError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A tensor or array whose shape does not fit its role, e.g. scores that are not `[N, K, H, W]`.
    case badShape(what: String, shape: [Int], expected: String)
    /// Two inputs that must correspond one to one hold different numbers of items.
    case countMismatch(what: String, expected: Int, actual: Int)
    /// A segmentation mask whose height and width differ from the scores' `H x W`.
    case maskSizeMismatch(sample: Int, mask: [Int], scores: [Int])
    /// A mask label that is neither a class (`0..<classes`) nor the ignore label.
    case labelOutOfRange(sample: Int, y: Int, x: Int, label: Int, classes: Int, ignoreLabel: Int?)
    /// A box with `x2 < x1` or `y2 < y1` (or a coordinate that is not a number).
    case invalidBox(image: Int, box: Int, role: BoxRole, coordinates: [Double])
    /// A class index outside `0..<classes`.
    case classOutOfRange(image: Int, box: Int, role: BoxRole, classIndex: Int, classes: Int)
    /// A detection that names an image outside the batch it was added with.
    case imageOutOfRange(image: Int, valid: Range<Int>)
    /// Two metrics that cannot be merged (different class counts or ignore labels), or a
    /// parameter outside its range.
    case invalidArgument(String)

    /// Whose box an error is about.
    public enum BoxRole: String, Sendable, Equatable {
        /// A box the model predicted.
        case prediction = "predicted"
        /// An annotated box.
        case groundTruth = "ground-truth"
    }

    /// What is wrong, with the sample, box or shape it concerns.
    public var description: String {
        switch self {
        case .badShape(let what, let shape, let expected):
            return "\(what) has shape \(Self.format(shape)); expected \(expected)."
        case .countMismatch(let what, let expected, let actual):
            return "\(what): expected \(expected), got \(actual); they must match one to one."
        case .maskSizeMismatch(let sample, let mask, let scores):
            return "sample \(sample): the mask is \(mask.map(String.init).joined(separator: "x")) but the scores are "
                + "\(scores.map(String.init).joined(separator: "x")) (H x W); resize the masks or the network output so they match."
        case .labelOutOfRange(let sample, let y, let x, let label, let classes, let ignoreLabel):
            let ignore = ignoreLabel.map { " or the ignore label \($0)" } ?? ""
            return "sample \(sample): mask label \(label) at (y \(y), x \(x)) is out of range (labels must be in 0..<\(classes)\(ignore))."
        case .invalidBox(let image, let box, let role, let c):
            let text = c.map { "\($0)" }.joined(separator: ", ")
            return "image \(image): \(role.rawValue) box \(box) (\(text)) is invalid: boxes are (x1, y1, x2, y2) with x2 >= x1 and y2 >= y1."
        case .classOutOfRange(let image, let box, let role, let classIndex, let classes):
            return "image \(image): \(role.rawValue) box \(box) has class \(classIndex), out of range (classes must be in 0..<\(classes))."
        case .imageOutOfRange(let image, let valid):
            return "a detection names image \(image), but the batch holds images \(valid.lowerBound)..<\(valid.upperBound)."
        case .invalidArgument(let detail):
            return detail
        }
    }

    static func format(_ shape: [Int]) -> String {
        "[" + shape.map(String.init).joined(separator: ", ") + "]"
    }
}
