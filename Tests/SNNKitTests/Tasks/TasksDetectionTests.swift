import Foundation
import Testing
@testable import SNNKit

extension TaskFixtures {
    /// COCO metrics as pycocotools reports them (`class_ap_per_threshold[c][t]`, nil for
    /// classes without ground truth).
    struct COCOMetrics: Decodable, Sendable {
        var ap: Double
        var ap50: Double
        var ap75: Double
        var class_ap_per_threshold: [[Double]?]
    }

    struct NMSCase: Decodable, Sendable, CustomTestStringConvertible {
        struct Params: Decodable, Sendable {
            var iou_threshold: Double
            var score_threshold: Double
            var max_detections: Int
            var candidates_per_class: Int?
            var background_class: Int?
        }
        var name: String
        var params: Params
        var shape: [Int]
        var boxes: [Double]
        var scores: [Double]
        /// Per image: [anchor, class, score] in torchvision's order.
        var expected: [[[Double]]]
        /// Per image: [class, x1, y1, x2, y2].
        var truth: [[[Double]]]?
        var expected_map: COCOMetrics?
        var testDescription: String { name }

        var suppression: NonMaximumSuppression {
            NonMaximumSuppression(iouThreshold: params.iou_threshold, scoreThreshold: params.score_threshold,
                                  maxDetections: params.max_detections, candidatesPerClass: params.candidates_per_class,
                                  backgroundClass: params.background_class)
        }

        /// Model output of images `range`, converted to float32 as a network would produce it.
        func output(_ range: Range<Int>) -> (boxes: Tensor, scores: Tensor) {
            let (a, c) = (shape[1], shape[2])
            let b = boxes[(range.lowerBound * a * 4)..<(range.upperBound * a * 4)].map { Float($0) }
            let s = scores[(range.lowerBound * a * c)..<(range.upperBound * a * c)].map { Float($0) }
            return (Tensor(shape: [range.count, a, 4], storage: b), Tensor(shape: [range.count, a, c], storage: s))
        }
    }

    struct MAPCase: Decodable, Sendable, CustomTestStringConvertible {
        var name: String
        var images: Int
        var classes: Int
        var batches: [Int]
        /// Per image: [class, x1, y1, x2, y2].
        var truth: [[[Double]]]
        /// [image, class, score, x1, y1, x2, y2].
        var detections: [[Double]]
        var expected: COCOMetrics
        var testDescription: String { name }
    }

    struct MAPFile: Decodable, Sendable {
        struct Thresholds: Decodable, Sendable {
            var iou_thresholds: [Double]
            var recall_points: [Double]
        }
        var reference: String
        var coco: Thresholds
        var cases: [MAPCase]
    }

    static let nms = load("nms.json", as: File<NMSCase>.self)
    static let map = load("map.json", as: MAPFile.self)

    static func groundTruth(_ objects: [[Double]]) -> [GroundTruthBox] {
        objects.map { GroundTruthBox(x1: $0[1], y1: $0[2], x2: $0[3], y2: $0[4], classIndex: Int($0[0])) }
    }
}

@Suite struct TasksDetectionTests {
    static func box(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double) -> BoundingBox {
        BoundingBox(x1: x1, y1: y1, x2: x2, y2: y2)
    }

    static func detection(_ image: Int, _ cls: Int, _ score: Double, _ b: BoundingBox) -> Detection {
        Detection(image: image, classIndex: cls, score: score, box: b)
    }

    /// Expects COCO metrics within `tolerance` of pycocotools'.
    static func expectMetrics(_ acc: DetectionAccumulator, _ want: TaskFixtures.COCOMetrics, tolerance: Double,
                              sourceLocation: SourceLocation = #_sourceLocation) throws {
        let thresholds = DetectionAccumulator.cocoIoUThresholds
        let perClass = acc.averagePrecision(iouThresholds: thresholds)
        #expect(perClass.count == want.class_ap_per_threshold.count, sourceLocation: sourceLocation)
        for (c, (got, expected)) in zip(perClass, want.class_ap_per_threshold).enumerated() {
            #expect((got == nil) == (expected == nil), "class \(c)", sourceLocation: sourceLocation)
            guard let got, let expected else { continue }
            for (t, (g, e)) in zip(got, expected).enumerated() {
                #expect(abs(g - e) <= tolerance, "class \(c), IoU \(thresholds[t]): \(g) vs \(e)", sourceLocation: sourceLocation)
            }
        }
        let ap = try #require(acc.cocoMAP()), ap50 = try #require(acc.meanAP(iou: 0.5)), ap75 = try #require(acc.meanAP(iou: 0.75))
        #expect(abs(ap - want.ap) <= tolerance, "AP \(ap) vs \(want.ap)", sourceLocation: sourceLocation)
        #expect(abs(ap50 - want.ap50) <= tolerance, "AP50 \(ap50) vs \(want.ap50)", sourceLocation: sourceLocation)
        #expect(abs(ap75 - want.ap75) <= tolerance, "AP75 \(ap75) vs \(want.ap75)", sourceLocation: sourceLocation)
    }

