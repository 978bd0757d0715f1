/// The clip-ANN distance diagnostics of a neuron layer, computed inside its update loop:
/// each neuron's output sum grows as it fires, and at a checkpoint T each work item adds
/// sum |output sum / T - clip activation| over its own neurons, so no extra pass over the
/// layer's outputs is made. Sums and activations are laid out like the membranes.
struct GapProbe {
    let sums: UnsafeMutablePointer<Float>
    let reference: UnsafePointer<Float>

    @inline(__always)
    func add(_ spike: SIMD16<Float>, at i: Int) {
        let p = UnsafeMutableRawPointer(sums + i)
        p.storeBytes(of: p.loadUnaligned(as: SIMD16<Float>.self) + spike, as: SIMD16<Float>.self)
    }

    /// sum over `range` of |sums / step - reference|, accumulated in double precision.
    func gap(_ range: Range<Int>, step: Int) -> Double {
        let scale = 1 / Float(step)
        var wide = SIMD8<Double>(), i = range.lowerBound
        while i + 16 <= range.upperBound {
            let d = UnsafeRawPointer(sums + i).loadUnaligned(as: SIMD16<Float>.self) * scale
                - UnsafeRawPointer(reference + i).loadUnaligned(as: SIMD16<Float>.self)
            let magnitude = d.replacing(with: -d, where: d .< 0)
            wide += SIMD8<Double>(magnitude.lowHalf) + SIMD8<Double>(magnitude.highHalf)
            i += 16
        }
        var total = wide.sum()
        while i < range.upperBound { total += Double(abs(sums[i] * scale - reference[i])); i += 1 }
        return total
    }

    /// Runs `body` with the layer's probe (nil without diagnostics) and the gap partials.
    static func with(_ layer: IFLayerState, _ gaps: inout [Double], _ body: (GapProbe?, UnsafeMutablePointer<Double>) -> Void) {
        precondition(!gaps.isEmpty, "hold at least one partial")
        gaps.withUnsafeMutableBufferPointer { g in
            guard layer.reference != nil, !layer.outputSum.isEmpty else { return body(nil, g.baseAddress!) }
            layer.outputSum.withUnsafeMutableBufferPointer { s in
                layer.referenceValues.withUnsafeBufferPointer { r in
                    body(GapProbe(sums: s.baseAddress!, reference: r.baseAddress!), g.baseAddress!)
                }
            }
        }
    }

    /// Which steps of a chunk are checkpoints (in order), for a layer that has done
    /// `spikesPerStep.count` steps so far.
    struct Schedule {
        let first: Int
        let checkpoints: [Int]

        init(layer: IFLayerState, steps: Int, items: Int) {
            first = layer.spikesPerStep.count
            checkpoints = layer.reference == nil ? [] : ((first + 1)...(first + steps)).filter { layer.checkpoints.contains($0) }
        }

        var count: Int { checkpoints.count }
        /// The checkpoint number of step `t` of the chunk (0-based), if it is one.
        func index(ofStep t: Int) -> Int? { checkpoints.firstIndex(of: first + t + 1) }
        func step(_ k: Int) -> Int { checkpoints[k] }
    }
}
