import SNNAMX

/// The neuron equations of `IFLayerState`: the update of one value or 16 lanes, and the
/// per-chunk buffers it runs over.
extension IFLayerState {
    /// The buffers of one chunk. Offsets: `state` into the membrane, `input` into the
    /// currents and outputs, `parameters` into the per-value thresholds and fan-outs.
    struct Layer {
        /// The input current, read at an output's offset minus `zBack` (nonzero for a
        /// constant input, stored once for all steps).
        let z: UnsafePointer<Float>
        var zBack = 0
        let bypass: UnsafePointer<Float>?
        let out: UnsafeMutablePointer<Float>?
        let v: UnsafeMutablePointer<Float>
        let fan: UnsafePointer<Float>
        let theta: UnsafePointer<Float>
        /// Saturation bounds per value (offset as `theta`), nil for an unbounded membrane.
        var lower: UnsafePointer<Float>? = nil
        var upper: UnsafePointer<Float>? = nil
        let probe: GapProbe?
        /// Reset to 0 instead of subtracting theta (`ResetMode.zero`).
        var zeroReset = false
        /// Spikes a neuron may emit per step (`SimulationOptions.burst`).
        var burst = 1

        /// One step of `count` consecutive neurons; returns (spikes, synaptic operations).
        @inline(__always)
        func integrate(state: Int, input: Int, parameters: Int, count: Int) -> (Double, Double) {
            var lanes = Lanes()
            var i = 0
            while i + 16 <= count {
                _ = lanes.step16(self, state + i, input + i, parameters + i)
                i += 16
            }
            while i < count {
                _ = lanes.step1(self, state + i, input + i, parameters + i)
                i += 1
            }
            return lanes.totals
        }

        /// One step of `channels` (at most 8) consecutive planes of `inner` neurons, also
        /// writing each pixel's byte of spike bits.
        @inline(__always)
        func integrateGroup(state: Int, input: Int, channels: Int, inner: Int, parameters: Int,
                            patterns: UnsafeMutablePointer<UInt8>) -> (Double, Double) {
            var lanes = Lanes()
            if inner < 16 {
                // Planes smaller than a vector: run the group's values as one contiguous
                // range and send each fired lane's bit to its pixel.
                let count = channels * inner
                let lane = SIMD16<Int32>(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
                patterns.initialize(repeating: 0, count: inner)
                var i = 0
                while i < count {
                    if i + 16 <= count {
                        var fired = UInt32(SIMD16<Int32>().replacing(with: SIMD16(repeating: 1) &<< lane,
                                                                     where: lanes.step16(self, state + i, input + i, parameters + i)).wrappedSum())
                        while fired != 0 {
                            let k = i + fired.trailingZeroBitCount
                            patterns[k % inner] |= 1 << UInt8(k / inner)
                            fired &= fired - 1
                        }
                        i += 16
                    } else {
                        if lanes.step1(self, state + i, input + i, parameters + i) { patterns[i % inner] |= 1 << UInt8(i / inner) }
                        i += 1
                    }
                }
                return lanes.totals
            }
            // Whole runs of 16 pixels in C on the compares' masks (`snn_fire_planes`).
            var p = inner / 16 * 16
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 16) { weighted in
                let w = weighted.baseAddress!
                w.initialize(repeating: 0, count: 16)
                var group = snn_fire_planes_args(
                    channels: Int32(channels), inner: inner, z: z + (input &- zBack), bypass: bypass.map { $0 + input },
                    out: out.map { $0 + input }, v: v + state, probe: probe.map { $0.sums + state }, theta: theta + parameters,
                    fanout: fan + parameters, lower: lower.map { $0 + parameters }, upper: upper.map { $0 + parameters },
                    patterns: patterns, weighted: w, zero_reset: zeroReset ? 1 : 0)
                lanes.spikes += snn_fire_planes(&group)
                lanes.weighted = UnsafeRawPointer(w).loadUnaligned(as: SIMD16<Float>.self)
            }
            while p < inner {
                var bits: UInt8 = 0
                for j in 0..<channels where lanes.step1(self, state + j * inner + p, input + j * inner + p, parameters + j * inner + p) {
                    bits |= 1 << UInt8(j)
                }
                patterns[p] = bits
                p += 1
            }
            return lanes.totals
        }
    }

    /// The neuron update, 16 or 1 at a time, with the running spike and operation counts:
    /// v += I (+ the bypass current, summed first as the Add it replaces would); fire where
    /// v > theta; subtract theta where fired.
    struct Lanes {
        var weighted = SIMD16<Float>()
        var fired = SIMD16<Int32>()
        var spikes = 0
        var tail: Float = 0

        var totals: (Double, Double) { (Double(Int(fired.wrappedSum()) + spikes), Double(weighted.sum() + tail)) }

