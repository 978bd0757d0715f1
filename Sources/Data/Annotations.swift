import Foundation

/// Per-image targets of the dense tasks, read lazily from an `.npz` like the images.
///
/// Segmentation: an array `masks` `[N, H, W]` of class indices (uint8 or integer; the
/// ignore label, usually 255, marks pixels that are not scored). Detection: `boxes`
/// `[N, K, 4]` (x1, y1, x2, y2 in input pixels, float) and `classes` `[N, K]` (integer),
/// K the most objects in one image, rows with class -1 being padding. The padded layout
/// keeps every image's objects at a fixed offset, so a batch reads only its own rows.
public enum Annotations: Sendable {
    case masks(SegmentationMasks)
    case boxes(BoxAnnotations)

    /// The annotation arrays of `path` (an .npz), or nil when it holds neither. Counts must
    /// match `imageCount`; every box is checked here so a bad one is reported before a long
    /// run starts.
    public static func open(path: String, imageCount: Int) throws -> Annotations? {
        let url = URL(fileURLWithPath: path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue else { return nil }
        let bytes = try FileBytes(mapping: url)
        guard Format.of(url: url, bytes: bytes) == .npz else { return nil }
        let archive = try NPZArchive(url: url, mapped: bytes)
        if let entry = archive.find(["masks"]) {
            return .masks(try SegmentationMasks(array: archive.array(entry), imageCount: imageCount))
        }
        if let boxes = archive.find(["boxes"]) {
            guard let classes = archive.find(["classes"]) else {
                throw DataError.missingArray(file: archive.name, name: "classes", available: archive.arrayNames)
            }
            return .boxes(try BoxAnnotations(boxes: archive.array(boxes), classes: archive.array(classes), imageCount: imageCount))
        }
        return nil
    }
}

extension Optional where Wrapped == Annotations {
    public var isNone: Bool { if case .none = self { true } else { false } }
}

/// Segmentation masks `[N, H, W]`.
public struct SegmentationMasks: Sendable {
    let array: NumPyArray
    public var name: String { array.name }
    public var count: Int { array.shape[0] }
    /// `[H, W]` of one mask.
    public var maskShape: [Int] { Array(array.shape.dropFirst()) }

    init(array: NumPyArray, imageCount: Int) throws {
        guard array.shape.count == 3 else { throw DataError.wrongRank(file: array.name, shape: array.shape, expected: "masks (N, H, W)") }
        guard array.dtype != .float32 && array.dtype != .float64 else {
            throw DataError.unsupportedDType(file: array.name, dtype: "'\(array.dtype.descr)' for masks", supported: "|u1, <i4, <i8")
        }
        guard array.shape[0] == imageCount else {
            throw DataError.countMismatch(images: "the images", imageCount: imageCount, labels: array.name, labelCount: array.shape[0])
        }
        self.array = array
    }

    /// The masks of samples `range`, row-major `[n, H, W]`.
    public func masks(_ range: Range<Int>) throws -> [Int] {
        guard range.lowerBound >= 0, range.upperBound <= count else {
            throw DataError.outOfRange(source: name, requested: "\(range.lowerBound)..<\(range.upperBound)", count: count)
        }
        let per = maskShape.reduce(1, *)
        return array.integers((range.lowerBound * per)..<(range.upperBound * per))
    }
}

/// Ground-truth boxes `[N, K, 4]` with classes `[N, K]`, padding rows of class -1.
public struct BoxAnnotations: Sendable {
    /// One object: corners in input pixels and its class.
    public struct Object: Sendable, Equatable {
        public var x1, y1, x2, y2: Double
        public var classIndex: Int

        public init(x1: Double, y1: Double, x2: Double, y2: Double, classIndex: Int) {
            (self.x1, self.y1, self.x2, self.y2, self.classIndex) = (x1, y1, x2, y2, classIndex)
        }
    }

    let boxes: NumPyArray
    let classes: NumPyArray
    public var name: String { boxes.name }
    public var count: Int { boxes.shape[0] }
    /// K: object rows per image (padding included).
    public var rowsPerImage: Int { boxes.shape[1] }

