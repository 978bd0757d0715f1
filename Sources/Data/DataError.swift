/// Problems reading a dataset. Each names the file (or the source) and the header field,
/// sample or label index involved, and says what to do about it, because these errors
/// reach the command line as they are.
public enum DataError: Error, Equatable, CustomStringConvertible {
    /// The file or folder could not be opened or mapped.
    case unreadable(file: String, reason: String)
    /// Neither the extension nor the first bytes say which reader to use.
    case unrecognizedFormat(file: String, detail: String)
    /// The first bytes are not the format's signature.
    case badMagic(file: String, expected: String, found: String)
    /// A header field cannot be parsed or holds an impossible value.
    case badHeader(file: String, field: String, detail: String)
    /// The file is shorter than its header says: `field` needs `needed` bytes, `actual` are there.
    case truncated(file: String, field: String, needed: Int, actual: Int)
    /// An element type the reader cannot use in this role (images or labels).
    case unsupportedDType(file: String, dtype: String, supported: String)
    /// A NumPy array stored in Fortran (column-major) order.
    case fortranOrder(file: String)
    /// An array whose number of axes does not fit its role.
    case wrongRank(file: String, shape: [Int], expected: String)
    /// No samples at all, or samples without pixels.
    case empty(file: String, shape: [Int])
    /// The images and the labels describe different numbers of samples.
    case countMismatch(images: String, imageCount: Int, labels: String, labelCount: Int)
    /// A label that is negative, or not below the class count.
    case labelOutOfRange(file: String, index: Int, label: Int, classCount: Int?)
    /// A ground-truth row that is not a valid object (image and row within the image).
    case badAnnotation(file: String, image: Int, row: Int, detail: String)
    /// An .npz archive without the requested array.
    case missingArray(file: String, name: String, available: [String])
    /// A compressed stream (gzip, or a deflated .npz entry) that does not decode or fails
    /// its checksum.
    case corruptCompressedData(file: String, detail: String)
    /// Preprocessing whose per-channel constants do not fit the data.
    case badPreprocessing(source: String, detail: String)
    /// A batch request outside 0..<count.
    case outOfRange(source: String, requested: String, count: Int)
    /// A batch size, count or name the caller got wrong.
    case invalidArgument(String)

    /// The file, what is wrong with it, and how to fix it.
    public var description: String {
        switch self {
        case .unreadable(let file, let reason):
            return "\(file): cannot read (\(reason))."
        case .unrecognizedFormat(let file, let detail):
            return "\(file): unrecognized dataset format (\(detail)). Use .npy, .npz, IDX (idx/ubyte, optionally .gz) or CIFAR .bin batches."
        case .badMagic(let file, let expected, let found):
            return "\(file): bad magic number: expected \(expected), found \(found). The file is not in this format or is damaged."
        case .badHeader(let file, let field, let detail):
            return "\(file): header field '\(field)': \(detail)."
        case .truncated(let file, let field, let needed, let actual):
            return "\(file): truncated: \(field) needs \(needed) bytes, the file has \(actual). Re-download or re-export it."
        case .unsupportedDType(let file, let dtype, let supported):
            // The example names a type this reader takes: float for images, integer for labels.
            let example = ["<f4", "<i8"].first { supported.contains($0) }
            return "\(file): unsupported element type \(dtype) (supported here: \(supported))." +
                (example.map { " Convert the array first, e.g. arr.astype('\($0)')." } ?? "")
        case .fortranOrder(let file):
            return "\(file): the array is stored in Fortran order (fortran_order: True); save it in C order first (np.ascontiguousarray)."
        case .wrongRank(let file, let shape, let expected):
            return "\(file): shape \(Self.format(shape)) has the wrong number of axes; expected \(expected)."
        case .empty(let file, let shape):
            return "\(file): the dataset is empty (shape \(Self.format(shape)))."
        case .countMismatch(let images, let imageCount, let labels, let labelCount):
            return "\(labels): \(labelCount) labels, but \(images) holds \(imageCount) images; they must match one to one."
        case .labelOutOfRange(let file, let index, let label, let classCount):
            let bound = classCount.map { "in 0..<\($0)" } ?? "non-negative"
            return "\(file): label \(label) at index \(index) is out of range (labels must be \(bound))."
        case .badAnnotation(let file, let image, let row, let detail):
            return "\(file): image \(image), object row \(row): \(detail). Fix the annotation or mark the row as padding (class -1)."
        case .missingArray(let file, let name, let available):
            let list = available.isEmpty ? "nothing" : available.joined(separator: ", ")
            return "\(file): no array named '\(name)' (the archive holds \(list)). Name the array to use."
        case .corruptCompressedData(let file, let detail):
            return "\(file): corrupt compressed data (\(detail)). Re-download the file, or decompress it by hand (gunzip, unzip) to see what is wrong."
        case .badPreprocessing(let source, let detail):
            return "\(source): the preprocessing does not fit the data: \(detail)."
        case .outOfRange(let source, let requested, let count):
            return "\(source): samples \(requested) requested, but the dataset holds \(count) (valid indices 0..<\(count))."
        case .invalidArgument(let detail):
            return detail
        }
    }

    /// NumPy-style shape text, `(10000, 32, 32, 3)`: most shapes come from .npy headers.
    static func format(_ shape: [Int]) -> String {
        shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
    }
}
