import ArgumentParser
import Foundation
import SNNBenchmarking
import SNNKit

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure SNNKit's speed. Peer comparisons: Benchmarks/ann_peers.py runs PyTorch and onnxruntime beside it.",
        subcommands: [BenchANN.self, BenchSNN.self, BenchGEMM.self, BenchAMX.self])
}

/// Wall-clock timing helpers shared by the benchmarks.
enum Stopwatch {
    static func seconds(_ body: () throws -> Void) rethrows -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
    }

    static func median(_ values: [Double]) -> Double {
        let s = values.sorted()
        return s.isEmpty ? 0 : s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}

struct BenchANN: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ann",
        abstract: "Images per second and GFLOP/s of the ANN forward pass on random input.",
        discussion: "Example: snnkit bench ann resnet18.onnx --batch 8 --threads 2 --iterations 10")

    @Argument(help: "ONNX model file.")
    var model: String

    @Option(name: .long, help: "Batch size.")
    var batch: Int = 8

    @Option(name: .long, help: "Input shape without the batch axis is taken from the model; override the whole shape here.")
    var inputShape: ShapeArgument?

    @Option(name: .long, help: "Timed iterations (after 2 warm-up runs).")
    var iterations: Int = 10

    @Flag(name: .long, help: "Also print where the time goes, per operator type.")
    var profile = false

    @OptionGroup var common: CommonOptions

    struct Report: Encodable {
        var model: String
        var batch: Int
        var threads: Int
        var iterations: Int
        var medianSeconds: Double
        var imagesPerSecond: Double
        var gflopsPerSecond: Double
        var macsPerImage: Int
    }

    func run() throws {
        try common.apply()
        guard batch > 0, iterations > 0 else { throw ValidationError("--batch and --iterations must be positive") }
        try Failure.run {
            let graph = try ModelLoader.load(model).simplifiedForInference()
            let shapes = try ModelLoader.inputShapes(graph, given: inputShape, batch: batch)
            let plan = try ModelLoader.plan(graph, shapes)
            var generator = SystemRandomNumberGenerator()
            var feeds = [String: Tensor]()
            for (name, shape) in shapes {
                feeds[name] = Tensor(shape: shape, storage: (0..<shape.reduce(1, *)).map { _ in Float.random(in: -1...1, using: &generator) })
            }
            for _ in 0..<2 { _ = try plan.run(feeds) }
            var times = [Double]()
            for _ in 0..<iterations { times.append(try Stopwatch.seconds { _ = try plan.run(feeds) }) }
            let median = Stopwatch.median(times)
            let macs = plan.layerCosts().reduce(0) { $0 + $1.macs }
            let images = shapes[graph.runtimeInputs[0].name]![0]
            let report = Report(model: model, batch: images, threads: Parallel.threads, iterations: iterations, medianSeconds: median,
                                imagesPerSecond: Double(images) / median, gflopsPerSecond: 2 * Double(macs) / median / 1e9,
                                macsPerImage: macs / max(images, 1))
            if profile && !common.json { try printProfile(plan, feeds: feeds) }
            if common.json {
                try JSONOutput.print(report)
            } else {
                print(String(format: "%@  batch %d  threads %d: %.1f images/s, %.1f GFLOP/s (median of %d, %.1f ms per batch)",
                             model, images, report.threads, report.imagesPerSecond, report.gflopsPerSecond, iterations, median * 1000))
            }
        }
    }
}

extension BenchANN {
    /// The operator type, and for a convolution its kind and kernel ("Conv depthwise 3x3").
    static func profileLabel(_ node: Node, _ graph: Graph) -> String {
        guard let kind = ConvolutionKind(node: node, in: graph), let w = node.input(1).flatMap({ graph.constants[$0]?.shape }) else {
            return node.op.onnxType
        }
        return "Conv \(kind.rawValue) \(w[2])x\(w[3])"
    }

    /// Time between consecutive node completions, summed per operator type (convolutions per kind).
    func printProfile(_ plan: ExecutionPlan, feeds: [String: Tensor]) throws {
        var totals = [String: Double]()
        var last = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<iterations {
            last = DispatchTime.now().uptimeNanoseconds
            _ = try plan.run(feeds, observe: { node, _ in
                let now = DispatchTime.now().uptimeNanoseconds
                totals[Self.profileLabel(plan.graph.nodes[node], plan.graph), default: 0] += Double(now - last) * 1e-9
                last = now
            })
        }
        let all = totals.values.reduce(0, +)
        var table = TextTable(["operator", "ms per run", "share"])
        for (op, t) in totals.sorted(by: { $0.value > $1.value }) {
            table.add([op, String(format: "%.2f", t / Double(iterations) * 1000), String(format: "%.1f%%", t / all * 100)])
        }
        print(table.render())
    }
}

