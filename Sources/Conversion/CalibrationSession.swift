import SNNGraph
import SNNTensor

/// One conversion's calibration state: the prepared ANN, the graph with its neurons in
/// place (thresholds still placeholders), their execution plans, and the calibration data.
///
/// Calibration runs the graph with ReLUs intercepted: each neuron layer's input current
/// goes to the threshold rule, and the rule's clipped current flows on, so every layer is
/// calibrated on what the layers before it will really deliver (docs/method.md,
/// "Threshold balancing").
struct CalibrationSession {
    /// The ANN after the structural passes.
    let prepared: Graph
    /// `prepared` with IF neurons; their thresholds are placeholders until `setting(_:)`.
    let converted: Graph
    /// The neuron layers, in execution order.
    let layers: [NeuronLayer]
    /// The first calibration batch, which fixes the planned batch shape.
    let first: Tensor
    let inputName: String
    let outputName: String
    let calibration: any CalibrationSource
    /// The ANN planned with fused activations, and the converted graph unfused (so the
    /// neuron layers can be intercepted), both at the first batch's shape.
    let annPlan: ExecutionPlan
    let plan: ExecutionPlan
    /// Node index -> neuron layer index.
    let layerOfNode: [Int: Int]
    /// Plans for other batch sizes (a short last batch), made once each.
    private var annPlans = [Int: ExecutionPlan](), plans = [Int: ExecutionPlan]()

    init(source: Graph, calibration: any CalibrationSource, initialPotential: Float) throws {
        let prepared = try Converter.prepare(source)
        guard let inputName = prepared.runtimeInputs.first?.name, prepared.runtimeInputs.count == 1 else {
            throw ConversionError.badCalibrationBatch(index: 0, message: "SNNKit converts models with exactly one input")
        }
        let first = try calibration.batch(0)
        let shapes = [inputName: first.shape]
        do { annPlan = try ExecutionPlan(graph: prepared, inputShapes: shapes) } catch let error as GraphError {
            // A fault of the model itself is reported as such, not as the batch's.
            if case .nonFiniteConstant = error { throw error }
            throw ConversionError.badCalibrationBatch(index: 0, message: "shape \(first.shape) does not fit the model: \(error)")
        }
        let shapePlan = try ExecutionPlan(graph: prepared, inputShapes: shapes, options: PlanOptions(fuseActivations: false))
        var (converted, layers) = try InsertNeurons(shapes: shapePlan.shapes, initialPotential: initialPotential).insert(into: prepared)
        guard !layers.isEmpty else { throw ConversionError.noNeurons }
        // Thresholds are zero until calibrated: plan with placeholders, clip in the intercept.
        for layer in layers { converted.constants[layer.threshold] = .float(Tensor(shape: [layer.channels], repeating: 1)) }
        plan = try ExecutionPlan(graph: converted, inputShapes: shapes, options: PlanOptions(fuseActivations: false))
        var layerOfNode = [Int: Int]()
        for (i, node) in converted.nodes.enumerated() {
            if let l = layers.firstIndex(where: { $0.node == node.name }) { layerOfNode[i] = l }
        }
        (self.prepared, self.converted, self.layers, self.first) = (prepared, converted, layers, first)
        (self.inputName, self.outputName, self.calibration, self.layerOfNode) = (inputName, prepared.outputs[0].name, calibration, layerOfNode)
    }

    /// Batch `index`, refused when its shape differs from the first batch's or it holds a
    /// NaN or infinity (named by file and image).
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

    /// The ANN's output on `batch`.
    mutating func annOutput(_ batch: Tensor) throws -> Tensor {
        let p = try plan(for: batch, ann: true)
        return try p.run([inputName: batch])[outputName]!
    }

