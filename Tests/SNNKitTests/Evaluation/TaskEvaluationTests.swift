import Foundation
import Testing
@testable import SNNKit

/// Segmentation and detection through the whole evaluator (ANN, clip-ANN, SNN at every
/// checkpoint) on small networks whose scores are worked out by hand.
@Suite struct TaskEvaluationTests {
    /// Ground truth held in memory.
    struct Data: EvaluationData {
        var images: Tensor
        var targets: [TaskTargets]
        var name: String { "test-data.npz" }
        var batchCount: Int { targets.count }
        var batchSize: Int { targets.first?.count ?? 1 }
        var sampleCount: Int { targets.reduce(0) { $0 + $1.count } }
        func batch(_ index: Int) throws -> (images: Tensor, targets: TaskTargets) {
            let per = images.count / images.shape[0]
            let lo = targets[..<index].reduce(0) { $0 + $1.count }, n = targets[index].count
            return (Tensor(shape: [n] + images.shape.dropFirst(), storage: Array(images.storage[(lo * per)..<((lo + n) * per)])), targets[index])
        }
    }

    static func conv1x1(_ name: String, _ input: String, _ weights: String, _ output: String) -> Node {
        Node(name: name, op: .conv(.init(kernelShape: [1, 1], strides: [1, 1], dilations: [1, 1], pads: [0, 0, 0, 0], autoPad: .notSet, group: 1)),
             inputs: [input, weights], outputs: [output])
    }

    /// x [N, 1, 2, 2] -> conv (+x, -x) -> ReLU -> conv (identity): class 0 scores relu(x),
    /// class 1 relu(-x).
    static func signSegmenter() -> Graph {
        Graph(name: "sign", nodes: [
            conv1x1("c1", "x", "w1", "a"), Node(name: "r1", op: .relu, inputs: ["a"], outputs: ["h"]), conv1x1("c2", "h", "w2", "y"),
        ], inputs: [ValueInfo(name: "x", dimensions: [.fixed(2), .fixed(1), .fixed(2), .fixed(2)])],
        outputs: [ValueInfo(name: "y", dimensions: nil)],
        constants: ["w1": .float(Tensor(shape: [2, 1, 1, 1], storage: [1, -1])),
                    "w2": .float(Tensor(shape: [2, 2, 1, 1], storage: [1, 0, 0, 1]))])
    }

    static func convert(_ graph: Graph, _ x: Tensor) throws -> Graph {
        var options = ConversionOptions()
        options.budget = .fixed(1)
        return try Converter(options: options).convert(graph, calibration: InMemoryBatches([x])).graph
    }

    @Test func segmentationScoresMIoUWithTheIgnoreLabel() throws {
        let x = Tensor(shape: [2, 1, 2, 2], storage: [1, -1, 0.5, -0.5, -1, -2, 2, 1])
        // Image 0: pixel (1, 0) is labelled 1 but scores class 0; (1, 1) is ignored.
        // Confusion (truth x predicted): 0->0: 3, 1->1: 3, 1->0: 1, so IoU 3/4 for both
        // classes, pixel accuracy 6/7.
        let masks = TaskTargets.masks([0, 1, 1, 255, 1, 1, 0, 0], shape: [2, 2, 2])
        let graph = Self.signSegmenter()
        var options = EvaluationOptions(timeSteps: 64)
        options.task = .segmentation(ignoreLabel: 255)
        let result = try Evaluator(ann: graph, converted: Self.convert(graph, x), options: options)
            .evaluate(Data(images: x, targets: [masks]))
        #expect(result.task == "segmentation" && result.metricNames == ["miou", "pixel_accuracy"])
        #expect(abs(result.ann["miou"]! - 0.75) < 1e-12)
        #expect(abs(result.ann["pixel_accuracy"]! - 6.0 / 7.0) < 1e-12)
        #expect(result.clipANN == result.ann)
        #expect(result.snn.last!.score == result.ann, "by T = 64 every pixel's argmax is the ANN's")
        #expect(result.windows.isEmpty, "the window matrix is a classification feature")
    }

    @Test func segmentationErrorsNameTheDataAndTheSample() throws {
        let x = Tensor(shape: [2, 1, 2, 2], storage: [1, -1, 0.5, -0.5, -1, -2, 2, 1])
        let graph = Self.signSegmenter()
        var options = EvaluationOptions(timeSteps: 4)
        options.task = .segmentation(ignoreLabel: 255)
        let evaluator = Evaluator(ann: graph, converted: try Self.convert(graph, x), options: options)
        let wrongSize = Data(images: x, targets: [.masks([Int](repeating: 0, count: 18), shape: [2, 3, 3])])
        let e1 = #expect(throws: EvaluationError.self) { try evaluator.evaluate(wrongSize) }
        #expect("\(e1!)".contains("test-data.npz") && "\(e1!)".contains("sample 0") && "\(e1!)".contains("3x3"))
        let badLabel = Data(images: x, targets: [.masks([0, 1, 1, 0, 1, 7, 0, 0], shape: [2, 2, 2])])
        let e2 = #expect(throws: EvaluationError.self) { try evaluator.evaluate(badLabel) }
        #expect("\(e2!)".contains("sample 1") && "\(e2!)".contains("label 7"))
        let labels = Data(images: x, targets: [.labels([0, 1])])
        let e3 = #expect(throws: EvaluationError.self) { try evaluator.evaluate(labels) }
        #expect("\(e3!)".contains("--task"))
    }

