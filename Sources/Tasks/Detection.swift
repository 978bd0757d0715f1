import SNNTensor

// Object detection: per-class non-maximum suppression and COCO-style mean average
// precision. The model output layout is documented on `NonMaximumSuppression`.

/// An axis-aligned box `(x1, y1, x2, y2)` in pixels.
public struct BoundingBox: Sendable, Equatable, Hashable, Codable {
    /// Left edge.
    public var x1: Double
    /// Top edge.
    public var y1: Double
    /// Right edge.
    public var x2: Double
    /// Bottom edge.
    public var y2: Double

    /// A box from its corners.
    public init(x1: Double, y1: Double, x2: Double, y2: Double) {
        self.x1 = x1
        self.y1 = y1
        self.x2 = x2
        self.y2 = y2
    }

    /// (x1, y1, x2, y2), for messages.
    public var coordinates: [Double] { [x1, y1, x2, y2] }

    /// `x2 >= x1` and `y2 >= y1` (false when a coordinate is NaN).
    public var isValid: Bool { x2 >= x1 && y2 >= y1 }

    /// Width times height (negative for an invalid box).
    public var area: Double { (x2 - x1) * (y2 - y1) }

    /// Intersection over union; 0 for boxes that do not overlap (touching edges included)
    /// and for two empty boxes. The arithmetic is that of pycocotools' `bbIou` (and
    /// torchvision's `box_iou`, in double precision), so results agree bit for bit.
    public func iou(_ other: BoundingBox) -> Double {
        let w = min(x2, other.x2) - max(x1, other.x1)
        guard w > 0 else { return 0 }
        let h = min(y2, other.y2) - max(y1, other.y1)
        guard h > 0 else { return 0 }
        let intersection = w * h
        return intersection / (area + other.area - intersection)
    }
}

/// One annotated object.
public struct GroundTruthBox: Sendable, Equatable, Codable {
    /// The object's box in pixels.
    public var box: BoundingBox
    /// The object's class, a score column of the model.
    public var classIndex: Int

    /// An object of `classIndex` in `box`.
    public init(box: BoundingBox, classIndex: Int) {
        self.box = box
        self.classIndex = classIndex
    }

    /// An object of `classIndex` with corners (x1, y1) and (x2, y2).
    public init(x1: Double, y1: Double, x2: Double, y2: Double, classIndex: Int) {
        self.init(box: BoundingBox(x1: x1, y1: y1, x2: x2, y2: y2), classIndex: classIndex)
    }

    /// The objects of one image from arrays as stored in an .npz: `boxes` `[M, 4]`
    /// (x1, y1, x2, y2) and `classes` `[M]`. `image` only numbers the image in errors.
    /// Class indices are checked against the class count when the boxes are added to a
    /// `DetectionAccumulator`.
    public static func list(boxes: Tensor, classes: [Int], image: Int = 0) throws -> [GroundTruthBox] {
        guard boxes.rank == 2, boxes.shape[1] == 4 || boxes.shape[0] == 0 else {
            throw TaskError.badShape(what: "ground-truth boxes of image \(image)", shape: boxes.shape, expected: "[M, 4]")
        }
        guard boxes.shape[0] == classes.count else {
            throw TaskError.countMismatch(what: "image \(image): ground-truth classes, one per box", expected: boxes.shape[0], actual: classes.count)
        }
        return try classes.enumerated().map { i, c in
            let s = boxes.storage
            let box = BoundingBox(x1: Double(s[4 * i]), y1: Double(s[4 * i + 1]), x2: Double(s[4 * i + 2]), y2: Double(s[4 * i + 3]))
            guard box.isValid else { throw TaskError.invalidBox(image: image, box: i, role: .groundTruth, coordinates: box.coordinates) }
            return GroundTruthBox(box: box, classIndex: c)
        }
    }
}