    /// Runs calibration batch number `batch` through the network, each neuron layer's
    /// current observed by `rule`, which returns the clipped current passed on.
    mutating func observe(_ input: Tensor, batch: Int, rule: inout any ThresholdRule) throws {
        let p = try plan(for: input, ann: false)
        let (layers, layerOfNode) = (self.layers, self.layerOfNode)
        // The intercept escapes, so it updates a local copy of the rule, stored back after the run.
        var updated = rule
        _ = try p.run([inputName: input], intercept: { node, inputs in
            guard let l = layerOfNode[node], let z = inputs[0] else { return nil }
            if z.storage.contains(where: { !$0.isFinite }) { throw ConversionError.nonFinite(layer: layers[l].node, batch: batch) }
            return [updated.observe(layer: l, current: z, cap: layers[l].cap)]
        })
        rule = updated
    }

    /// The clip-ANN's output on `batch`: every neuron layer's current clipped at `thresholds`.
    mutating func clipANNOutput(_ batch: Tensor, thresholds: [[Float]]) throws -> Tensor {
        let p = try plan(for: batch, ann: false)
        let layerOfNode = self.layerOfNode
        return try p.run([inputName: batch], intercept: { node, inputs in
            guard let l = layerOfNode[node], let z = inputs[0] else { return nil }
            return [z.clipped(to: thresholds[l])]
        })[outputName]!
    }

    /// The rule's current thresholds, one array per neuron layer.
    func thresholds(of rule: any ThresholdRule) -> [[Float]] {
        layers.enumerated().map { rule.thresholds(layer: $0.offset, channels: $0.element.channels, cap: $0.element.cap) }
    }

    /// The converted graph with `thresholds` as its threshold constants.
    func setting(_ thresholds: [[Float]]) -> Graph {
        var graph = converted
        for (layer, t) in zip(layers, thresholds) {
            graph.constants[layer.threshold] = .float(Tensor(shape: [layer.channels], storage: t))
        }
        return graph
    }

    /// Per layer, on the first batch through the clip-ANN: the summary of thresholds and
    /// clipping, and the channel means of ReLU(z) that the delay estimate needs.
    func layerReports(_ thresholds: [[Float]]) throws -> (reports: [NeuronLayerReport], means: [[Double]]) {
        var reports = [NeuronLayerReport](repeating: NeuronLayerReport(node: "", channels: 0, shape: [], thresholdMin: 0, thresholdMedian: 0,
                                                                       thresholdMax: 0, clippedFraction: 0, clippingError: 0), count: layers.count)
        var means = [[Double]](repeating: [], count: layers.count)
        let (layers, layerOfNode) = (self.layers, self.layerOfNode)
        _ = try plan.run([inputName: first], intercept: { node, inputs in
            guard let l = layerOfNode[node], let z = inputs[0] else { return nil }
            let stats = Converter.layerStatistics(z, thresholds: thresholds[l])
            means[l] = stats.channelMeans
            let sorted = thresholds[l].sorted()
            reports[l] = NeuronLayerReport(node: layers[l].node, channels: layers[l].channels, shape: Array(z.shape.dropFirst()),
                                           thresholdMin: sorted.first ?? 0, thresholdMedian: sorted[sorted.count / 2],
                                           thresholdMax: sorted.last ?? 0, clippedFraction: stats.clippedFraction,
                                           clippingError: stats.clippingError)
            return [z.clipped(to: thresholds[l])]
        })
        return (reports, means)
    }

    /// The plan for `batch`'s size: the prepared ones at the first batch's size, else one
    /// made (and kept) for that size.
    private mutating func plan(for batch: Tensor, ann: Bool) throws -> ExecutionPlan {
        let n = batch.shape[0]
        if n == first.shape[0] { return ann ? annPlan : plan }
        if let p = ann ? annPlans[n] : plans[n] { return p }
        let p = try ExecutionPlan(graph: ann ? prepared : converted, inputShapes: [inputName: batch.shape],
                                  options: PlanOptions(fuseActivations: ann))
        if ann { annPlans[n] = p } else { plans[n] = p }
        return p
    }
}
