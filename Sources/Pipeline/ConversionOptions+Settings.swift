import SNNConversion

extension CalibrationBudget {
    /// The budget from its command-line spelling: a positive number of batches, or "auto"
    /// (stop when more batches no longer bring the clip-ANN closer to the ANN, at most
    /// `maximum` batches).
    public init(argument text: String, maximum: Int) throws {
        if text == "auto" {
            guard maximum > 0 else { throw PipelineError.setting("the most calibration batches (--max-calib-batches) must be positive, not \(maximum)") }
            self = .auto(maximum: maximum, minimumGain: 0.001)
            return
        }
        guard let n = Int(text), n > 0 else {
            throw PipelineError.setting("calibration batches (--calib-batches) are a positive number or auto, not '\(text)'")
        }
        self = .fixed(n)
    }
}

extension ConversionOptions {
    /// Options from their names: the threshold rule (ltb, ltb-layer, max-norm,
    /// robust-norm[:percentile]) with its LTB step size, the calibration budget ("auto" or a
    /// number, `maxCalibrationBatches` bounding auto) and the initial membrane potential.
    public init(method: String, eta: Float = 1, calibrationBatches: String = "auto", maxCalibrationBatches: Int = 1600,
                initialPotential: Float = 0.5) throws {
        guard eta.isFinite, eta > 0 else { throw PipelineError.setting("the LTB step size (--eta) must be a positive number, not \(eta)") }
        guard let rule = ThresholdMethod(name: method, eta: eta) else {
            throw PipelineError.setting("unknown threshold rule (--method) '\(method)': ltb, ltb-layer, max-norm or robust-norm[:percentile]")
        }
        guard initialPotential.isFinite, (0...1).contains(initialPotential) else {
            throw PipelineError.setting("the initial potential (--initial-potential) is a fraction of the threshold in [0, 1], not \(initialPotential)")
        }
        self.init()
        self.method = rule
        budget = try CalibrationBudget(argument: calibrationBatches, maximum: maxCalibrationBatches)
        self.initialPotential = initialPotential
    }
}