    init(boxes: NumPyArray, classes: NumPyArray, imageCount: Int) throws {
        guard boxes.shape.count == 3, boxes.shape[2] == 4 else {
            throw DataError.wrongRank(file: boxes.name, shape: boxes.shape, expected: "boxes (N, K, 4) as x1, y1, x2, y2, padded per image")
        }
        guard classes.shape == Array(boxes.shape.prefix(2)) else {
            throw DataError.wrongRank(file: classes.name, shape: classes.shape,
                                      expected: "classes \(DataError.format(Array(boxes.shape.prefix(2)))), one per box row (-1 for padding)")
        }
        guard classes.dtype != .float32 && classes.dtype != .float64 else {
            throw DataError.unsupportedDType(file: classes.name, dtype: "'\(classes.dtype.descr)' for classes", supported: "|u1, <i4, <i8")
        }
        guard boxes.shape[0] == imageCount else {
            throw DataError.countMismatch(images: "the images", imageCount: imageCount, labels: boxes.name, labelCount: boxes.shape[0])
        }
        self.boxes = boxes
        self.classes = classes
        let k = boxes.shape[1]
        let c = classes.integers(0..<classes.count), b = boxes.reals(0..<boxes.count)
        for row in 0..<c.count where c[row] != -1 {
            let (image, slot) = (row / max(k, 1), row % max(k, 1))
            guard c[row] >= 0 else {
                throw DataError.badAnnotation(file: classes.name, image: image, row: slot, detail: "class \(c[row]) (use -1 only for padding rows)")
            }
            let v = b[(4 * row)..<(4 * row + 4)]
            guard v.allSatisfy(\.isFinite), b[4 * row + 2] >= b[4 * row], b[4 * row + 3] >= b[4 * row + 1] else {
                throw DataError.badAnnotation(file: boxes.name, image: image, row: slot,
                                              detail: "box \(Array(v)) is not x1, y1, x2, y2 with x2 >= x1 and y2 >= y1")
            }
        }
    }

    /// The objects (padding dropped) of each sample in `range`.
    public func objects(_ range: Range<Int>) throws -> [[Object]] {
        guard range.lowerBound >= 0, range.upperBound <= count else {
            throw DataError.outOfRange(source: name, requested: "\(range.lowerBound)..<\(range.upperBound)", count: count)
        }
        let k = rowsPerImage
        let c = classes.integers((range.lowerBound * k)..<(range.upperBound * k))
        let b = boxes.reals((range.lowerBound * k * 4)..<(range.upperBound * k * 4))
        return (0..<range.count).map { i in
            (0..<k).compactMap { j in
                let r = i * k + j
                guard c[r] >= 0 else { return nil }
                return Object(x1: b[4 * r], y1: b[4 * r + 1], x2: b[4 * r + 2], y2: b[4 * r + 3], classIndex: c[r])
            }
        }
    }
}

extension NumPyArray {
    /// Elements `range` (flat indices) of an integer or boolean array.
    func integers(_ range: Range<Int>) -> [Int] {
        let raw = data
        switch dtype {
        case .uint8, .bool: return range.map { Int(raw[$0]) }
        case .int32: return range.map { Int(raw.littleEndian(at: $0 * 4, as: Int32.self)) }
        case .int64: return range.map { Int(raw.littleEndian(at: $0 * 8, as: Int64.self)) }
        // Callers refuse float arrays; a NaN must still not trap.
        case .float32: return range.map { Int(exactly: Double(raw.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self)).rounded()) ?? Int.min }
        case .float64: return range.map { Int(exactly: raw.loadUnaligned(fromByteOffset: $0 * 8, as: Double.self).rounded()) ?? Int.min }
        }
    }

    /// Elements `range` (flat indices) as doubles.
    func reals(_ range: Range<Int>) -> [Double] {
        let raw = data
        switch dtype {
        case .uint8, .bool: return range.map { Double(raw[$0]) }
        case .int32: return range.map { Double(raw.littleEndian(at: $0 * 4, as: Int32.self)) }
        case .int64: return range.map { Double(raw.littleEndian(at: $0 * 8, as: Int64.self)) }
        case .float32: return range.map { Double(raw.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self)) }
        case .float64: return range.map { raw.loadUnaligned(fromByteOffset: $0 * 8, as: Double.self) }
        }
    }
}