/// One detection after suppression.
public struct Detection: Sendable, Equatable, Codable {
    /// Index of the image: within the batch, offset by `firstImage` (see `NonMaximumSuppression.apply`).
    public var image: Int
    /// The detected class.
    public var classIndex: Int
    /// The class score of the box.
    public var score: Double
    /// The box in pixels.
    public var box: BoundingBox
    /// The anchor (index along A) the detection came from, or nil for detections made elsewhere.
    public var anchor: Int?

    /// A detection of `classIndex` in `box` with `score`.
    public init(image: Int, classIndex: Int, score: Double, box: BoundingBox, anchor: Int? = nil) {
        self.image = image
        self.classIndex = classIndex
        self.score = score
        self.box = box
        self.anchor = anchor
    }
}

/// Per-class greedy non-maximum suppression of a detection model's output, as
/// torchvision's detection post-processing (`batched_nms` over the (anchor, class) pairs
/// scoring above the threshold).
///
/// Expected model output (the network's outputs, after its readout tail):
///
/// - `boxes`  `[N, A, 4]`: for each of the N images and A anchors (or proposals, or
///   queries), one box `(x1, y1, x2, y2)` in pixels of the evaluated image, with
///   `x2 >= x1` and `y2 >= y1`;
/// - `scores` `[N, A, C]`: per-class probabilities (or any score where higher is better)
///   of each anchor's box, for C classes.
///
/// Both are already decoded: anchor offsets, exp/sigmoid/softmax and any rescaling belong
/// to the model's readout tail (which runs on the time-averaged SNN output), not here.
/// One anchor may yield detections for several classes, as in torchvision's RetinaNet and
/// SSD post-processing. A model with a background column names it in `backgroundClass`.
/// Ground truth uses the same pixel coordinates (`GroundTruthBox`).
///
/// For each image: every (anchor, class) with `score > scoreThreshold` is a candidate
/// (the background class, if any, excepted); per class, candidates are visited by
/// descending score (ties: lower anchor first) and each one suppresses the later ones
/// whose box has IoU `> iouThreshold` with it; the survivors of all classes are sorted by
/// descending score (ties: lower class, then lower anchor) and the first
/// `maxDetections` are kept.
public struct NonMaximumSuppression: Sendable, Equatable, Codable {
    /// A box whose IoU with a higher-scoring box of its class exceeds this is suppressed.
    public var iouThreshold: Double
    /// Candidates must score above this.
    public var scoreThreshold: Double
    /// Detections kept per image (over all classes).
    public var maxDetections: Int
    /// When set, only the highest-scoring candidates of each class and image go into the
    /// suppression (torchvision's `topk_candidates`); bounds the quadratic cost.
    public var candidatesPerClass: Int?
    /// A score column that is "no object" (SSD-style heads), never reported.
    public var backgroundClass: Int?

    /// Suppression with torchvision's defaults (IoU 0.5, score 0.05, 100 detections per image).
    public init(iouThreshold: Double = 0.5, scoreThreshold: Double = 0.05, maxDetections: Int = 100,
                candidatesPerClass: Int? = nil, backgroundClass: Int? = nil) {
        self.iouThreshold = iouThreshold
        self.scoreThreshold = scoreThreshold
        self.maxDetections = maxDetections
        self.candidatesPerClass = candidatesPerClass
        self.backgroundClass = backgroundClass
    }