    /// x [N, 2] -> identity -> ReLU -> identity: the class scores of one anchor; the box is
    /// the bias of a zero-weight layer, (0, 0, 10, 10) for every image.
    static func oneAnchorDetector() -> Graph {
        let gemm = Operator.gemm(.init())
        return Graph(name: "det", nodes: [
            Node(name: "fc1", op: gemm, inputs: ["x", "eye"], outputs: ["a"]),
            Node(name: "relu", op: .relu, inputs: ["a"], outputs: ["h"]),
            Node(name: "fc_scores", op: gemm, inputs: ["h", "eye"], outputs: ["s"]),
            Node(name: "fc_boxes", op: gemm, inputs: ["h", "zero", "box"], outputs: ["b"]),
            Node(name: "shape_scores", op: .reshape(allowZero: false), inputs: ["s", "s_shape"], outputs: ["scores"]),
            Node(name: "shape_boxes", op: .reshape(allowZero: false), inputs: ["b", "b_shape"], outputs: ["boxes"]),
        ], inputs: [ValueInfo(name: "x", dimensions: [.fixed(4), .fixed(2)])],
        outputs: [ValueInfo(name: "boxes", dimensions: nil), ValueInfo(name: "scores", dimensions: nil)],
        constants: ["eye": .float(Tensor(shape: [2, 2], storage: [1, 0, 0, 1])), "zero": .float(Tensor(zeros: [2, 4])),
                    "box": .float(Tensor(shape: [4], storage: [0, 0, 10, 10])),
                    "s_shape": .int(IntTensor(vector: [-1, 1, 2])), "b_shape": .int(IntTensor(vector: [-1, 1, 4]))])
    }

    @Test func detectionScoresMAPAgainstAHandWorkedValue() throws {
        // Scores (class 0, class 1) of the four images; ground truth classes 0, 0, 1, 1, all
        // on the box (0, 0, 10, 10). Class 0 ranks 0.9 TP, 0.45 FP, 0.4 TP, 0.3 FP:
        // precision 1 up to recall 0.5, then 2/3, so AP = (51 + 50 * 2/3) / 101 over COCO's
        // 101 recall points. Class 1 ranks both true positives first: AP 1. Boxes match
        // exactly, so every IoU threshold gives the same AP.
        let x = Tensor(shape: [4, 2], storage: [0.9, 0.1, 0.4, 0.35, 0.3, 0.7, 0.45, 0.6])
        let box = BoundingBox(x1: 0, y1: 0, x2: 10, y2: 10)
        let truth = TaskTargets.boxes([0, 0, 1, 1].map { [GroundTruthBox(box: box, classIndex: $0)] })
        let graph = Self.oneAnchorDetector()
        var options = EvaluationOptions(timeSteps: 256)
        options.task = .detection(suppression: NonMaximumSuppression(), boxesOutput: nil, scoresOutput: nil)
        let result = try Evaluator(ann: graph, converted: Self.convert(graph, x), options: options)
            .evaluate(Data(images: x, targets: [truth]))
        let expected = ((51 + 50 * 2.0 / 3) / 101 + 1) / 2
        #expect(abs(result.ann["map50"]! - expected) < 1e-9)
        #expect(abs(result.ann["map"]! - expected) < 1e-9)
        #expect(result.primaryMetric == "map50")
        #expect(abs(result.snn.last!.score["map50"]! - expected) < 1e-9, "at T = 256 the SNN ranks the scores like the ANN")
        #expect(result.reach.first!.steps != nil)
    }

    @Test func detectionOutputsAreFoundByNameOrShape() throws {
        let task = EvaluationTask.detection(suppression: NonMaximumSuppression(), boxesOutput: nil, scoresOutput: nil)
        let byShape = try task.makeMetric(outputs: [("p", [2, 8, 3]), ("q", [2, 8, 4])]) as! DetectionMetric
        #expect(byShape.boxesOutput == "q" && byShape.scoresOutput == "p" && byShape.accumulator.classes == 3)
        #expect(throws: TaskError.self) { try task.makeMetric(outputs: [("p", [2, 8, 4]), ("q", [2, 8, 4])]) }
        #expect(throws: TaskError.self) { try task.makeMetric(outputs: [("boxes", [2, 8, 4]), ("scores", [2, 7, 3])]) }
        #expect(throws: TaskError.self) { try EvaluationTask.defaultClassification.makeMetric(outputs: [("y", [2, 4, 8, 8])]) }
    }

