/// Prices of one synaptic operation (an accumulate triggered by a spike) and one
/// multiply-accumulate, to turn operation counts into energy (docs/method.md, "Energy").
public struct EnergyPreset: Sendable, Codable, Equatable {
    public var name: String
    public var joulesPerSynapticOp: Double
    public var joulesPerMAC: Double

    /// Measured on the ROLLS neuromorphic chip, as priced in the paper (77 fJ per SOP,
    /// 12.5 pJ per FLOP; the ANN's MACs are counted as its FLOPs, as the paper does).
    public static let rolls = EnergyPreset(name: "rolls (77 fJ/SOP, 12.5 pJ/MAC)", joulesPerSynapticOp: 77e-15, joulesPerMAC: 12.5e-12)
    /// 45 nm CMOS estimates: 0.9 pJ per 32-bit float add, 4.6 pJ per multiply-add.
    public static let cmos45 = EnergyPreset(name: "cmos45 (0.9 pJ/AC, 4.6 pJ/MAC)", joulesPerSynapticOp: 0.9e-12, joulesPerMAC: 4.6e-12)
    public static let all = [rolls, cmos45]
}

/// Energy of the spiking network after T steps against the ANN, per image.
public struct EnergyComparison: Sendable, Codable, Equatable {
    public var preset: String
    public var steps: Int
    public var snnJoules: Double
    public var annJoules: Double
    /// ANN energy over SNN energy: how many more inferences per joule the SNN gets.
    public var efficiencyGain: Double

    /// - Parameters:
    ///   - synapticOps: SOPs per image over steps 1...T.
    ///   - analogMACsPerStep: MACs per image of the layers fed the analog input, paid every step.
    ///   - annMACs: MACs per image of the ANN.
    public init(preset: EnergyPreset, steps: Int, synapticOps: Double, analogMACsPerStep: Double, annMACs: Double) {
        self.preset = preset.name
        self.steps = steps
        snnJoules = synapticOps * preset.joulesPerSynapticOp + analogMACsPerStep * Double(steps) * preset.joulesPerMAC
        annJoules = annMACs * preset.joulesPerMAC
        efficiencyGain = snnJoules > 0 ? annJoules / snnJoules : 0
    }
}