    /// Checks the model output layout (`boxes` `[N, A, 4]`, `scores` `[N, A, C]`) and the
    /// boxes; returns (N, A, C).
    static func check(boxes: Tensor, scores: Tensor, firstImage: Int) throws -> (n: Int, a: Int, c: Int) {
        guard boxes.rank == 3, boxes.shape[2] == 4 else {
            throw TaskError.badShape(what: "detection boxes", shape: boxes.shape, expected: "[N, A, 4] (x1, y1, x2, y2)")
        }
        guard scores.rank == 3 else {
            throw TaskError.badShape(what: "detection scores", shape: scores.shape, expected: "[N, A, C]")
        }
        guard scores.shape[0] == boxes.shape[0] else {
            throw TaskError.countMismatch(what: "detection scores: images (N of [N, A, C] and [N, A, 4])", expected: boxes.shape[0], actual: scores.shape[0])
        }
        guard scores.shape[1] == boxes.shape[1] else {
            throw TaskError.countMismatch(what: "detection scores: anchors (A of [N, A, C] and [N, A, 4])", expected: boxes.shape[1], actual: scores.shape[1])
        }
        let (n, a) = (boxes.shape[0], boxes.shape[1])
        let b = boxes.storage
        for i in 0..<(n * a) where !(b[4 * i + 2] >= b[4 * i] && b[4 * i + 3] >= b[4 * i + 1]) {
            throw TaskError.invalidBox(image: firstImage + i / a, box: i % a, role: .prediction,
                                       coordinates: (0..<4).map { Double(b[4 * i + $0]) })
        }
        return (n, a, scores.shape[2])
    }

    /// Suppresses the model output of one batch. Detections come image by image, each
    /// image's by descending score; their `image` is `firstImage +` the index in the batch
    /// (errors use the same numbering).
    public func apply(boxes: Tensor, scores: Tensor, firstImage: Int = 0) throws -> [Detection] {
        let (n, a, c) = try Self.check(boxes: boxes, scores: scores, firstImage: firstImage)
        guard iouThreshold >= 0, maxDetections >= 0, (candidatesPerClass ?? 0) >= 0 else {
            throw TaskError.invalidArgument("non-maximum suppression needs iouThreshold >= 0, maxDetections >= 0 and candidatesPerClass >= 0.")
        }
        let b = boxes.storage, s = scores.storage
        var result = [Detection]()
        for i in 0..<n {
            func box(_ anchor: Int) -> BoundingBox {
                let o = 4 * (i * a + anchor)
                return BoundingBox(x1: Double(b[o]), y1: Double(b[o + 1]), x2: Double(b[o + 2]), y2: Double(b[o + 3]))
            }
            var kept = [Detection]()
            for cls in 0..<c where cls != backgroundClass {
                var candidates = [(anchor: Int, score: Double)]()
                for anchor in 0..<a {
                    let score = Double(s[(i * a + anchor) * c + cls])
                    if score > scoreThreshold { candidates.append((anchor, score)) }
                }
                candidates.sort { $0.score > $1.score || ($0.score == $1.score && $0.anchor < $1.anchor) }
                if let limit = candidatesPerClass, candidates.count > limit { candidates.removeLast(candidates.count - limit) }
                let candidateBoxes = candidates.map { box($0.anchor) }
                var suppressed = [Bool](repeating: false, count: candidates.count)
                for j in candidates.indices where !suppressed[j] {
                    kept.append(Detection(image: firstImage + i, classIndex: cls, score: candidates[j].score,
                                          box: candidateBoxes[j], anchor: candidates[j].anchor))
                    for later in (j + 1)..<candidates.count where !suppressed[later] {
                        if candidateBoxes[j].iou(candidateBoxes[later]) > iouThreshold { suppressed[later] = true }
                    }
                }
            }
            kept.sort {
                if $0.score != $1.score { return $0.score > $1.score }
                if $0.classIndex != $1.classIndex { return $0.classIndex < $1.classIndex }
                return $0.anchor! < $1.anchor!
            }
            result += kept.prefix(maxDetections)
        }
        return result
    }
}

