import Foundation
import Testing
@testable import SNNKit

/// Tallies of consecutive batches, written to JSON and read back, add up to the tally of
/// one run over all of them: the same scores, gaps, activity and energy, bit for bit.
@Suite struct EvaluationTallyTests {
    typealias Data = TaskEvaluationTests.Data

    /// The batches `range` of `data` as data of their own.
    static func batches(_ data: Data, _ range: Range<Int>) throws -> Data {
        let per = data.images.count / data.images.shape[0]
        let lo = data.targets[..<range.lowerBound].reduce(0) { $0 + $1.count }
        let n = data.targets[range].reduce(0) { $0 + $1.count }
        return Data(images: Tensor(shape: [n] + data.images.shape.dropFirst(), storage: Array(data.images.storage[(lo * per)..<((lo + n) * per)])),
                    targets: Array(data.targets[range]))
    }

    /// The tally after a trip through the JSON a part file holds.
    static func roundTrip(_ tally: EvaluationTally) throws -> EvaluationTally {
        let decoded = try JSONDecoder().decode(EvaluationTally.self, from: JSONEncoder().encode(tally))
        try decoded.validate()
        return decoded
    }

    /// The result as JSON, timings left out.
    static func json(_ result: EvaluationResult) throws -> String {
        var r = result
        r.seconds = 0
        r.imagesPerSecond = 0
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(r), as: UTF8.self)
    }

    /// Evaluates `data` whole and in the parts `cuts` makes of its batches, merged in order.
    static func checkPartsAddUp(_ evaluator: Evaluator, _ data: Data, cuts: [Int]) throws {
        let whole = try evaluator.tally(data)
        let bounds = [0] + cuts + [data.targets.count]
        var merged: EvaluationTally? = nil
        for (lo, hi) in zip(bounds, bounds.dropFirst()) {
            let part = try roundTrip(try evaluator.tally(try batches(data, lo..<hi)))
            if merged == nil { merged = part } else { try merged!.append(part) }
        }
        #expect(merged!.images == whole.images && merged!.batches == whole.batches)
        #expect(try json(merged!.result()) == json(whole.result()))
    }

    @Test func segmentationPartsAddUp() throws {
        let x = Tensor(shape: [4, 1, 2, 2], storage: [1, -1, 0.5, -0.5, -1, -2, 2, 1, 0.3, -0.7, 0.1, 0.2, -0.4, 0.9, -0.1, 0.6])
        let graph = TaskEvaluationTests.signSegmenter()
        var options = EvaluationOptions(timeSteps: 16)
        options.task = .segmentation(ignoreLabel: 255)
        options.delay = .fixed(2)
        let masks: [TaskTargets] = [.masks([0, 1, 1, 255, 1, 1, 0, 0], shape: [2, 2, 2]), .masks([0, 1, 0, 0], shape: [1, 2, 2]),
                                    .masks([1, 0, 1, 0], shape: [1, 2, 2])]
        let evaluator = Evaluator(ann: graph, converted: try TaskEvaluationTests.convert(graph, x), options: options)
        try Self.checkPartsAddUp(evaluator, Data(images: x, targets: masks), cuts: [1])
        try Self.checkPartsAddUp(evaluator, Data(images: x, targets: masks), cuts: [1, 2])
    }

    /// Detections of a later part are numbered after the earlier part's images; the merged
    /// ranking (ties included) is the single run's.
    @Test func detectionPartsAddUp() throws {
        let x = Tensor(shape: [4, 2], storage: [0.9, 0.1, 0.4, 0.35, 0.3, 0.7, 0.45, 0.6])
        let box = BoundingBox(x1: 0, y1: 0, x2: 10, y2: 10)
        let truth = [0, 0, 1, 1].map { TaskTargets.boxes([[GroundTruthBox(box: box, classIndex: $0)]]) }
        let graph = TaskEvaluationTests.oneAnchorDetector()
        var options = EvaluationOptions(timeSteps: 32)
        options.task = .detection(suppression: NonMaximumSuppression(), boxesOutput: nil, scoresOutput: nil)
        let evaluator = Evaluator(ann: graph, converted: try TaskEvaluationTests.convert(graph, x), options: options)
        let data = Data(images: x, targets: truth)
        try Self.checkPartsAddUp(evaluator, data, cuts: [2])
        try Self.checkPartsAddUp(evaluator, data, cuts: [1, 3])
        let whole = try evaluator.tally(data).result()
        #expect(whole.snn.contains { $0.score["map50"]! > 0 && $0.score["map50"]! < 1 }, "a ranking with errors, not a trivial score")
    }

    /// Classification with a readout delay and the window matrix, on the VGG fixture.
    @Test func classificationPartsAddUp() throws {
        let model = try ConvertedModel(contentsOf: E2EFiles.converted)
        let source = try DataSources.open(path: E2EFiles.data)
        let all = try source.batch(0..<source.count)
        let labels = try #require(all.labels)
        var settings = SimulationSettings(timeSteps: 16)
        settings.delay = .steps(3)
        let options = try model.evaluationOptions(settings)
        let evaluator = Evaluator(ann: model.ann, converted: model.graph, options: options)
        let data = Data(images: all.images, targets: stride(from: 0, to: labels.count, by: 4).map { .labels(Array(labels[$0..<min($0 + 4, labels.count)])) })
        try Self.checkPartsAddUp(evaluator, data, cuts: [1, 3])
        #expect(try !evaluator.tally(data).result().windows.isEmpty)
    }

    /// Tallies of other settings are refused with what differs.
    @Test func talliesOfOtherSettingsAreRefused() throws {
        let x = Tensor(shape: [2, 1, 2, 2], storage: [1, -1, 0.5, -0.5, -1, -2, 2, 1])
        let graph = TaskEvaluationTests.signSegmenter()
        let converted = try TaskEvaluationTests.convert(graph, x)
        let data = Data(images: x, targets: [.masks([0, 1, 1, 0, 1, 1, 0, 0], shape: [2, 2, 2])])
        var a = EvaluationOptions(timeSteps: 8)
        a.task = .segmentation(ignoreLabel: 255)
        var b = a
        b.simulation = SimulationOptions(timeSteps: 16, checkpoints: [8, 16])
        var tally = try Evaluator(ann: graph, converted: converted, options: a).tally(data)
        let other = try Evaluator(ann: graph, converted: converted, options: b).tally(data)
        let error = #expect(throws: EvaluationTallyError.self) { try tally.append(other) }
        #expect("\(error!)".contains("time steps differ: 8 against 16"))
        var c = a
        c.task = .segmentation(ignoreLabel: nil)
        let third = try Evaluator(ann: graph, converted: converted, options: c).tally(data)
        let e2 = #expect(throws: EvaluationTallyError.self) { try tally.append(third) }
        #expect("\(e2!)".contains("ignore label"))
    }

    /// A decoded tally whose arrays do not fit its settings is refused before anything reads it.
    @Test func damagedTalliesAreRefused() throws {
        let x = Tensor(shape: [2, 1, 2, 2], storage: [1, -1, 0.5, -0.5, -1, -2, 2, 1])
        let graph = TaskEvaluationTests.signSegmenter()
        var options = EvaluationOptions(timeSteps: 4)
        options.task = .segmentation(ignoreLabel: 255)
        let tally = try Evaluator(ann: graph, converted: try TaskEvaluationTests.convert(graph, x), options: options)
            .tally(Data(images: x, targets: [.masks([0, 1, 1, 0, 1, 1, 0, 0], shape: [2, 2, 2])]))
        var json = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(tally)) as? [String: Any])
        json["checkpoints"] = [1, 2, 4, 8]
        let bad = try JSONDecoder().decode(EvaluationTally.self, from: JSONSerialization.data(withJSONObject: json))
        #expect(throws: EvaluationTallyError.self) { try bad.validate() }
        var counts = try #require(json["ann"] as? [String: Any])
        counts = ["segmentation": ["_0": ["output": "y", "confusion": ["classes": 2, "counts": [1, 2, 3], "samples": 2, "ignoredPixels": 0]]]]
        json["checkpoints"] = [1, 2, 4]
        json["ann"] = counts
        let badCounts = try JSONDecoder().decode(EvaluationTally.self, from: JSONSerialization.data(withJSONObject: json))
        let error = #expect(throws: EvaluationTallyError.self) { try badCounts.validate() }
        #expect("\(error!)".contains("2 x 2"))
    }
}