    // MARK: IoU

    @Test func iouOfTwoBoxes() {
        let a = Self.box(0, 0, 2, 2)
        // Overlap 1x1, union 4 + 4 - 1.
        #expect(a.iou(Self.box(1, 1, 3, 3)) == 1.0 / 7.0)
        #expect(Self.box(1, 1, 3, 3).iou(a) == 1.0 / 7.0)
        #expect(a.iou(a) == 1)
        // Contained: 2x1 inside 2x2.
        #expect(a.iou(Self.box(0, 0, 2, 1)) == 0.5)
        // Touching edges and disjoint boxes do not overlap.
        #expect(a.iou(Self.box(2, 0, 4, 2)) == 0)
        #expect(a.iou(Self.box(5, 5, 6, 6)) == 0)
        // Empty boxes.
        #expect(Self.box(1, 1, 1, 1).iou(Self.box(1, 1, 1, 1)) == 0)
        #expect(a.area == 4)
        #expect(Self.box(0, 0, 1, 0).isValid)
        #expect(!Self.box(0, 0, -1, 0).isValid)
        #expect(!Self.box(0, .nan, 1, 1).isValid)
    }

    // MARK: NMS

    @Test(arguments: TaskFixtures.nms.cases)
    func nmsMatchesTorchvision(_ c: TaskFixtures.NMSCase) throws {
        let (boxes, scores) = c.output(0..<c.shape[0])
        let found = try c.suppression.apply(boxes: boxes, scores: scores)
        var position = 0
        for (image, kept) in c.expected.enumerated() {
            let mine = found.filter { $0.image == image }
            #expect(mine.map { [$0.anchor!, $0.classIndex] } == kept.map { [Int($0[0]), Int($0[1])] }, "image \(image)")
            #expect(mine.map(\.score) == kept.map { $0[2] })
            for d in mine {
                // The box is the anchor's, as float32.
                let o = 4 * (image * c.shape[1] + d.anchor!)
                #expect(d.box.coordinates == (0..<4).map { Double(Float(c.boxes[o + $0])) })
            }
            // Image by image.
            #expect(found[position..<(position + mine.count)].allSatisfy { $0.image == image })
            position += mine.count
        }
        #expect(position == found.count)
    }

    @Test func nmsHandWorked() throws {
        // Anchors 0 and 1 overlap with IoU 80 / 120 = 2/3; anchor 2 is apart. Two classes;
        // scores exact in float32.
        let boxes = Tensor(shape: [1, 3, 4], storage: [0, 0, 10, 10, 2, 0, 12, 10, 50, 50, 60, 60])
        let scores = Tensor(shape: [1, 3, 2], storage: [
            0.9, 0.375,
            0.8, 0.7,
            0.3, 0.25,
        ])
        var nms = NonMaximumSuppression(iouThreshold: 0.5, scoreThreshold: 0.25)
        var found = try nms.apply(boxes: boxes, scores: scores, firstImage: 7)
        // Class 0: 0 suppresses 1, 2 survives; class 1: 1 survives, 2 is not above 0.25 (strict),
        // 0 is suppressed by 1 (IoU 2/3). Sorted by score.
        #expect(found.map { [$0.anchor!, $0.classIndex] } == [[0, 0], [1, 1], [2, 0]])
        #expect(found.allSatisfy { $0.image == 7 })
        // IoU 2/3 is not above 0.7: nothing suppressed.
        nms.iouThreshold = 0.7
        found = try nms.apply(boxes: boxes, scores: scores)
        #expect(found.map { [$0.anchor!, $0.classIndex] } == [[0, 0], [1, 0], [1, 1], [0, 1], [2, 0]])
        // At most two per image.
        nms.maxDetections = 2
        #expect(try nms.apply(boxes: boxes, scores: scores).map(\.anchor) == [0, 1])
        // Class 0 as background.
        nms = NonMaximumSuppression(iouThreshold: 0.5, scoreThreshold: 0.25, backgroundClass: 0)
        #expect(try nms.apply(boxes: boxes, scores: scores).map { [$0.anchor!, $0.classIndex] } == [[1, 1]])
        // Only the best candidate per class.
        nms = NonMaximumSuppression(iouThreshold: 0.7, scoreThreshold: 0, candidatesPerClass: 1)
        #expect(try nms.apply(boxes: boxes, scores: scores).map { [$0.anchor!, $0.classIndex] } == [[0, 0], [1, 1]])
    }