/// Collects detections and ground truth over batches and computes COCO-style average
/// precision at the end.
///
/// The evaluation is that of pycocotools' `COCOeval` for boxes (`iouType="bbox"`), without
/// crowd annotations or area ranges (every object counts, area range "all"):
///
/// - per image and class, detections are sorted by descending score (stable) and only the
///   first `maxDetectionsPerClass` are evaluated (COCO's `maxDets`, 100, applies per image
///   and category);
/// - at each IoU threshold t, each detection in that order is matched to the unmatched
///   ground-truth box of its class with the highest IoU, if that IoU is at least t (one
///   to one; among equal IoUs the later ground-truth box wins, as in COCOeval); unmatched
///   detections are false positives;
/// - per class, the detections of all images are ranked by descending score (stable:
///   image order, then the per-image order), precision is made monotone (running maximum
///   from the right) and read at the 101 recall points 0, 0.01, ..., 1 (the first rank
///   whose recall reaches the point; 0 beyond the last recall); AP is their mean;
/// - mAP is the mean AP over the classes that have ground truth (classes without
///   ground truth are skipped, even when they have detections).
///
/// `meanAP(iou: 0.5)` is COCO's AP50 (VOC-style mAP@0.5 with 101-point interpolation) and
/// `cocoMAP()` COCO's AP@[.5:.95], the mean over the thresholds 0.50, 0.55, ..., 0.95.
public struct DetectionAccumulator: Sendable, Codable, Equatable {
    /// Number of classes C (score columns, including a background column if any).
    public let classes: Int
    /// How the model output is turned into detections.
    public var suppression: NonMaximumSuppression
    /// Detections per image and class that count (COCO's `maxDets`).
    public var maxDetectionsPerClass: Int

    /// Images added so far; the next batch's images are numbered from here.
    public private(set) var imageCount = 0
    /// Every detection kept so far, over all images.
    public private(set) var detections: [Detection] = []
    /// Ground truth per image, in the order added.
    public private(set) var groundTruth: [[GroundTruthBox]] = []

    /// An empty accumulator for `classes` score columns.
    public init(classes: Int, suppression: NonMaximumSuppression = NonMaximumSuppression(), maxDetectionsPerClass: Int = 100) {
        precondition(classes > 0, "detection needs at least one class")
        self.classes = classes
        self.suppression = suppression
        self.maxDetectionsPerClass = maxDetectionsPerClass
    }

    /// COCO's IoU thresholds, computed as `numpy.linspace(0.5, 0.95, 10)` does (so the
    /// comparisons agree with pycocotools bit for bit).
    public static let cocoIoUThresholds: [Double] = linspace(0.5, 0.95, count: 10)
    /// The 101 recall points, as `numpy.linspace(0, 1, 101)`.
    public static let cocoRecallPoints: [Double] = linspace(0, 1, count: 101)

    /// `numpy.linspace(start, stop, count)`: `i * step + start`, the last point exactly `stop`.
    static func linspace(_ start: Double, _ stop: Double, count: Int) -> [Double] {
        let step: Double = (stop - start) / Double(count - 1)
        var values = [Double]()
        for i in 0..<count {
            let value: Double = Double(i) * step + start
            values.append(i == count - 1 ? stop : value)
        }
        return values
    }

    /// Adds one batch of model output (`boxes` `[N, A, 4]`, `scores` `[N, A, C]`, the layout
    /// documented on `NonMaximumSuppression`) with the ground truth of its N images; the
    /// detections are what `suppression` keeps.
    public mutating func add(boxes: Tensor, scores: Tensor, groundTruth: [[GroundTruthBox]]) throws {
        let (n, _, c) = try NonMaximumSuppression.check(boxes: boxes, scores: scores, firstImage: imageCount)
        guard c == classes else {
            throw TaskError.countMismatch(what: "detection scores: classes (C of [N, A, C])", expected: classes, actual: c)
        }
        guard groundTruth.count == n else {
            throw TaskError.countMismatch(what: "ground truth: one list of boxes per image of the batch", expected: n, actual: groundTruth.count)
        }
        try checkGroundTruth(groundTruth)
        let found = try suppression.apply(boxes: boxes, scores: scores, firstImage: imageCount)
        try add(detections: found, groundTruth: groundTruth)
    }

