import Foundation

/// Per-image targets of the dense tasks, read lazily from an `.npz` like the images.
///
/// Segmentation: an array `masks` `[N, H, W]` of class indices (uint8 or integer; the
/// ignore label, usually 255, marks pixels that are not scored). Detection: `boxes`
/// `[N, K, 4]` (x1, y1, x2, y2 in input pixels, float) and `classes` `[N, K]` (integer),
/// K the most objects in one image, rows with class -1 being padding. The padded layout
/// keeps every image's objects at a fixed offset, so a batch reads only its own rows.
/// Detection ground truth may also come as the flat list COCO-style tools write: `boxes`
/// `[M, 4]`, `classes` `[M]` and `image_index` `[M]` (the image each box belongs to; also
/// read as `image_indices`, `image_ids` or `image_id`), grouped per image when opened.
public enum Annotations: Sendable {
    /// Segmentation masks, from an array `masks`.
    case masks(SegmentationMasks)
    /// Detection boxes, from arrays `boxes` and `classes`.
    case boxes(BoxAnnotations)

    /// The annotation arrays of `path` (an .npz, or a folder of .npz shards read in name
    /// order like the images), or nil when it holds neither. Counts must match
    /// `imageCount`; every box is checked here so a bad one is reported before a long run
    /// starts.
    public static func open(path: String, imageCount: Int) throws -> Annotations? {
        let url = URL(fileURLWithPath: path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else { return nil }
        let files: [URL]
        if isDirectory.boolValue {
            guard let shards = try Shards.files(in: url) else { return nil }
            files = shards
        } else {
            files = [url]
        }
        var masks = [NumPyArray](), boxes = [BoxAnnotations.Part]()
        for file in files {
            let bytes = try FileBytes(mapping: file)
            guard Format.of(url: file, bytes: bytes) == .npz else { return nil }
            let archive = try NPZArchive(url: file, mapped: bytes)
            if let entry = archive.find(["masks"]) {
                masks.append(try archive.array(entry))
            } else if let entry = archive.find(["boxes"]) {
                guard let classes = archive.find(["classes"]) else {
                    throw DataError.missingArray(file: archive.name, name: "classes", available: archive.arrayNames)
                }
                let (b, c) = (try archive.array(entry), try archive.array(classes))
                if b.shape.count == 2 {
                    boxes.append(try BoxAnnotations.flatPart(boxes: b, classes: c, archive: archive, imageCount: imageCount,
                                                             shardCount: files.count))
                } else {
                    boxes.append(.padded(boxes: b, classes: c))
                }
            }
        }
        let name = files.count == 1 ? files[0].path : Shards.name(url, files)
        if !masks.isEmpty || !boxes.isEmpty {
            guard masks.count == files.count || boxes.count == files.count else {
                throw DataError.invalidArgument("\(name): every shard needs the same annotation arrays ('masks', or 'boxes' and 'classes')")
            }
        }
        if !masks.isEmpty { return .masks(try SegmentationMasks(parts: masks, name: name, imageCount: imageCount)) }
        if !boxes.isEmpty { return .boxes(try BoxAnnotations(parts: boxes, name: name, imageCount: imageCount)) }
        return nil
    }
}

extension Optional where Wrapped == Annotations {
    /// True when there are no annotations.
    public var isNone: Bool { if case .none = self { true } else { false } }
}

/// Where each part (shard) starts in the whole set, checking that the parts add up to the
/// images.
private func partStarts(_ counts: [Int], name: String, imageCount: Int) throws -> (starts: [Int], total: Int) {
    var starts = [Int](), total = 0
    for n in counts {
        starts.append(total)
        total += n
    }
    guard total == imageCount else {
        throw DataError.countMismatch(images: "the images", imageCount: imageCount, labels: name, labelCount: total)
    }
    return (starts, total)
}

/// The part (shard) holding each sample of a range, and the sample's index within it.
private func locate(_ range: Range<Int>, starts: [Int]) -> [(part: Int, range: Range<Int>)] {
    var pieces = [(part: Int, range: Range<Int>)]()
    var i = range.lowerBound
    while i < range.upperBound {
        let part = starts.lastIndex { $0 <= i }!
        let end = min(range.upperBound, part + 1 < starts.count ? starts[part + 1] : range.upperBound)
        pieces.append((part, (i - starts[part])..<(end - starts[part])))
        i = end
    }
    return pieces
}

/// Segmentation masks `[N, H, W]` (one array per shard).
public struct SegmentationMasks: Sendable {
    let parts: [NumPyArray]
    let starts: [Int]
    /// The file or shard folder, for messages.
    public let name: String
    /// Number of masks (one per image).
    public let count: Int
    /// `[H, W]` of one mask.
    public let maskShape: [Int]