    @Test func equalScoresKeepTheLowerAnchor() throws {
        let boxes = Tensor(shape: [1, 2, 4], storage: [0, 0, 10, 10, 1, 0, 11, 10])
        let scores = Tensor(shape: [1, 2, 1], storage: [0.5, 0.5])
        #expect(try NonMaximumSuppression().apply(boxes: boxes, scores: scores).map(\.anchor) == [0])
    }

    // MARK: mAP

    @Test func cocoThresholdsAreNumpyLinspace() {
        #expect(DetectionAccumulator.cocoIoUThresholds == TaskFixtures.map.coco.iou_thresholds)
        #expect(DetectionAccumulator.cocoRecallPoints == TaskFixtures.map.coco.recall_points)
    }

    @Test(arguments: TaskFixtures.map.cases)
    func mapMatchesPycocotools(_ c: TaskFixtures.MAPCase) throws {
        var acc = DetectionAccumulator(classes: c.classes)
        var first = 0
        for n in c.batches {
            let images = first..<(first + n)
            let dets = c.detections.filter { images.contains(Int($0[0])) }.map {
                Self.detection(Int($0[0]), Int($0[1]), $0[2], Self.box($0[3], $0[4], $0[5], $0[6]))
            }
            try acc.add(detections: dets, groundTruth: c.truth[images].map(TaskFixtures.groundTruth))
            first += n
        }
        #expect(acc.imageCount == c.images)
        try Self.expectMetrics(acc, c.expected, tolerance: 1e-12)
    }