    /// Adds detections made elsewhere with the ground truth of their images. The batch's
    /// images are numbered `imageCount ..< imageCount + groundTruth.count`; each
    /// detection's `image` must be one of them.
    public mutating func add(detections new: [Detection], groundTruth truth: [[GroundTruthBox]]) throws {
        let valid = imageCount..<(imageCount + truth.count)
        try checkGroundTruth(truth)
        var perImage = [Int](repeating: 0, count: truth.count)
        for d in new {
            guard valid.contains(d.image) else { throw TaskError.imageOutOfRange(image: d.image, valid: valid) }
            let index = perImage[d.image - imageCount]
            perImage[d.image - imageCount] += 1
            guard d.box.isValid else {
                throw TaskError.invalidBox(image: d.image, box: d.anchor ?? index, role: .prediction, coordinates: d.box.coordinates)
            }
            guard (0..<classes).contains(d.classIndex) else {
                throw TaskError.classOutOfRange(image: d.image, box: d.anchor ?? index, role: .prediction, classIndex: d.classIndex, classes: classes)
            }
        }
        detections += new
        groundTruth += truth
        imageCount += truth.count
    }

    /// Appends another accumulator's images after this one's (e.g. from another shard).
    public mutating func merge(_ other: DetectionAccumulator) throws {
        guard other.classes == classes else {
            throw TaskError.invalidArgument("cannot merge detections of \(other.classes) classes into an accumulator of \(classes) classes.")
        }
        detections += other.detections.map { var d = $0; d.image += imageCount; return d }
        groundTruth += other.groundTruth
        imageCount += other.imageCount
    }

    /// Throws unless the decoded state is one `add` could have made: ground truth for every
    /// image, detections of known images and classes, valid boxes.
    func validate() throws {
        guard classes > 0, maxDetectionsPerClass > 0, imageCount == groundTruth.count else {
            throw TaskError.invalidArgument("detection statistics of \(imageCount) images hold ground truth for \(groundTruth.count) images")
        }
        let accepted = try DetectionAccumulator(classes: classes, suppression: suppression, maxDetectionsPerClass: maxDetectionsPerClass)
            .adding(detections: detections, groundTruth: groundTruth)
        guard accepted.detections.count == detections.count else { throw TaskError.invalidArgument("detection statistics do not add up") }
    }

    private func adding(detections: [Detection], groundTruth: [[GroundTruthBox]]) throws -> DetectionAccumulator {
        var copy = self
        try copy.add(detections: detections, groundTruth: groundTruth)
        return copy
    }

    private func checkGroundTruth(_ truth: [[GroundTruthBox]]) throws {
        for (i, objects) in truth.enumerated() {
            for (j, g) in objects.enumerated() {
                guard g.box.isValid else {
                    throw TaskError.invalidBox(image: imageCount + i, box: j, role: .groundTruth, coordinates: g.box.coordinates)
                }
                guard (0..<classes).contains(g.classIndex) else {
                    throw TaskError.classOutOfRange(image: imageCount + i, box: j, role: .groundTruth, classIndex: g.classIndex, classes: classes)
                }
            }
        }
    }

    /// Ground-truth boxes per class.
    public var groundTruthCount: [Int] {
        var count = [Int](repeating: 0, count: classes)
        for objects in groundTruth { for g in objects { count[g.classIndex] += 1 } }
        return count
    }

