import Foundation
import SNNGraph
import SNNTensor
import SNNSupport

/// How many calibration batches to use.
public enum CalibrationBudget: Sendable, Equatable {
    /// Exactly this many batches (cycling through the source when it holds fewer).
    case fixed(Int)
    /// Calibrate in doubling stages (25, 50, 100, ...) up to `maximum`, and stop when the
    /// clip-ANN's agreement with the ANN on held-out batches stops improving by `minimumGain`.
    case auto(maximum: Int, minimumGain: Double)
}

/// Settings of a conversion.
public struct ConversionOptions: Sendable {
    /// The threshold rule; channel-wise LTB with step size 1 by default.
    public var method: ThresholdMethod = .channelLTB(eta: 1)
    /// How many calibration batches to run.
    public var budget: CalibrationBudget = .auto(maximum: 1600, minimumGain: 0.001)
    /// Batches kept out of calibration to measure agreement (auto budget only).
    public var heldOutBatches: Int = 4
    /// Membrane potential at t = 0 as a fraction of the threshold: 0.5 (v(0) = theta / 2) centres the
    /// rounding error of the spike count.
    public var initialPotential: Float = 0.5
    /// The defaults: channel-wise LTB, automatic budget up to 1600 batches.
    public init() {}
}

/// Progress of calibration, for progress bars.
public struct CalibrationProgress: Sendable {
    /// Calibration batches finished.
    public var batchesDone: Int
    /// Planned batches (the current stage's end in auto mode).
    public var batchesPlanned: Int
    /// Images calibrated on so far.
    public var images: Int
    /// Seconds since the conversion started.
    public var seconds: Double
}

/// One point of the batches-versus-agreement curve.
public struct AgreementPoint: Sendable, Codable, Equatable {
    /// Calibration batches run when the agreement was measured.
    public var batches: Int
    /// Top-1 agreement of clip-ANN and ANN on held-out batches (classification outputs), or
    /// 1 - relative L2 error of the outputs otherwise.
    public var agreement: Double
}

/// Summary of one neuron layer after calibration.
public struct NeuronLayerReport: Sendable, Codable, Equatable {
    /// Name of the IF neuron node.
    public var node: String
    /// Number of thresholds (channels along axis 1, or neurons of a fully connected layer).
    public var channels: Int
    /// Shape of the layer's activation on a calibration batch.
    public var shape: [Int]
    /// Smallest channel threshold.
    public var thresholdMin: Float
    /// Median channel threshold.
    public var thresholdMedian: Float
    /// Largest channel threshold.
    public var thresholdMax: Float
    /// Fraction of positive activations above the threshold (clipped), on the check batch.
    public var clippedFraction: Double
    /// sum (ReLU(z) - C(z))^2 / sum ReLU(z)^2 on the check batch: what clipping loses.
    public var clippingError: Double
}

/// A converted network and everything measured while converting it.
public struct ConversionResult: Sendable {
    /// The converted graph: IF neurons with their threshold constants, ready to simulate or export.
    public var graph: Graph
    /// One summary per neuron layer, in execution order.
    public var layers: [NeuronLayerReport]
    /// The estimated readout delay.
    public var delay: DelayEstimate
    /// Agreement of the clip-ANN with the ANN on held-out batches after each calibration stage; empty
    /// when none are held out (a fixed budget, or too few batches).
    public var curve: [AgreementPoint]
    /// The threshold rule's name.
    public var method: String
    /// Calibration batches run (a source with fewer batches is cycled through).
    public var batchesUsed: Int
    /// Distinct batches the thresholds were calibrated on (held-out ones excluded); fewer
    /// than `batchesUsed` means batches were reused.
    public var distinctBatches: Int = 0
    /// Images per calibration batch.
    public var batchSize: Int
    /// Wall-clock time of the conversion.
    public var seconds: Double
    /// Calibration images processed per second.
    public var imagesPerSecond: Double
}

/// Converts a ReLU network into a spiking one (docs/method.md: "What each operator
/// becomes", "Threshold balancing", "Readout and delay"):
/// BatchNorm folded, identities removed, max pools moved before the neurons, every ReLU
/// made an IF neuron, thresholds set by the chosen rule on calibration batches (one
/// forward pass per batch), and the readout delay estimated.
public struct Converter {
    /// The rule, budget and neuron settings this converter applies.
    public var options: ConversionOptions
    /// A converter with `options` (the defaults: channel-wise LTB, automatic budget).
    public init(options: ConversionOptions = ConversionOptions()) { self.options = options }

    /// The structural passes, without calibration.
    public static func prepare(_ graph: Graph) throws -> Graph {
        let prepared = try graph.applying([RemoveIdentities(), FoldBatchNormalization(), MoveMaxPoolBeforeNeuron()])
        let blockers = prepared.conversionBlockers()
        guard blockers.isEmpty else {
            throw ConversionError.notConvertible(blockers: blockers.map { "node '\($0.node)' (\($0.op)): \($0.reason)" })
        }
        return prepared
    }

