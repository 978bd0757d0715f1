import Foundation
import SNNKit

/// The embedded demonstration: a small residual CNN trained on scikit-learn's 8x8 digits
/// (Scripts/train_demo_model.py), converted and simulated end to end with no input from
/// the user and no network access.
public enum Demo {
    /// The embedded model and its data split.
    public struct Assets {
        /// The trained digit classifier.
        public var model: Graph
        /// Training images [N, 1, 8, 8], scaled to [0, 1]; calibration draws from them.
        public var trainImages: Tensor
        /// The training images' digits.
        public var trainLabels: [Int]
        /// Held-out test images [N, 1, 8, 8], scaled to [0, 1].
        public var testImages: Tensor
        /// The test images' digits.
        public var testLabels: [Int]

        /// The training images in whole batches of `batchSize`, for calibration.
        public func calibrationBatches(batchSize: Int) -> InMemoryBatches {
            let per = trainImages.count / trainImages.shape[0]
            return InMemoryBatches((0..<(trainImages.shape[0] / batchSize)).map { b in
                Tensor(shape: [batchSize] + trainImages.shape.dropFirst(),
                       storage: Array(trainImages.storage[(b * batchSize * per)..<((b + 1) * batchSize * per)]))
            })
        }

        /// The first `limit` (default: all) test images with their labels.
        public func testData(batchSize: Int, limit: Int? = nil) -> InMemoryLabeledBatches {
            let per = testImages.count / testImages.shape[0]
            let count = min(limit ?? testLabels.count, testLabels.count)
            return InMemoryLabeledBatches(
                images: Tensor(shape: [count] + testImages.shape.dropFirst(), storage: Array(testImages.storage[0..<(count * per)])),
                labels: Array(testLabels[0..<count]), batchSize: batchSize)
        }
    }

    /// How much work the demo does.
    public struct Budget: Sendable {
        /// Calibration batches; automatic, up to 400.
        public var calibration: CalibrationBudget = .auto(maximum: 400, minimumGain: 0.002)
        /// Images per calibration and evaluation batch.
        public var batchSize = 100
        /// Steps simulated (T_max).
        public var timeSteps = 256
        /// Test images evaluated (nil: all).
        public var testImages: Int? = nil
        /// Also run layer-wise LTB, max-norm and robust-norm on the same batches.
        public var baselines = false
        /// The full demo: automatic calibration, T = 256, every test image.
        public init() {}
    }

    /// Everything one demo run produced.
    public struct Run {
        /// The model and data used.
        public var assets: Assets
        /// The conversion and its measurements.
        public var conversion: ConversionResult
        /// The low-latency calibrations after it (`LatencyTuning.standard`).
        public var tuning: LatencyTuningReport?
        /// The evaluation of the converted network.
        public var evaluation: EvaluationResult
        /// The report ReportWriter writes for the run.
        public var report: RunReport
    }

    static func resource(_ name: String) throws -> URL {
        guard let url = Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Resources") else {
            throw ONNXError.unreadable(file: name, reason: "the demo resource is missing from the build")
        }
        return url
    }

    /// Pixel values 0...16 scaled to [0, 1], as in training.
    static func images(_ name: String) throws -> Tensor {
        let raw = try TensorFile.read(contentsOf: try resource(name)).tensor
        return Tensor(shape: raw.shape, storage: raw.storage.map { $0 / 16 })
    }

    static func labels(_ name: String) throws -> [Int] {
        try TensorFile.read(contentsOf: try resource(name)).tensor.storage.map { Int($0) }
    }

    /// Loads the embedded model and images from the module's resources.
    public static func loadAssets() throws -> Assets {
        Assets(model: try ONNXImporter.load(contentsOf: try resource("digits-cnn.onnx")),
               trainImages: try images("digits-train-images.pb"), trainLabels: try labels("digits-train-labels.pb"),
               testImages: try images("digits-test-images.pb"), testLabels: try labels("digits-test-labels.pb"))
    }

    /// Converts with channel-wise LTB, tunes the result for short runs (`LatencyTuning.standard`)
    /// and evaluates ANN, clip-ANN and SNN with delayed evaluation.
    public static func run(budget: Budget = Budget(), calibrationProgress: ((CalibrationProgress) -> Void)? = nil,
                           evaluationProgress: ((Int, Int) -> Void)? = nil) throws -> Run {
        let assets = try loadAssets()
        var options = ConversionOptions()
        options.budget = budget.calibration
        let run = try Pipeline.evaluate(assets.model, calibration: assets.calibrationBatches(batchSize: budget.batchSize), conversion: options,
                                        data: assets.testData(batchSize: budget.batchSize, limit: budget.testImages),
                                        settings: SimulationSettings(timeSteps: budget.timeSteps), baselines: budget.baselines,
                                        progress: PipelineProgress(calibration: calibrationProgress, simulation: evaluationProgress))
        let report = RunReport(command: "snnkit demo", model: "digits-cnn.onnx (embedded)", run: run)
        return Run(assets: assets, conversion: run.conversion!, tuning: run.tuning, evaluation: run.evaluation, report: report)
    }
}