    init(parts: [NumPyArray], name: String, imageCount: Int) throws {
        for array in parts {
            guard array.shape.count == 3 else { throw DataError.wrongRank(file: array.name, shape: array.shape, expected: "masks (N, H, W)") }
            guard array.dtype != .float32 && array.dtype != .float64 else {
                throw DataError.unsupportedDType(file: array.name, dtype: "'\(array.dtype.descr)' for masks", supported: "|u1, <i4, <i8")
            }
            guard array.shape.dropFirst() == parts[0].shape.dropFirst() else {
                throw DataError.wrongRank(file: array.name, shape: array.shape,
                                          expected: "masks (N, \(parts[0].shape[1]), \(parts[0].shape[2])) like \(parts[0].name)")
            }
        }
        let (starts, total) = try partStarts(parts.map { $0.shape[0] }, name: name, imageCount: imageCount)
        self.parts = parts
        self.starts = starts
        self.name = name
        count = total
        maskShape = Array(parts[0].shape.dropFirst())
    }

    /// The masks of samples `range`, row-major `[n, H, W]`.
    public func masks(_ range: Range<Int>) throws -> [Int] {
        guard range.lowerBound >= 0, range.upperBound <= count else {
            throw DataError.outOfRange(source: name, requested: "\(range.lowerBound)..<\(range.upperBound)", count: count)
        }
        let per = maskShape.reduce(1, *)
        return locate(range, starts: starts).flatMap { piece in
            parts[piece.part].integers((piece.range.lowerBound * per)..<(piece.range.upperBound * per))
        }
    }
}

/// Ground-truth boxes `[N, K, 4]` with classes `[N, K]`, padding rows of class -1 (one
/// pair of arrays per shard; K may differ between shards), or a flat list grouped per image.
public struct BoxAnnotations: Sendable {
    /// One object: corners in input pixels and its class.
    public struct Object: Sendable, Equatable {
        /// Corners in input pixels: left, top, right, bottom.
        public var x1, y1, x2, y2: Double
        /// The object's class.
        public var classIndex: Int

        /// An object with corners (x1, y1), (x2, y2) of class `classIndex`.
        public init(x1: Double, y1: Double, x2: Double, y2: Double, classIndex: Int) {
            (self.x1, self.y1, self.x2, self.y2, self.classIndex) = (x1, y1, x2, y2, classIndex)
        }
    }

    /// The annotations of one file (shard).
    enum Part: Sendable {
        /// `[N, K, 4]` boxes and `[N, K]` classes, read per batch.
        case padded(boxes: NumPyArray, classes: NumPyArray)
        /// A flat list already grouped per image.
        case grouped([[Object]])

        var imageCount: Int {
            switch self {
            case .padded(let boxes, _): boxes.shape[0]
            case .grouped(let images): images.count
            }
        }
    }

    static let imageIndexNames = ["image_index", "image_indices", "image_ids", "image_id"]

    let parts: [Part]
    let starts: [Int]
    /// The file or shard folder, for messages.
    public let name: String
    /// Number of images annotated.
    public let count: Int

    init(parts: [Part], name: String, imageCount: Int) throws {
        for case .padded(let boxes, let classes) in parts { try Self.check(boxes: boxes, classes: classes) }
        let (starts, total) = try partStarts(parts.map(\.imageCount), name: name, imageCount: imageCount)
        self.parts = parts
        self.starts = starts
        self.name = name
        count = total
    }