    /// NMS on the model output then COCO metrics, against torchvision's NMS + pycocotools.
    @Test func suppressionThenMAPMatchesTorchvisionAndPycocotools() throws {
        let c = try #require(TaskFixtures.nms.cases.first { $0.expected_map != nil })
        let truth = try #require(c.truth).map(TaskFixtures.groundTruth)
        var acc = DetectionAccumulator(classes: c.shape[2], suppression: c.suppression)
        for image in 0..<c.shape[0] {
            let (boxes, scores) = c.output(image..<(image + 1))
            try acc.add(boxes: boxes, scores: scores, groundTruth: [truth[image]])
        }
        #expect(acc.detections.count == c.expected.map(\.count).reduce(0, +))
        try Self.expectMetrics(acc, try #require(c.expected_map), tolerance: 1e-12)
    }

    @Test(arguments: TaskFixtures.map.cases)
    func mergedAccumulatorsEqualOne(_ c: TaskFixtures.MAPCase) throws {
        var whole = DetectionAccumulator(classes: c.classes)
        var left = DetectionAccumulator(classes: c.classes), right = DetectionAccumulator(classes: c.classes)
        let split = c.images / 2
        let all = c.detections.map { Self.detection(Int($0[0]), Int($0[1]), $0[2], Self.box($0[3], $0[4], $0[5], $0[6])) }
        try whole.add(detections: all, groundTruth: c.truth.map(TaskFixtures.groundTruth))
        try left.add(detections: all.filter { $0.image < split }, groundTruth: c.truth[..<split].map(TaskFixtures.groundTruth))
        try right.add(detections: all.filter { $0.image >= split }.map { var d = $0; d.image -= split; return d },
                      groundTruth: c.truth[split...].map(TaskFixtures.groundTruth))
        try left.merge(right)
        #expect(left.imageCount == whole.imageCount)
        #expect(left.groundTruth == whole.groundTruth)
        #expect(left.cocoMAP() == whole.cocoMAP())
        #expect(left.averagePrecision(iouThresholds: [0.5, 0.75]) == whole.averagePrecision(iouThresholds: [0.5, 0.75]))
    }

    /// One class, two objects; detections ranked TP, FP, TP. Precision 1, 1/2, 2/3 becomes
    /// 1, 2/3, 2/3 (running maximum from the right); recall 1/2, 1/2, 1. Recall points
    /// 0...0.50 (51 of them) read precision 1, points 0.51...1 (50) read 2/3:
    /// AP = (51 + 50 * 2/3) / 101.
    @Test func handWorkedAveragePrecision() throws {
        var acc = DetectionAccumulator(classes: 2)
        try acc.add(detections: [
            Self.detection(0, 0, 0.9, Self.box(0, 0, 10, 10)),     // TP
            Self.detection(0, 0, 0.8, Self.box(50, 50, 60, 60)),   // FP
            Self.detection(0, 0, 0.7, Self.box(20, 20, 30, 30)),   // TP
            Self.detection(0, 1, 0.99, Self.box(0, 0, 10, 10)),    // class 1 has no ground truth: ignored
        ], groundTruth: [[GroundTruthBox(x1: 0, y1: 0, x2: 10, y2: 10, classIndex: 0),
                          GroundTruthBox(x1: 20, y1: 20, x2: 30, y2: 30, classIndex: 0)]])
        let ap = (51 + 50 * 2.0 / 3.0) / 101
        #expect(abs(try #require(acc.meanAP(iou: 0.5)) - ap) < 1e-12)
        #expect(acc.classAP(iou: 0.5)[1] == nil)
        // Every IoU is 1 or 0: the same at every COCO threshold.
        #expect(abs(try #require(acc.cocoMAP()) - ap) < 1e-12)
        #expect(acc.groundTruthCount == [2, 0])
    }

    @Test func matchingNeedsTheThresholdAndIsOneToOne() throws {
        var acc = DetectionAccumulator(classes: 1)
        // IoU exactly 0.5 (upper half of the object), then a duplicate of it.
        try acc.add(detections: [
            Self.detection(0, 0, 0.9, Self.box(0, 0, 10, 5)),
            Self.detection(0, 0, 0.8, Self.box(0, 0, 10, 5)),
        ], groundTruth: [[GroundTruthBox(x1: 0, y1: 0, x2: 10, y2: 10, classIndex: 0)]])
        // IoU >= threshold matches; the duplicate comes after full recall. (Precision is
        // tp / (tp + fp + eps) as in COCOeval, hence "almost" 1.)
        #expect(abs(try #require(acc.meanAP(iou: 0.5)) - 1) < 1e-12)
        #expect(acc.meanAP(iou: 0.55) == 0)
        // Mean over 10 thresholds, only the first matches.
        #expect(abs(try #require(acc.cocoMAP()) - 0.1) < 1e-12)
    }

    /// A detection with the same IoU (0.6) with two objects goes to the later one (COCOeval's
    /// rule), so the exact box of the first object, ranked next, is a true positive too.
    @Test func equalIoUGoesToTheLaterObject() throws {
        var acc = DetectionAccumulator(classes: 1)
        try acc.add(detections: [
            Self.detection(0, 0, 0.9, Self.box(15, 10, 35, 30)),
            Self.detection(0, 0, 0.8, Self.box(10, 10, 30, 30)),
        ], groundTruth: [[GroundTruthBox(x1: 10, y1: 10, x2: 30, y2: 30, classIndex: 0),
                          GroundTruthBox(x1: 20, y1: 10, x2: 40, y2: 30, classIndex: 0)]])
        #expect(abs(try #require(acc.meanAP(iou: 0.5)) - 1) < 1e-12)
    }

    @Test func missedClassesScoreZeroAndEmptyDataScoresNothing() throws {
        var acc = DetectionAccumulator(classes: 3)
        #expect(acc.cocoMAP() == nil)
        #expect(acc.meanAP(iou: 0.5) == nil)
        try acc.add(detections: [Self.detection(0, 0, 0.5, Self.box(0, 0, 10, 10))],
                    groundTruth: [[GroundTruthBox(x1: 0, y1: 0, x2: 10, y2: 10, classIndex: 0),
                                   GroundTruthBox(x1: 0, y1: 0, x2: 10, y2: 10, classIndex: 2)], []])
        let perClass = acc.classAP(iou: 0.5)
        #expect(abs(try #require(perClass[0]) - 1) < 1e-12)
        #expect(perClass[1] == nil)
        #expect(perClass[2] == 0)
        #expect(abs(try #require(acc.meanAP(iou: 0.5)) - 0.5) < 1e-12)
        #expect(acc.imageCount == 2)
    }

    @Test func groundTruthFromArrays() throws {
        let boxes = Tensor(shape: [2, 4], storage: [1, 2, 3, 4, 0, 0, 5, 5])
        let list = try GroundTruthBox.list(boxes: boxes, classes: [3, 0])
        #expect(list == [GroundTruthBox(x1: 1, y1: 2, x2: 3, y2: 4, classIndex: 3), GroundTruthBox(x1: 0, y1: 0, x2: 5, y2: 5, classIndex: 0)])
        #expect(try GroundTruthBox.list(boxes: Tensor(zeros: [0, 4]), classes: []).isEmpty)
    }

    // MARK: errors

    @Test func modelOutputShapes() {
        var acc = DetectionAccumulator(classes: 2)
        expectTaskError(.badShape(what: "detection boxes", shape: [1, 3, 5], expected: "[N, A, 4] (x1, y1, x2, y2)"), mentions: ["[1, 3, 5]"]) {
            try acc.add(boxes: Tensor(zeros: [1, 3, 5]), scores: Tensor(zeros: [1, 3, 2]), groundTruth: [[]])
        }
        expectTaskError(.badShape(what: "detection scores", shape: [1, 6], expected: "[N, A, C]")) {
            try acc.add(boxes: Tensor(zeros: [1, 3, 4]), scores: Tensor(zeros: [1, 6]), groundTruth: [[]])
        }
        expectTaskError(.countMismatch(what: "detection scores: images (N of [N, A, C] and [N, A, 4])", expected: 1, actual: 2),
                        mentions: ["expected 1, got 2"]) {
            try acc.add(boxes: Tensor(zeros: [1, 3, 4]), scores: Tensor(zeros: [2, 3, 2]), groundTruth: [[]])
        }
        expectTaskError(.countMismatch(what: "detection scores: anchors (A of [N, A, C] and [N, A, 4])", expected: 3, actual: 4)) {
            try acc.add(boxes: Tensor(zeros: [1, 3, 4]), scores: Tensor(zeros: [1, 4, 2]), groundTruth: [[]])
        }
        expectTaskError(.countMismatch(what: "detection scores: classes (C of [N, A, C])", expected: 2, actual: 3)) {
            try acc.add(boxes: Tensor(zeros: [1, 3, 4]), scores: Tensor(zeros: [1, 3, 3]), groundTruth: [[]])
        }
        expectTaskError(.countMismatch(what: "ground truth: one list of boxes per image of the batch", expected: 1, actual: 2)) {
            try acc.add(boxes: Tensor(zeros: [1, 3, 4]), scores: Tensor(zeros: [1, 3, 2]), groundTruth: [[], []])
        }
        #expect(acc.imageCount == 0)
    }

    @Test func invalidPredictedBoxNamesImageAndBox() throws {
        var acc = DetectionAccumulator(classes: 1)
        try acc.add(boxes: Tensor(zeros: [2, 3, 4]), scores: Tensor(zeros: [2, 3, 1]), groundTruth: [[], []])
        // Second image of the next batch (image 3), anchor 1: x2 < x1.
        var b = [Float](repeating: 0, count: 24)
        b[12 + 4 ..< 12 + 8] = [5, 0, 4, 1]
        expectTaskError(.invalidBox(image: 3, box: 1, role: .prediction, coordinates: [5, 0, 4, 1]),
                        mentions: ["image 3", "predicted box 1", "x2 >= x1"]) {
            try acc.add(boxes: Tensor(shape: [2, 3, 4], storage: b), scores: Tensor(zeros: [2, 3, 1]), groundTruth: [[], []])
        }
        // y2 < y1 on image 0 of the batch (image 2), anchor 2, through NMS alone (batch numbering).
        b = [Float](repeating: 0, count: 24)
        b[8..<12] = [0, 3, 1, 2]
        expectTaskError(.invalidBox(image: 0, box: 2, role: .prediction, coordinates: [0, 3, 1, 2])) {
            _ = try NonMaximumSuppression().apply(boxes: Tensor(shape: [2, 3, 4], storage: b), scores: Tensor(zeros: [2, 3, 1]))
        }
        // NaN coordinates are invalid too.
        b[8..<12] = [0, 0, .nan, 1]
        #expect(throws: TaskError.self) {
            try acc.add(boxes: Tensor(shape: [2, 3, 4], storage: b), scores: Tensor(zeros: [2, 3, 1]), groundTruth: [[], []])
        }
        // Detections made elsewhere: the box index is the anchor when known, else the position in its image.
        expectTaskError(.invalidBox(image: 2, box: 1, role: .prediction, coordinates: [0, 5, 1, 4])) {
            try acc.add(detections: [Self.detection(2, 0, 0.5, Self.box(0, 0, 1, 1)), Self.detection(2, 0, 0.4, Self.box(0, 5, 1, 4))],
                        groundTruth: [[]])
        }
        #expect(acc.imageCount == 2)
        #expect(acc.detections.isEmpty)
    }