        /// The neuron update on 16 lanes, in place at `v`, counting what fired: returns the
        /// spikes (theta or 0) and which lanes fired. (`FusedSpikingLayer` runs the same
        /// equations in C on the compare's mask, `snn_fire_rows`.)
        @inline(__always)
        mutating func fire16(_ v: UnsafeMutablePointer<Float>, input: SIMD16<Float>, theta: SIMD16<Float>,
                             fanout: UnsafePointer<Float>, zeroReset: Bool = false,
                             bounds: (lower: SIMD16<Float>, upper: SIMD16<Float>)? = nil) -> (spike: SIMD16<Float>, fire: SIMDMask<SIMD16<Int32>>) {
            var potential = UnsafeRawPointer(v).loadUnaligned(as: SIMD16<Float>.self) + input
            if let bounds { potential = potential.clamped(lowerBound: bounds.lower, upperBound: bounds.upper) }
            let fire = potential .> theta
            let spike = SIMD16<Float>().replacing(with: theta, where: fire)
            UnsafeMutableRawPointer(v).storeBytes(of: zeroReset ? potential.replacing(with: 0, where: fire) : potential - spike, as: SIMD16<Float>.self)
            weighted += SIMD16<Float>().replacing(with: UnsafeRawPointer(fanout).loadUnaligned(as: SIMD16<Float>.self), where: fire)
            fired &+= SIMD16<Int32>().replacing(with: 1, where: fire)
            return (spike, fire)
        }

        /// `fire16` for burst neurons: fire while v > theta, up to `limit` times, each time
        /// subtracting theta (or resetting to 0, which ends the burst); the spike carries
        /// n x theta and each of the n counts. With `limit` 1 it computes what `fire16` does.
        @inline(__always)
        mutating func burst16(_ v: UnsafeMutablePointer<Float>, input: SIMD16<Float>, theta: SIMD16<Float>, fanout: UnsafePointer<Float>,
                              limit: Int, zeroReset: Bool,
                              bounds: (lower: SIMD16<Float>, upper: SIMD16<Float>)?) -> (spike: SIMD16<Float>, fire: SIMDMask<SIMD16<Int32>>) {
            var potential = UnsafeRawPointer(v).loadUnaligned(as: SIMD16<Float>.self) + input
            if let bounds { potential = potential.clamped(lowerBound: bounds.lower, upperBound: bounds.upper) }
            var count = SIMD16<Float>()
            for _ in 0..<limit {
                let fire = potential .> theta
                if !any(fire) { break }
                potential = zeroReset ? potential.replacing(with: 0, where: fire) : potential - SIMD16<Float>().replacing(with: theta, where: fire)
                count += SIMD16<Float>().replacing(with: 1, where: fire)
            }
            UnsafeMutableRawPointer(v).storeBytes(of: potential, as: SIMD16<Float>.self)
            weighted += count * UnsafeRawPointer(fanout).loadUnaligned(as: SIMD16<Float>.self)
            fired &+= SIMD16<Int32>(truncatingIfNeeded: SIMD16<Int32>(count))
            return (count * theta, count .> 0)
        }

        @inline(__always)
        mutating func step16(_ l: Layer, _ s: Int, _ x: Int, _ q: Int) -> SIMDMask<SIMD16<Int32>> {
            func load(_ p: UnsafePointer<Float>) -> SIMD16<Float> { UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self) }
            let input = l.bypass.map { load(l.z + (x &- l.zBack)) + load($0 + x) } ?? load(l.z + (x &- l.zBack))
            let bounds = l.lower.map { (load($0 + q), load(l.upper! + q)) }
            let (spike, fire) = l.burst > 1
                ? burst16(l.v + s, input: input, theta: load(l.theta + q), fanout: l.fan + q, limit: l.burst, zeroReset: l.zeroReset, bounds: bounds)
                : fire16(l.v + s, input: input, theta: load(l.theta + q), fanout: l.fan + q, zeroReset: l.zeroReset, bounds: bounds)
            if let out = l.out { UnsafeMutableRawPointer(out + x).storeBytes(of: spike, as: SIMD16<Float>.self) }
            l.probe?.add(spike, at: s)
            return fire
        }

        @inline(__always)
        mutating func step1(_ l: Layer, _ s: Int, _ x: Int, _ q: Int) -> Bool {
            var potential = l.v[s] + (l.bypass.map { l.z[x &- l.zBack] + $0[x] } ?? l.z[x &- l.zBack])
            if let lower = l.lower, let upper = l.upper { potential = min(max(potential, lower[q]), upper[q]) }
            var count = 0
            while count < l.burst && potential > l.theta[q] {
                potential = l.zeroReset ? 0 : potential - l.theta[q]
                count += 1
            }
            l.v[s] = potential
            let spike = Float(count) * l.theta[q]
            l.out?[x] = spike
            if count > 0 { spikes += count; tail += Float(count) * l.fan[q]; l.probe?.sums[s] += spike }
            return count > 0
        }
    }
}