    /// Groups a flat list (`boxes` `[M, 4]`, `classes` `[M]`, an image index `[M]`) per
    /// image, checking every row. Only a single file: a shard's image count is not known here.
    static func flatPart(boxes: NumPyArray, classes: NumPyArray, archive: NPZArchive, imageCount: Int, shardCount: Int) throws -> Part {
        guard let indexEntry = archive.find(imageIndexNames) else {
            throw DataError.missingArray(file: archive.name, name: "image_index (the image of each box, for flat boxes (M, 4))",
                                         available: archive.arrayNames)
        }
        guard shardCount == 1 else {
            throw DataError.invalidArgument("\(archive.name): flat boxes (M, 4) are read from a single .npz; in shards, " +
                                            "store boxes (N, K, 4) and classes (N, K) padded with class -1")
        }
        let index = try archive.array(indexEntry)
        guard boxes.shape[1] == 4 else {
            throw DataError.wrongRank(file: boxes.name, shape: boxes.shape, expected: "boxes (M, 4) as x1, y1, x2, y2, or (N, K, 4) padded per image")
        }
        let m = boxes.shape[0]
        for (array, what) in [(classes, "classes"), (index, "image_index")] {
            guard array.shape == [m] else {
                throw DataError.wrongRank(file: array.name, shape: array.shape, expected: "\(what) (\(m)), one per row of boxes (\(m), 4)")
            }
            guard array.dtype != .float32 && array.dtype != .float64 else {
                throw DataError.unsupportedDType(file: array.name, dtype: "'\(array.dtype.descr)' for \(what)", supported: "|u1, <i4, <i8")
            }
        }
        let c = classes.integers(0..<m), images = index.integers(0..<m), b = boxes.reals(0..<(4 * m))
        var grouped = [[Object]](repeating: [], count: imageCount)
        for row in 0..<m {
            guard (0..<imageCount).contains(images[row]) else {
                throw DataError.invalidArgument("\(index.name): row \(row) names image \(images[row]), outside 0..<\(imageCount) " +
                                                "(the data holds \(imageCount) images); image indices count from 0 in the order of the images")
            }
            guard c[row] >= 0 else {
                throw DataError.badAnnotation(file: classes.name, image: images[row], row: row, detail: "class \(c[row]) (classes are 0 or more)")
            }
            let v = b[(4 * row)..<(4 * row + 4)]
            guard v.allSatisfy(\.isFinite), b[4 * row + 2] >= b[4 * row], b[4 * row + 3] >= b[4 * row + 1] else {
                throw DataError.badAnnotation(file: boxes.name, image: images[row], row: row,
                                              detail: "box \(Array(v)) is not x1, y1, x2, y2 with x2 >= x1 and y2 >= y1")
            }
            grouped[images[row]].append(Object(x1: b[4 * row], y1: b[4 * row + 1], x2: b[4 * row + 2], y2: b[4 * row + 3], classIndex: c[row]))
        }
        return .grouped(grouped)
    }

    /// Shapes, types, and every row: a class of -1 (padding) or more, a finite box with
    /// x2 >= x1 and y2 >= y1.
    private static func check(boxes: NumPyArray, classes: NumPyArray) throws {
        guard boxes.shape.count == 3, boxes.shape[2] == 4 else {
            throw DataError.wrongRank(file: boxes.name, shape: boxes.shape,
                                      expected: "boxes (N, K, 4) as x1, y1, x2, y2, padded per image, or flat boxes (M, 4) with image_index (M)")
        }
        guard classes.shape == Array(boxes.shape.prefix(2)) else {
            throw DataError.wrongRank(file: classes.name, shape: classes.shape,
                                      expected: "classes \(DataError.format(Array(boxes.shape.prefix(2)))), one per box row (-1 for padding)")
        }
        guard classes.dtype != .float32 && classes.dtype != .float64 else {
            throw DataError.unsupportedDType(file: classes.name, dtype: "'\(classes.dtype.descr)' for classes", supported: "|u1, <i4, <i8")
        }
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
        return locate(range, starts: starts).flatMap { piece -> [[Object]] in
            let r = piece.range
            switch parts[piece.part] {
            case .grouped(let images):
                return Array(images[r])
            case .padded(let boxes, let classes):
                let k = boxes.shape[1]
                let c = classes.integers((r.lowerBound * k)..<(r.upperBound * k))
                let b = boxes.reals((r.lowerBound * k * 4)..<(r.upperBound * k * 4))
                return (0..<r.count).map { i in
                    (0..<k).compactMap { j in
                        let row = i * k + j
                        guard c[row] >= 0 else { return nil }
                        return Object(x1: b[4 * row], y1: b[4 * row + 1], x2: b[4 * row + 2], y2: b[4 * row + 3], classIndex: c[row])
                    }
                }
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