    @Test func classificationLabelsOutOfRangeAreNamed() throws {
        var metric = ClassificationMetric(output: "y")
        let scores = Tensor(shape: [2, 3], storage: [1, 0, 0, 0, 1, 0])
        try metric.add(["y": scores], targets: .labels([0, 2]))
        let error = #expect(throws: TaskError.self) { try metric.add(["y": scores], targets: .labels([0, 3])) }
        #expect("\(error!)".contains("sample 3") && "\(error!)".contains("label 3"))
        #expect(metric.values["top1"] == 0.5)
    }
}

/// Masks and boxes read from .npz files (Scripts/make_data_fixtures.py), and the errors
/// for bad annotations.
@Suite struct AnnotationReaderTests {
    @Test func masksAreReadPerRange() throws {
        guard case .masks(let m)? = try Annotations.open(path: DataFixtures.path("seg_masks.npz"), imageCount: 3) else {
            Issue.record("no masks found"); return
        }
        #expect(m.maskShape == [4, 5] && m.count == 3)
        let two = try m.masks(1..<3)
        #expect(two.count == 40 && two[0..<5] == [1, 1, 1, 1, 1] && two[20..<25] == [2, 2, 0, 0, 255])
        #expect(throws: DataError.self) { try m.masks(2..<4) }
    }

    @Test func boxesDropPaddingRows() throws {
        guard case .boxes(let b)? = try Annotations.open(path: DataFixtures.path("det_boxes.npz"), imageCount: 3) else {
            Issue.record("no boxes found"); return
        }
        let objects = try b.objects(0..<3)
        #expect(objects.map(\.count) == [2, 1, 0])
        #expect(objects[0][1] == BoxAnnotations.Object(x1: 1, y1: 2, x2: 7, y2: 8, classIndex: 2))
        #expect(objects[1][0].classIndex == 1)
        #expect(try Annotations.open(path: DataFixtures.path("stored.npz"), imageCount: 4).isNone, "images and labels only")
    }

    @Test(arguments: [
        ("boxes_x2_lt_x1.npz", "image 1, object row 0"), ("boxes_negative_class.npz", "class -3"),
        ("boxes_without_classes.npz", "classes"), ("boxes_short.npz", "2 labels"), ("masks_rank2.npz", "(N, H, W)"),
        ("masks_short.npz", "2 labels"), ("masks_float.npz", "<f4"),
    ])
    func badAnnotationsAreNamed(file: String, fragment: String) throws {
        let error = #expect(throws: DataError.self) { try Annotations.open(path: DataFixtures.badPath(file), imageCount: 3) }
        let text = "\(error!)"
        #expect(text.contains(file) && text.contains(fragment), "\(text)")
    }
}

/// A folder of .npz shards reads as the concatenation of its files, images, labels and
/// annotations alike, whatever shard boundary a batch straddles.
@Suite struct ShardFolderTests {
    @Test func aFolderOfShardsIsTheConcatenatedSet() throws {
        let folder = try DataSources.open(path: DataFixtures.path("shards"))
        let whole = try DataSources.open(path: DataFixtures.path("shards_all.npz"))
        #expect(folder.count == 5 && folder.sampleShape == whole.sampleShape)
        for range in [0..<5, 2..<4, 3..<5] {
            #expect(try folder.batch(range) == whole.batch(range), "\(range)")
        }
        guard case .masks(let sharded)? = try Annotations.open(path: DataFixtures.path("shards"), imageCount: 5),
              case .masks(let single)? = try Annotations.open(path: DataFixtures.path("shards_all.npz"), imageCount: 5) else {
            Issue.record("masks not found"); return
        }
        #expect(try sharded.masks(1..<5) == single.masks(1..<5))
        #expect(throws: DataError.self) { try Annotations.open(path: DataFixtures.path("shards"), imageCount: 6) }
    }

    @Test func boxShardsMayPadDifferently() throws {
        guard case .boxes(let b)? = try Annotations.open(path: DataFixtures.path("shards_det"), imageCount: 3) else {
            Issue.record("boxes not found"); return
        }
        let objects = try b.objects(1..<3)
        #expect(objects.map(\.count) == [1, 1])
        #expect(objects[1][0] == BoxAnnotations.Object(x1: 1, y1: 1, x2: 2, y2: 2, classIndex: 1))
    }

    @Test(arguments: [("shards_mixed_layout", "stored the same way"), ("shards_missing_labels", "no labels")])
    func inconsistentShardsAreRefused(folder: String, fragment: String) throws {
        let error = #expect(throws: DataError.self) { try DataSources.open(path: DataFixtures.badPath(folder)) }
        #expect("\(error!)".contains(fragment), "\(error!)")
    }
}
