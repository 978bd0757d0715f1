/// Prices of one synaptic operation (an accumulate triggered by a spike) and one
/// multiply-accumulate, to turn operation counts into energy (docs/method.md, "Energy").
public struct EnergyPreset: Sendable, Codable, Equatable {
    /// The preset's name and its prices, as printed in tables.
    public var name: String
    /// Energy of one synaptic operation (an accumulate), in joules.
    public var joulesPerSynapticOp: Double
    /// Energy of one multiply-accumulate, in joules.
    public var joulesPerMAC: Double

    /// Measured on the ROLLS neuromorphic chip, as priced in the paper (77 fJ per SOP,
    /// 12.5 pJ per FLOP; the ANN's MACs are counted as its FLOPs, as the paper does).
    public static let rolls = EnergyPreset(name: "rolls (77 fJ/SOP, 12.5 pJ/MAC)", joulesPerSynapticOp: 77e-15, joulesPerMAC: 12.5e-12)
    /// 45 nm CMOS estimates: 0.9 pJ per 32-bit float add, 4.6 pJ per multiply-add.
    public static let cmos45 = EnergyPreset(name: "cmos45 (0.9 pJ/AC, 4.6 pJ/MAC)", joulesPerSynapticOp: 0.9e-12, joulesPerMAC: 4.6e-12)
    /// Every preset, in the order reports list them.
    public static let all = [rolls, cmos45]
}

/// Energy of the spiking network after T steps against the ANN, per image.
public struct EnergyComparison: Sendable, Codable, Equatable {
    /// The preset's name.
    public var preset: String
    /// The number of time steps the SNN ran.
    public var steps: Int
    /// The SNN's energy per image: synaptic operations plus the analog first layer's MACs at every step.
    public var snnJoules: Double
    /// The ANN's energy per image: its MACs once.
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