    @Test func invalidGroundTruthBoxNamesImageAndBox() throws {
        var acc = DetectionAccumulator(classes: 2)
        try acc.add(detections: [], groundTruth: [[]])
        let good = GroundTruthBox(x1: 0, y1: 0, x2: 1, y2: 1, classIndex: 1)
        let bad = GroundTruthBox(x1: 0, y1: 0, x2: -1, y2: 1, classIndex: 1)
        expectTaskError(.invalidBox(image: 2, box: 1, role: .groundTruth, coordinates: [0, 0, -1, 1]),
                        mentions: ["image 2", "ground-truth box 1"]) {
            try acc.add(boxes: Tensor(zeros: [2, 1, 4]), scores: Tensor(zeros: [2, 1, 2]), groundTruth: [[good], [good, bad]])
        }
        expectTaskError(.invalidBox(image: 4, box: 0, role: .groundTruth, coordinates: [0, 5, 1, 1])) {
            _ = try GroundTruthBox.list(boxes: Tensor(shape: [1, 4], storage: [0, 5, 1, 1]), classes: [0], image: 4)
        }
        expectTaskError(.badShape(what: "ground-truth boxes of image 0", shape: [2, 3], expected: "[M, 4]")) {
            _ = try GroundTruthBox.list(boxes: Tensor(zeros: [2, 3]), classes: [0, 0])
        }
        expectTaskError(.countMismatch(what: "image 0: ground-truth classes, one per box", expected: 2, actual: 1)) {
            _ = try GroundTruthBox.list(boxes: Tensor(zeros: [2, 4]), classes: [0])
        }
        #expect(acc.imageCount == 1)
    }