    /// AP per class at each IoU threshold: `result[c][t]`, nil for classes without ground truth.
    public func averagePrecision(iouThresholds: [Double]) -> [[Double]?] {
        // Per class: the evaluated detections of each image (sorted, truncated) and the ground truth.
        var truthByClass = [[Int: [BoundingBox]]](repeating: [:], count: classes)
        for (image, objects) in groundTruth.enumerated() {
            for g in objects { truthByClass[g.classIndex][image, default: []].append(g.box) }
        }
        var detectionsByClass = [[Int: [Detection]]](repeating: [:], count: classes)
        for d in detections { detectionsByClass[d.classIndex][d.image, default: []].append(d) }

        return (0..<classes).map { cls -> [Double]? in
            let truthCount = truthByClass[cls].values.reduce(0) { $0 + $1.count }
            guard truthCount > 0 else { return nil }
            // (score, matched per threshold), in image order then per-image score order.
            var ranked = [(score: Double, matched: [Bool])]()
            for image in 0..<imageCount {
                guard var found = detectionsByClass[cls][image] else { continue }
                let truth = truthByClass[cls][image] ?? []
                found = stableSortedByScore(found)
                if found.count > maxDetectionsPerClass { found.removeLast(found.count - maxDetectionsPerClass) }
                let ious = found.map { d in truth.map { d.box.iou($0) } }
                var matched = [[Bool]](repeating: [Bool](repeating: false, count: iouThresholds.count), count: found.count)
                for (t, threshold) in iouThresholds.enumerated() {
                    var taken = [Bool](repeating: false, count: truth.count)
                    for d in found.indices {
                        var best = min(threshold, 1 - 1e-10)
                        var match = -1
                        for g in truth.indices where !taken[g] {
                            if ious[d][g] < best { continue }
                            best = ious[d][g]
                            match = g
                        }
                        if match >= 0 {
                            taken[match] = true
                            matched[d][t] = true
                        }
                    }
                }
                for (d, detection) in found.enumerated() { ranked.append((detection.score, matched[d])) }
            }
            ranked = stableSortedByScore(ranked) { $0.score }
            return iouThresholds.indices.map { t in
                Self.interpolatedAP(matched: ranked.map { $0.matched[t] }, truthCount: truthCount)
            }
        }
    }

    /// COCO's 101-point interpolated AP for detections in rank order (`matched` = true
    /// positive), as `COCOeval.accumulate` computes it.
    static func interpolatedAP(matched: [Bool], truthCount: Int) -> Double {
        let n = matched.count
        var recall = [Double](repeating: 0, count: n), precision = [Double](repeating: 0, count: n)
        var tp = 0.0, fp = 0.0
        let eps = Double.ulpOfOne  // numpy.spacing(1)
        for (i, m) in matched.enumerated() {
            if m { tp += 1 } else { fp += 1 }
            recall[i] = tp / Double(truthCount)
            precision[i] = tp / (fp + tp + eps)
        }
        if n > 1 { for i in stride(from: n - 1, to: 0, by: -1) where precision[i] > precision[i - 1] { precision[i - 1] = precision[i] } }
        var sum = 0.0
        var r = 0
        for point in cocoRecallPoints {
            while r < n && recall[r] < point { r += 1 }  // searchsorted(side: "left")
            if r == n { break }
            sum += precision[r]
        }
        return sum / Double(cocoRecallPoints.count)
    }

    /// Per-class AP at one IoU threshold (nil for classes without ground truth).
    public func classAP(iou: Double) -> [Double?] {
        averagePrecision(iouThresholds: [iou]).map { $0?[0] }
    }

    /// Mean AP at one IoU threshold over the classes with ground truth (COCO's AP50 for
    /// 0.5); nil when no image has ground truth.
    public func meanAP(iou: Double) -> Double? {
        Self.mean(classAP(iou: iou).compactMap { $0 })
    }

    /// Per-class AP averaged over the COCO thresholds 0.50:0.05:0.95.
    public func cocoClassAP() -> [Double?] {
        averagePrecision(iouThresholds: Self.cocoIoUThresholds).map { $0.flatMap { Self.mean($0) } }
    }

    /// COCO's AP@[.5:.95]: mean over the classes with ground truth of the AP averaged over
    /// the ten IoU thresholds; nil when no image has ground truth.
    public func cocoMAP() -> Double? {
        Self.mean(cocoClassAP().compactMap { $0 })
    }

    static func mean(_ values: [Double]) -> Double? {
        values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
    }

    private func stableSortedByScore(_ items: [Detection]) -> [Detection] {
        stableSortedByScore(items) { $0.score }
    }

    /// Descending by key, equal keys keeping their order (numpy's mergesort on -score).
    private func stableSortedByScore<T>(_ items: [T], key: (T) -> Double) -> [T] {
        items.enumerated().sorted { a, b in
            let (ka, kb) = (key(a.element), key(b.element))
            return ka != kb ? ka > kb : a.offset < b.offset
        }.map(\.element)
    }
}