struct BenchGEMM: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm",
        abstract: "GEMM GFLOP/s at convolution-like sizes against this core's measured FMA peak.")

    @OptionGroup var common: CommonOptions

    struct Row: Encodable {
        var m: Int, n: Int, k: Int
        var threads: Int
        var gflopsPerSecond: Double
        var fractionOfPeak: Double
    }

    struct Report: Encodable {
        var singleCorePeakGflops: Double
        var rows: [Row]
    }

    func run() throws {
        try common.apply()
        let peak = ArithmeticPeak.measureSingleCore() / 1e9
        let threads = Parallel.threads
        var rows = [Row]()
        for (m, n, k) in [(64, 3136, 576), (128, 784, 1152), (256, 196, 2304), (512, 49, 4608), (1024, 1024, 1024)] {
            var g = SystemRandomNumberGenerator()
            let a = (0..<(m * k)).map { _ in Float.random(in: -1...1, using: &g) }
            let b = (0..<(k * n)).map { _ in Float.random(in: -1...1, using: &g) }
            var c = [Float](repeating: 0, count: m * n)
            let lhs = a.withUnsafeBufferPointer { PackedLHS(rows: m, depth: k, source: $0.baseAddress!, rowStride: k, depthStride: 1) }
            let rhs = b.withUnsafeBufferPointer { PackedRHS(depth: k, columns: n, source: $0.baseAddress!, depthStride: n, columnStride: 1) }
            var times = [Double]()
            for _ in 0..<7 {
                times.append(Stopwatch.seconds { c.withUnsafeMutableBufferPointer { GEMM.multiply(lhs: lhs, rhs: rhs, c: $0.baseAddress!, ldc: n) } })
            }
            let gflops = 2 * Double(m * n * k) / (times.min() ?? 1) / 1e9
            rows.append(Row(m: m, n: n, k: k, threads: threads, gflopsPerSecond: gflops, fractionOfPeak: gflops / (peak * Double(threads))))
        }
        let report = Report(singleCorePeakGflops: peak, rows: rows)
        if common.json { try JSONOutput.print(report); return }
        print(String(format: "measured FMA peak: %.1f GFLOP/s per core (x%d threads = %.1f)", peak, threads, peak * Double(threads)))
        var table = TextTable(["M", "N", "K", "GFLOP/s", "of peak"], leftAligned: [])
        for r in rows { table.add(["\(r.m)", "\(r.n)", "\(r.k)", String(format: "%.1f", r.gflopsPerSecond), String(format: "%.0f%%", r.fractionOfPeak * 100)]) }
        print(table.render())
    }
}

struct BenchAMX: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "amx",
        abstract: "Nanoseconds per AMX int8 tile product: the tile unit's peak and the matrix kernel's product, with its recombination into floats, at given shapes (one thread).",
        discussion: """
            The default shapes are the products the simulator runs per work item: M = 256 rows (output \
            pixels x steps), K = taps x input channels (im2col bytes, rounded up to 64), N = 3 x output \
            channels (three weight bytes each). Example: snnkit bench amx --shapes 256x1152x384,256x2304x768
            """)

    @Option(name: .long, help: "Products as MxKxN, comma-separated.")
    var shapes: String = "256x320x96,256x576x192,256x576x384,256x1152x384,256x2304x768"

    @Option(name: .long, help: "Timed repetitions per shape (the best is kept).")
    var repetitions: Int = 10

    @OptionGroup var common: CommonOptions

    struct Row: Encodable {
        var m: Int, k: Int, n: Int
        var nanosecondsPerTileProduct: Double
        var fractionOfPeak: Double
    }

    struct Report: Encodable {
        var peakNanosecondsPerTileProduct: Double
        var rows: [Row]
    }

    func run() throws {
        try common.apply()
        guard repetitions > 0 else { throw ValidationError("--repetitions must be at least 1") }
        let parsed = try shapes.split(separator: ",").map { text -> (Int, Int, Int) in
            let d = text.split(separator: "x").compactMap { Int($0) }
            guard d.count == 3, d.allSatisfy({ $0 > 0 }) else { throw ValidationError("--shapes: '\(text)' is not MxKxN with positive sizes") }
            return (d[0], d[1], d[2])
        }
        guard let peak = AMXProductTiming.peakNanoseconds() else {
            throw ValidationError("this CPU or kernel gives no AMX int8 tiles (or SNNKIT_NO_AMX is set): nothing to time")
        }
        let rows = parsed.map { (m, k, n) -> Row in
            let ns = AMXProductTiming.productNanoseconds(m: m, k: k, n: n, repetitions: repetitions) ?? 0
            return Row(m: m, k: k, n: n, nanosecondsPerTileProduct: ns, fractionOfPeak: ns > 0 ? peak / ns : 0)
        }
        let report = Report(peakNanosecondsPerTileProduct: peak, rows: rows)
        if common.json { try JSONOutput.print(report); return }
        print(String(format: "tile unit peak (operands in registers): %.2f ns per 16x16x64 tile product", peak))
        var table = TextTable(["M", "K", "N", "ns per tile product", "of peak"], leftAligned: [])
        for r in rows {
            table.add(["\(r.m)", "\(r.k)", "\(r.n)", String(format: "%.2f", r.nanosecondsPerTileProduct), String(format: "%.0f%%", r.fractionOfPeak * 100)])
        }
        print(table.render())
    }
}