    /// Converts `source` with thresholds from `calibration`; `progress` is called after every batch.
    /// Throws `ConversionError` when the network has a blocker, no ReLU, or calibration data that does not
    /// fit it.
    public func convert(_ source: Graph, calibration: any CalibrationSource,
                        progress: ((CalibrationProgress) -> Void)? = nil) throws -> ConversionResult {
        let start = Date()
        guard calibration.distinctBatches > 0 else { throw ConversionError.noCalibrationData }
        let prepared = try Self.prepare(source)
        guard let inputName = prepared.runtimeInputs.first?.name, prepared.runtimeInputs.count == 1 else {
            throw ConversionError.badCalibrationBatch(index: 0, message: "SNNKit converts models with exactly one input")
        }
        let first = try calibration.batch(0)
        let shapes = [inputName: first.shape]
        let annPlan: ExecutionPlan
        do { annPlan = try ExecutionPlan(graph: prepared, inputShapes: shapes) } catch let error as GraphError {
            // A fault of the model itself is reported as such, not as the batch's.
            if case .nonFiniteConstant = error { throw error }
            throw ConversionError.badCalibrationBatch(index: 0, message: "shape \(first.shape) does not fit the model: \(error)")
        }
        let shapePlan = try ExecutionPlan(graph: prepared, inputShapes: shapes, options: PlanOptions(fuseActivations: false))
        var (converted, layers) = try InsertNeurons(shapes: shapePlan.shapes, initialPotential: options.initialPotential).insert(into: prepared)
        guard !layers.isEmpty else { throw ConversionError.noNeurons }
        // Thresholds are zero until calibrated: plan with placeholders, clip in the intercept.
        for layer in layers { converted.constants[layer.threshold] = .float(Tensor(shape: [layer.channels], repeating: 1)) }
        let plan = try ExecutionPlan(graph: converted, inputShapes: shapes, options: PlanOptions(fuseActivations: false))
        var layerOfNode = [Int: Int]()
        for (i, node) in converted.nodes.enumerated() {
            if let l = layers.firstIndex(where: { $0.node == node.name }) { layerOfNode[i] = l }
        }

        let heldOut: Int
        let plannedStages: [Int]
        switch options.budget {
        case .fixed(let n):
            guard n > 0 else { throw ConversionError.noCalibrationData }
            heldOut = 0
            plannedStages = [n]
        case .auto(let maximum, _):
            guard maximum > 0 else { throw ConversionError.noCalibrationData }
            heldOut = calibration.distinctBatches > 2 * options.heldOutBatches ? options.heldOutBatches : 0
            var stages = [Int]()
            var n = 25
            while n < maximum { stages.append(n); n *= 2 }
            stages.append(maximum)
            plannedStages = stages
        }
        let trainBatches = calibration.distinctBatches - heldOut

        func checkedBatch(_ index: Int) throws -> Tensor {
            let b = try calibration.batch(index)
            guard Array(b.shape.dropFirst()) == Array(first.shape.dropFirst()) else {
                throw ConversionError.badCalibrationBatch(index: index, message: "shape \(b.shape) differs from the first batch's \(first.shape)")
            }
            if let bad = b.firstNonFinite() {
                throw ConversionError.nonFiniteCalibrationImage(origin: calibration.origin, image: index * b.shape[0] + bad.position[0], batch: index,
                                                                value: bad.value, position: Array(bad.position.dropFirst()))
            }
            return b
        }
        func planFor(_ batch: Tensor, _ cache: inout [Int: ExecutionPlan], graph: Graph, fuse: Bool) throws -> ExecutionPlan {
            if batch.shape[0] == first.shape[0] { return fuse ? annPlan : plan }
            if let p = cache[batch.shape[0]] { return p }
            let p = try ExecutionPlan(graph: graph, inputShapes: [inputName: batch.shape], options: PlanOptions(fuseActivations: fuse))
            cache[batch.shape[0]] = p
            return p
        }
        var annCache = [Int: ExecutionPlan](), snnCache = [Int: ExecutionPlan]()

        // Held-out reference outputs of the ANN.
        let outputName = prepared.outputs[0].name
        var heldOutBatches = [Tensor](), reference = [Tensor]()
        for h in 0..<heldOut {
            let b = try checkedBatch(trainBatches + h)
            heldOutBatches.append(b)
            reference.append(try planFor(b, &annCache, graph: prepared, fuse: true).run([inputName: b])[outputName]!)
        }

        var rule = options.method.makeRule()
        var curve = [AgreementPoint]()
        var done = 0
        var images = 0
        let clock = Date()
        stages: for stage in plannedStages {
            while done < stage {
                let index = done % trainBatches
                let b = try checkedBatch(index)
                _ = try planFor(b, &snnCache, graph: converted, fuse: false).run([inputName: b], intercept: { node, inputs in
                    guard let l = layerOfNode[node], let z = inputs[0] else { return nil }
                    if z.storage.contains(where: { !$0.isFinite }) { throw ConversionError.nonFinite(layer: layers[l].node, batch: done) }
                    return [rule.observe(layer: l, current: z, cap: layers[l].cap)]
                })
                done += 1
                images += b.shape[0]
                progress?(CalibrationProgress(batchesDone: done, batchesPlanned: stage, images: images, seconds: Date().timeIntervalSince(clock)))
            }
            guard heldOut > 0 else { continue }
            let current = rule
            let thresholds = layers.enumerated().map { current.thresholds(layer: $0.offset, channels: $0.element.channels, cap: $0.element.cap) }
            var agreement = 0.0
            for (b, ref) in zip(heldOutBatches, reference) {
                let out = try planFor(b, &snnCache, graph: converted, fuse: false).run([inputName: b], intercept: { node, inputs in
                    guard let l = layerOfNode[node], let z = inputs[0] else { return nil }
                    return [z.clipped(to: thresholds[l])]
                })[outputName]!
                agreement += Self.agreement(out, ref) / Double(heldOut)
            }
            curve.append(AgreementPoint(batches: done, agreement: agreement))
            if case .auto(_, let gain) = options.budget, curve.count >= 2, agreement - curve[curve.count - 2].agreement < gain {
                break stages
            }
        }

        // Final thresholds into the graph; statistics and the delay on the first batch.
        let final = rule
        var thresholds = [[Float]]()
        for (l, layer) in layers.enumerated() {
            let t = final.thresholds(layer: l, channels: layer.channels, cap: layer.cap)
            thresholds.append(t)
            converted.constants[layer.threshold] = .float(Tensor(shape: [layer.channels], storage: t))
        }
        var reports = [NeuronLayerReport](repeating: NeuronLayerReport(node: "", channels: 0, shape: [], thresholdMin: 0, thresholdMedian: 0,
                                                                       thresholdMax: 0, clippedFraction: 0, clippingError: 0), count: layers.count)
        var means = [[Double]](repeating: [], count: layers.count)
        _ = try plan.run([inputName: first], intercept: { node, inputs in
            guard let l = layerOfNode[node], let z = inputs[0] else { return nil }
            let stats = Self.layerStatistics(z, thresholds: thresholds[l])
            means[l] = stats.channelMeans
            let sorted = thresholds[l].sorted()
            reports[l] = NeuronLayerReport(node: layers[l].node, channels: layers[l].channels, shape: Array(z.shape.dropFirst()),
                                           thresholdMin: sorted.first ?? 0, thresholdMedian: sorted[sorted.count / 2],
                                           thresholdMax: sorted.last ?? 0, clippedFraction: stats.clippedFraction,
                                           clippingError: stats.clippingError)
            return [z.clipped(to: thresholds[l])]
        })
        let delay = DelayEstimate.estimate(thresholds: thresholds, meanActivation: means, initialPotential: options.initialPotential)
        let seconds = Date().timeIntervalSince(start)
        ConvertedModelInfo(method: options.method.description, eta: options.method.eta, calibrationBatches: done,
                           batchSize: first.shape[0], delay: delay.steps, initialPotential: options.initialPotential).write(into: &converted)
        return ConversionResult(graph: converted, layers: reports, delay: delay, curve: curve, method: options.method.description,
                                batchesUsed: done, distinctBatches: min(done, trainBatches), batchSize: first.shape[0], seconds: seconds,
                                imagesPerSecond: Double(images) / max(Date().timeIntervalSince(clock), 1e-9))
    }