    @Test func classesOutOfRange() throws {
        var acc = DetectionAccumulator(classes: 3)
        let box = Self.box(0, 0, 1, 1)
        expectTaskError(.classOutOfRange(image: 1, box: 0, role: .groundTruth, classIndex: 3, classes: 3),
                        mentions: ["image 1", "ground-truth box 0", "class 3", "0..<3"]) {
            try acc.add(detections: [], groundTruth: [[], [GroundTruthBox(box: box, classIndex: 3)]])
        }
        expectTaskError(.classOutOfRange(image: 0, box: 0, role: .groundTruth, classIndex: -1, classes: 3)) {
            try acc.add(boxes: Tensor(zeros: [1, 1, 4]), scores: Tensor(zeros: [1, 1, 3]), groundTruth: [[GroundTruthBox(box: box, classIndex: -1)]])
        }
        expectTaskError(.classOutOfRange(image: 0, box: 1, role: .prediction, classIndex: 5, classes: 3), mentions: ["predicted box 1"]) {
            try acc.add(detections: [Self.detection(0, 0, 0.5, box), Self.detection(0, 5, 0.5, box)], groundTruth: [[]])
        }
        #expect(acc.imageCount == 0)
    }

    @Test func detectionsMustNameAnImageOfTheBatch() throws {
        var acc = DetectionAccumulator(classes: 1)
        try acc.add(detections: [], groundTruth: [[], []])
        expectTaskError(.imageOutOfRange(image: 0, valid: 2..<3), mentions: ["image 0", "2..<3"]) {
            try acc.add(detections: [Self.detection(0, 0, 0.5, Self.box(0, 0, 1, 1))], groundTruth: [[]])
        }
    }

    @Test func invalidParameters() {
        expectTaskError(.invalidArgument("non-maximum suppression needs iouThreshold >= 0, maxDetections >= 0 and candidatesPerClass >= 0.")) {
            _ = try NonMaximumSuppression(maxDetections: -1).apply(boxes: Tensor(zeros: [1, 1, 4]), scores: Tensor(zeros: [1, 1, 1]))
        }
        var acc = DetectionAccumulator(classes: 2)
        expectTaskError(.invalidArgument("cannot merge detections of 3 classes into an accumulator of 2 classes.")) {
            try acc.merge(DetectionAccumulator(classes: 3))
        }
    }
}