struct BenchSNN: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snn",
        abstract: "Images x steps per second of the spiking simulation of a converted model, on random normal input.",
        discussion: """
        The input is standard-normal noise of the model's input shape (a fixed seed), which fires about as densely as
        normalised images. Benchmarks/snn_peers.py runs the same converted network in PyTorch beside it.
        Example: snnkit bench snn vgg11.snn.onnx --batch 32 -T 32 --threads 2
        """)

    @Argument(help: "Converted model (.snn.onnx from snnkit convert).")
    var model: String

    @Option(name: .long, help: "Batch size.")
    var batch: Int = 32

    @Option(name: [.customShort("T"), .long], help: "Time steps.")
    var timeSteps: Int = 32

    @Option(name: .long, help: "Steps per layer chunk.")
    var chunk: Int = 16

    @Option(name: .long, help: "Timed runs.")
    var iterations: Int = 3

    @Option(name: .customLong("samples-per-core"), help: "Samples one core carries through the network at a time.")
    var samplesPerCore: Int = SimulationOptions(timeSteps: 1).shardSize

    @Flag(name: .long, help: "Also print where the time goes, per operator type.")
    var profile = false

    @Option(name: .long, help: "Convolution kernel in the spiking part: auto (by input density), dense, events, tables or matrix (AMX int8 tiles where the CPU has them).")
    var kernel: ConvolutionKernel = .auto

    @Option(name: .customLong("table-crossover"), help: "With --kernel auto: a convolution fed by neurons runs event-driven when its estimated event work is below this fraction of the table work (see SimulationOptions.tableCrossover).")
    var tableCrossover: Double = SimulationOptions(timeSteps: 1).tableCrossover

    @Option(name: .customLong("matrix-crossover"), help: "With --kernel auto and AMX: a convolution of 128+ output channels that would run event-driven runs the matrix product once input density x the share of taps inside the input reaches this (see SimulationOptions.matrixCrossover).")
    var matrixCrossover: Double = SimulationOptions(timeSteps: 1).matrixCrossover

    @OptionGroup var common: CommonOptions

    struct Report: Encodable {
        var model: String
        var batch: Int
        var timeSteps: Int
        var threads: Int
        var medianSeconds: Double
        /// All timed runs' mean: what a script comparing with one long run of a peer should use.
        var meanSeconds: Double
        var imageStepsPerSecond: Double
        var synapticOpsPerSecond: Double
        var spikesPerNeuronPerStep: Double
        /// Adds per second one core can do (its measured FMA lanes per second): a synaptic
        /// operation is one add, so this times the threads is the arithmetic floor.
        var addsPerSecondPerCore: Double
        /// Image-steps per second at that floor, and the run's share of it.
        var floorImageStepsPerSecond: Double
        var fractionOfFloor: Double
        /// Multiply-adds per image-step of the convolutions that run dense at every step, by
        /// kind (`Simulator.denseWorkPerSampleStep`): none in VGG or ResNet, MobileNet's
        /// depthwise and expansion layers.
        var denseMultiplyAddsPerImageStep: [String: Int]
        /// The floor counting those multiply-adds too, one lane each like a synaptic add,
        /// and the run's share of it: the floor of a network with dense layers.
        var floorWithDenseImageStepsPerSecond: Double
        var fractionOfFloorWithDense: Double
    }

    func run() throws {
        try common.apply()
        guard batch > 0, timeSteps > 0, iterations > 0, samplesPerCore > 0 else { throw ValidationError("--batch, -T, --iterations and --samples-per-core must be positive") }
        try Failure.run {
            let graph = try ModelLoader.load(model)
            let shapes = try ModelLoader.inputShapes(graph, given: nil, batch: batch)
            let shape = shapes[graph.runtimeInputs[0].name]!
            var options = SimulationOptions(timeSteps: timeSteps, checkpoints: [timeSteps])
            options.chunk = chunk
            options.shardSize = samplesPerCore
            options.keepEveryStep = false
            options.collectTimings = profile
            options.convolutionKernel = kernel
            options.tableCrossover = tableCrossover
            options.matrixCrossover = matrixCrossover
            // An integer SNN's membranes saturate at its state width.
            options.membraneBounds = try ConvertedModel(graph).membraneBounds
            let simulator = try Simulator(graph: graph, inputShape: shape, options: options)
            var state: UInt64 = 42
            let x = Tensor(shape: shape, storage: (0..<shape.reduce(1, *)).map { _ in
                state = state &* 6364136223846793005 &+ 1442695040888963407
                let u1 = Double((state >> 11) & 0xFFFFF) / Double(0x100000) + 1e-7
                state = state &* 6364136223846793005 &+ 1442695040888963407
                let u2 = Double((state >> 11) & 0xFFFFF) / Double(0x100000)
                return Float((-2 * log(u1)).squareRoot() * cos(2 * .pi * u2))
            })
            var last: SimulationResult? = nil
            _ = try simulator.run(x)
            var times = [Double]()
            for _ in 0..<iterations { times.append(try Stopwatch.seconds { last = try simulator.run(x) }) }
            let median = Stopwatch.median(times)
            let layers = last?.layers ?? []
            let ops = layers.reduce(0.0) { $0 + $1.synapticOpsPerStep.reduce(0, +) }
            let spikes = layers.reduce(0.0) { $0 + $1.spikesPerStep.reduce(0, +) }
            let neurons = Double(layers.reduce(0) { $0 + $1.neurons })
            // Measured after the timed runs, so they do not share the cores with it.
            let adds = ArithmeticPeak.measureSingleCore() / 2
            let opsPerImageStep = ops / Double(batch * timeSteps)
            let floor = opsPerImageStep > 0 ? adds * Double(Parallel.threads) / opsPerImageStep : 0
            let dense = simulator.denseWorkPerSampleStep
            let denseMACs = Double(dense.values.reduce(0, +))
            let floorWithDense = opsPerImageStep + denseMACs > 0 ? adds * Double(Parallel.threads) / (opsPerImageStep + denseMACs) : 0
            let rate = Double(batch * timeSteps) / median
            let report = Report(model: model, batch: batch, timeSteps: timeSteps, threads: Parallel.threads, medianSeconds: median,
                                meanSeconds: times.reduce(0, +) / Double(times.count), imageStepsPerSecond: rate, synapticOpsPerSecond: ops / median,
                                spikesPerNeuronPerStep: spikes / max(neurons * Double(batch * timeSteps), 1), addsPerSecondPerCore: adds,
                                floorImageStepsPerSecond: floor, fractionOfFloor: floor > 0 ? rate / floor : 0,
                                denseMultiplyAddsPerImageStep: Dictionary(uniqueKeysWithValues: dense.map { ($0.key.rawValue, $0.value) }),
                                floorWithDenseImageStepsPerSecond: floorWithDense,
                                fractionOfFloorWithDense: floorWithDense > 0 ? rate / floorWithDense : 0)
            if common.json { try JSONOutput.print(report); return }
            if profile {
                let all = simulator.timings.values.reduce(0, +)
                var byType = [String: Double]()
                for (part, t) in simulator.timings { byType[part.hasPrefix("input") || part.hasPrefix("readout") ? part : String(part.prefix { $0 != " " }), default: 0] += t }
                for (title, parts) in [("part", byType), ("node (kernel when not dense)", simulator.timings)] {
                    var table = TextTable([title, "seconds", "share"])
                    for (part, t) in parts.sorted(by: { $0.value > $1.value }) where t >= 0.005 * all {
                        table.add([part, String(format: "%.3f", t), String(format: "%.1f%%", t / all * 100)])
                    }
                    print(table.render())
                }
            }
            print(String(format: "%@  batch %d  T %d  threads %d: %.0f image-steps/s, %.2f G synaptic ops/s, firing rate %.3f (median of %d, %.2f s)",
                         model, batch, timeSteps, report.threads, report.imageStepsPerSecond, report.synapticOpsPerSecond / 1e9,
                         report.spikesPerNeuronPerStep, iterations, median))
            print(String(format: "arithmetic floor: %.0f image-steps/s (%.2f M synaptic ops per image-step at %.1f G adds/s per core x %d); this run %.0f%% of it",
                         floor, opsPerImageStep / 1e6, adds / 1e9, report.threads, report.fractionOfFloor * 100))
            if denseMACs > 0 {
                let kinds = dense.sorted { $0.value > $1.value }.map { String(format: "%.2f M %@", Double($0.value) / 1e6, $0.key.rawValue) }
                print(String(format: "with the layers that run dense at every step (%@ multiply-adds per image-step): floor %.0f image-steps/s; this run %.0f%% of it",
                             kinds.joined(separator: ", "), floorWithDense, report.fractionOfFloorWithDense * 100))
            }
        }
    }
}