    /// Top-1 agreement for [N, K] outputs, else 1 - ||a - b|| / ||b||.
    static func agreement(_ out: Tensor, _ reference: Tensor) -> Double {
        if out.rank == 2, out.shape[1] > 1 {
            let (n, k) = (out.shape[0], out.shape[1])
            var same = 0
            for i in 0..<n {
                let a = (0..<k).max { out.storage[i * k + $0] < out.storage[i * k + $1] }!
                let b = (0..<k).max { reference.storage[i * k + $0] < reference.storage[i * k + $1] }!
                if a == b { same += 1 }
            }
            return Double(same) / Double(max(n, 1))
        }
        var e = 0.0, s = 0.0
        for (x, y) in zip(out.storage, reference.storage) { e += Double(x - y) * Double(x - y); s += Double(y) * Double(y) }
        return 1 - (s > 0 ? (e / s).squareRoot() : e.squareRoot())
    }

    static func layerStatistics(_ z: Tensor, thresholds: [Float]) -> (channelMeans: [Double], clippedFraction: Double, clippingError: Double) {
        let view = ChannelView(z.shape)
        var sums = [Double](repeating: 0, count: view.channels)
        var positive = 0, clipped = 0
        var lost = 0.0, total = 0.0
        z.storage.withUnsafeBufferPointer { x in
            view.forEachPlane { c, base in
                let limit = thresholds[thresholds.count == 1 ? 0 : c]
                for i in base..<(base + view.inner) where x[i] > 0 {
                    let v = Double(x[i])
                    sums[c] += v
                    positive += 1
                    total += v * v
                    if x[i] > limit { clipped += 1; lost += (v - Double(limit)) * (v - Double(limit)) }
                }
            }
        }
        let perChannel = Double(view.batch * view.inner)
        return (sums.map { $0 / perChannel }, positive > 0 ? Double(clipped) / Double(positive) : 0, total > 0 ? lost / total : 0)
    }
}

