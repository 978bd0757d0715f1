import Foundation
import Testing
@testable import SNNKit
@testable import SNNNIR

/// A Conv node reading `input` with the weights `name.w` and bias `name.b`, padded to keep
/// the size at stride 1.
func testConv(_ name: String, _ input: String, _ output: String, kernel k: Int, stride: Int = 1) -> Node {
    Node(name: name, op: .conv(.init(kernelShape: [k, k], strides: [stride, stride], dilations: [1, 1],
                                     pads: [k / 2, k / 2, k / 2, k / 2], autoPad: .notSet, group: 1)),
         inputs: [input, name + ".w", name + ".b"], outputs: [output])
}

/// Random weights (x 0.5) and biases (x 0.1 + 0.05) of the given shapes; a bias has the
/// size of the output channels, axis 0 (axis 1 for the names in `transposed`).
func testWeights(_ shapes: [(String, [Int])], transposed: Set<String> = [], seed: UInt64) -> [String: Constant] {
    var g = KernelTests.Generator(state: seed)
    var constants = [String: Constant]()
    for (name, shape) in shapes {
        constants[name + ".w"] = .float(Tensor(shape: shape, storage: g.array(shape.reduce(1, *)).map { $0 * 0.5 }))
        let out = transposed.contains(name) ? shape[1] : shape[0]
        constants[name + ".b"] = .float(Tensor(shape: [out], storage: g.array(out).map { $0 * 0.1 + 0.05 }))
    }
    return constants
}

/// `ann` converted with LTB on four batches of eight random images of `imageShape`.
func convertedOnRandomImages(_ ann: Graph, imageShape: [Int], seed: UInt64) throws -> Graph {
    var options = ConversionOptions()
    options.budget = .fixed(4)
    let calibration = InMemoryBatches((0..<4).map { TestData.batch([8] + imageShape, seed: seed + UInt64($0)) })
    return try Converter(options: options).convert(ann, calibration: calibration).graph
}

/// A converted residual network with what NIR export must handle: an identity shortcut
/// from one neuron layer into the Add before another (scales that meet), a strided
/// convolution, global average pooling, Flatten and a Gemm readout.
func residualNetwork() throws -> Graph {
    var constants = testWeights([("c1", [8, 3, 3, 3]), ("c2", [8, 8, 3, 3]), ("c3", [16, 8, 3, 3])], seed: 11)
    var g = KernelTests.Generator(state: 12)
    constants["fc.w"] = .float(Tensor(shape: [5, 16], storage: g.array(80)))
    constants["fc.b"] = .float(Tensor(shape: [5], storage: g.array(5).map { $0 * 0.1 }))
    let ann = Graph(name: "residual", nodes: [
        testConv("c1", "x", "a1", kernel: 3), Node(name: "r1", op: .relu, inputs: ["a1"], outputs: ["h1"]),
        testConv("c2", "h1", "a2", kernel: 3), Node(name: "add", op: .binary(.add), inputs: ["a2", "h1"], outputs: ["s2"]),
        Node(name: "r2", op: .relu, inputs: ["s2"], outputs: ["h2"]),
        testConv("c3", "h2", "a3", kernel: 3, stride: 2), Node(name: "r3", op: .relu, inputs: ["a3"], outputs: ["h3"]),
        Node(name: "gap", op: .globalAveragePool, inputs: ["h3"], outputs: ["p"]),
        Node(name: "flat", op: .flatten(axis: 1), inputs: ["p"], outputs: ["f"]),
        Node(name: "fc", op: .gemm(.init(transB: true)), inputs: ["f", "fc.w", "fc.b"], outputs: ["y"]),
    ], inputs: [ValueInfo(name: "x", dimensions: [.symbolic("N"), .fixed(3), .fixed(6), .fixed(6)])],
    outputs: [ValueInfo(name: "y", dimensions: nil)], constants: constants)
    return try convertedOnRandomImages(ann, imageShape: [3, 6, 6], seed: 60)
}

/// A converted decoder: c1 -> r1 (8 x 8) -> c2 (stride 2) -> r2 (4 x 4) -> ConvTranspose t
/// (x2) + r1's spikes -> r3 -> nearest Upsample of r2 (x2) concatenated with r3 -> c4 (1x1,
/// the readout). Folding and quantizing must follow spikes through all three.
func decoderNetwork() throws -> Graph {
    var constants = testWeights([("c1", [16, 3, 3, 3]), ("c2", [16, 16, 3, 3]), ("t", [16, 16, 2, 2]), ("c4", [4, 32, 1, 1])],
                                transposed: ["t"], seed: 23)
    constants["up.scales"] = .float(Tensor(shape: [4], storage: [1, 1, 2, 2]))
    let nearest = Resize.Options(mode: .nearest, mapping: .asymmetric, rounding: .floor)
    let ann = Graph(name: "decoder", nodes: [
        testConv("c1", "x", "a1", kernel: 3), Node(name: "r1", op: .relu, inputs: ["a1"], outputs: ["h1"]),
        testConv("c2", "h1", "a2", kernel: 3, stride: 2), Node(name: "r2", op: .relu, inputs: ["a2"], outputs: ["h2"]),
        Node(name: "t", op: .convTranspose(.init(kernelShape: [2, 2], strides: [2, 2], dilations: [1, 1], pads: [0, 0, 0, 0],
                                                autoPad: .notSet, group: 1)), inputs: ["h2", "t.w", "t.b"], outputs: ["a3"]),
        Node(name: "add", op: .binary(.add), inputs: ["a3", "h1"], outputs: ["s3"]),
        Node(name: "r3", op: .relu, inputs: ["s3"], outputs: ["h3"]),
        Node(name: "up", op: .upsample(nearest), inputs: ["h2", "up.scales"], outputs: ["u2"]),
        Node(name: "cat", op: .concat(axis: 1), inputs: ["u2", "h3"], outputs: ["c"]),
        testConv("c4", "c", "y", kernel: 1),
    ], inputs: [ValueInfo(name: "x", dimensions: [.symbolic("N"), .fixed(3), .fixed(8), .fixed(8)])],
    outputs: [ValueInfo(name: "y", dimensions: nil)], constants: constants)
    return try convertedOnRandomImages(ann, imageShape: [3, 8, 8], seed: 70)
}

@Suite struct NIRExportTests {
    /// Spike counts per layer and outputs of two simulations of the same input.
    func simulate(_ graph: Graph, _ x: Tensor, steps: Int = 48, reset: ResetMode = .subtract) throws -> ([String: Double], Tensor) {
        var options = SimulationOptions(timeSteps: steps)
        options.reset = reset
        let result = try Simulator(graph: graph, inputShape: x.shape, options: options).run(x)
        let spikes = Dictionary(uniqueKeysWithValues: result.layers.map { ($0.node, $0.spikesPerStep.reduce(0, +)) })
        return (spikes, try result.outputs(from: 0, to: steps)[graph.outputs[0].name]!)
    }

    /// Folding is exact: the folded network (unit thresholds, rescales where scales meet)
    /// fires the same spikes and gives the same outputs, up to float rounding at ties.
    @Test(arguments: ["residual", "decoder", "net_b_resnet_blocks", "net_c_vgg"], [ResetMode.subtract, .zero])
    func foldedThresholdsFireTheSameSpikes(_ name: String, _ reset: ResetMode) throws {
        let graph: Graph, x: Tensor
        if name == "residual" {
            graph = try residualNetwork()
            x = TestData.batch([3, 3, 6, 6], seed: 5)
        } else if name == "decoder" {
            graph = try decoderNetwork()
            x = TestData.batch([3, 3, 8, 8], seed: 5)
            let folded = try graph.foldingThresholds(shapes: NIRExporter.plannedShapes(graph))
            #expect(!folded.nodes.contains { $0.op == .binary(.mul) && ($0.outputs[0].contains("u2") || $0.outputs[0].contains("a3")) },
                    "the scales pass through the upsampling and into the ConvTranspose's weights, without rescales")
        } else {
            let (converted, shape) = try SimulationTests().converted(name)
            graph = converted
            x = TestData.batch([3] + shape.dropFirst(), seed: 5)
        }
        let folded = try graph.foldingThresholds(shapes: NIRExporter.plannedShapes(graph))
        #expect(folded.neuronLayers().allSatisfy { layer in folded.floatConstant(layer.threshold)!.storage.allSatisfy { $0 == 1 } })
        #expect(graph.neuronLayers().contains { layer in graph.floatConstant(layer.threshold)!.storage.contains { $0 != 1 } },
                "the original thresholds are not all 1 already")
        let (spikes, outputs) = try simulate(graph, x, reset: reset)
        let (foldedSpikes, foldedOutputs) = try simulate(folded, x, reset: reset)
        #expect(spikes.keys.sorted() == foldedSpikes.keys.sorted())
        for (layer, count) in spikes {
            #expect(abs(count - foldedSpikes[layer]!) <= 0.002 * max(count, 1), "\(layer): \(count) vs \(foldedSpikes[layer]!) spikes")
        }
        #expect(relativeError(outputs, foldedOutputs) <= 1e-3)
    }

    /// The identity shortcut gets a rescale by theta(r1) / theta(r2) per channel, and the
    /// exported graph sums both branches into r2 by edges.
    @Test func residualNetworkMapsToNIRNodesAndFanInEdges() throws {
        let graph = try residualNetwork()
        let nir = try NIRExporter.export(graph, model: "residual")
        let types = Dictionary(uniqueKeysWithValues: nir.nodes.map { ($0.name, $0.node.type) })
        #expect(types["input"] == "Input" && types["output"] == "Output")
        #expect(types["c1"] == "Conv2d" && types["c3"] == "Conv2d" && types["fc"] == "Affine" && types["gap"] == "AvgPool2d")
        #expect(types["flat"] == "Flatten")
        #expect(["r1", "r2", "r3"].allSatisfy { types[$0] == "IF" })
        let intoR2 = Set(nir.edges.filter { $0.to == "r2" }.map(\.from))
        #expect(intoR2.count == 2 && intoR2.contains("c2"), "both branches of the Add feed r2: \(intoR2)")
        let theta = { (node: String) in graph.floatConstant(graph.nodes.first { $0.name == node }!.inputs[1])!.storage }
        let rescale = try #require(intoR2.first { $0 != "c2" })
        guard case .floats(let diagonal, let shape)? = nir[rescale]?.parameters["weight"] else { Issue.record("no rescale weight"); return }
        #expect(shape == [8, 8, 1, 1])
        for c in 0..<8 { #expect(abs(diagonal[c * 8 + c] - theta("r1")[c] / theta("r2")[c]) <= 1e-6 * diagonal[c * 8 + c]) }
        // c1's weights divided by r1's thresholds per output channel (its input is the image).
        guard case .floats(let w1, _)? = nir["c1"]?.parameters["weight"], case .float(let original)? = graph.constants["c1.w"] else {
            Issue.record("no c1 weights"); return
        }
        for o in 0..<8 {
            for j in 0..<27 { #expect(abs(w1[o * 27 + j] - original.storage[o * 27 + j] / theta("r1")[o]) <= 1e-6) }
        }
        guard case .floats(let ones, let ifShape)? = nir["r3"]?.parameters["v_threshold"] else { Issue.record("no r3 threshold"); return }
        #expect(ifShape == [16, 3, 3] && ones.allSatisfy { $0 == 1 })
        #expect(nir["r3"]?.metadata["snnkit.reset"] == .string("subtract"))
        #expect(nir.metadata["snnkit.initial_potential"] == .float(0.5))
    }

    /// Calibrated initial potentials (one per channel) travel in each IF node's metadata,
    /// and the graph's entry points there rather than stating one ratio.
    @Test func calibratedPotentialsAreNamedPerNode() throws {
        let graph = LowLatencyTests().withPerChannelPotentials(try residualNetwork(), seed: 4)
        let nir = try NIRExporter.export(graph, model: "residual")
        for name in ["r1", "r2", "r3"] {
            let node = try #require(graph.nodes.first { $0.name == name })
            let ratios = try #require(graph.initialPotentialRatios(of: node))
            #expect(nir[name]?.metadata["snnkit.initial_potential"] == .floats(ratios, shape: [ratios.count]), "\(name)")
        }
        #expect(nir.metadata["snnkit.initial_potential"] == .string("calibrated per channel: each IF node's snnkit.initial_potential"))
    }

    @Test(arguments: [("net_c_vgg", "MaxPool"), ("net_a_classifier", "MaxPool"), ("net_d_segmentation", "ConvTranspose"),
                      ("net_e_dense_block", "Concat")])
    func whatNIRCannotExpressIsRefusedNamingTheNode(_ name: String, _ expected: String) throws {
        let (graph, _) = try SimulationTests().converted(name)
        let error = #expect(throws: NIRExportError.self) { try NIRExporter.export(graph, model: name) }
        guard case .unsupported(let node, let op, _)? = error else { Issue.record("wrong error \(String(describing: error))"); return }
        #expect(op == expected && graph.nodes.contains { $0.name == node && $0.op.onnxType == expected }, "\(error!)")
        if expected == "MaxPool" { #expect("\(error!)".contains("average pooling")) }
    }

    @Test func anUnconvertedModelIsRefused() throws {
        let (graph, _) = try TestData.model("net_b_resnet_blocks")
        let error = #expect(throws: NIRExportError.self) { try NIRExporter.export(graph, model: "plain.onnx") }
        #expect(error == .notConverted(model: "plain.onnx"))
        #expect("\(error!)".contains("snnkit convert"))
    }

    @Test func aMissingLibraryNamesThePackage() throws {
        let error = #expect(throws: NIRExportError.self) { try HDF5Library.load(names: ["/nonexistent/libhdf5.so.103"]) }
        #expect("\(error!)".contains("libhdf5") && "\(error!)".contains("apt-get install"))
    }

    @Test(.enabled(if: NIRChecks.hdf5Loads, "libhdf5 is not installed (apt-get install libhdf5-dev)"))
    func anUnwritableFolderLeavesNoFile() throws {
        let nir = try NIRExporter.export(try residualNetwork(), model: "residual")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("snnkit-nir-\(UUID().uuidString)")
        let target = folder.appendingPathComponent("missing").appendingPathComponent("model.nir")
        #expect(throws: OutputError.self) { try NIRFile.write(nir, to: target) }
        #expect(!FileManager.default.fileExists(atPath: target.deletingLastPathComponent().path))
    }

    /// The reference reader (Python `nir`) loads the exported files and finds the folded
    /// weights equal to the ONNX model's with the thresholds folded in (Scripts/check_nir.py).
    @Test(.enabled(if: NIRChecks.pythonReaderAvailable, NIRChecks.pythonSkipReason))
    func theReferenceReaderLoadsTheFiles() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("snnkit-nir-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let fixture = Fixtures.root.appendingPathComponent("conversion/net_b_resnet_blocks.snn.onnx")
        let converted = try ONNXImporter.load(contentsOf: fixture)
        let out = folder.appendingPathComponent("net_b.nir")
        try NIRFile.write(try NIRExporter.export(converted, model: fixture.path), to: out)
        let (status, output) = try NIRChecks.run(["Scripts/check_nir.py", out.path, "--onnx", fixture.path])
        #expect(status == 0, "\(output)")
        #expect(output.contains("all checks passed"))
        // The residual network (with a rescale node), written without an ONNX counterpart.
        let residual = folder.appendingPathComponent("residual.nir")
        try NIRFile.write(try NIRExporter.export(try residualNetwork(), model: "residual"), to: residual)
        let (residualStatus, residualOutput) = try NIRChecks.run(["Scripts/check_nir.py", residual.path])
        #expect(residualStatus == 0, "\(residualOutput)")
    }
}

/// What the NIR tests need from the machine, with the reason when it is missing.
enum NIRChecks {
    static let hdf5Loads = (try? HDF5Library.shared()) != nil

    /// SNNKIT_PYTHON, else python3 on PATH.
    static let python = ProcessInfo.processInfo.environment["SNNKIT_PYTHON"] ?? "python3"

    static let pythonReaderAvailable: Bool = {
        guard hdf5Loads else { return false }
        let available = (try? run(["-c", "import nir, h5py, numpy, onnx"]).status) == 0
        if !available { print("NIR reader check skipped: \(pythonSkipReason)") }
        return available
    }()

    static var pythonSkipReason: Comment {
        hdf5Loads ? "\(python) cannot import nir, h5py, numpy and onnx (pip install nir h5py onnx; SNNKIT_PYTHON names another Python)"
            : "libhdf5 is not installed (apt-get install libhdf5-dev)"
    }

    /// Runs Python with `arguments` from the package root; returns its status and output.
    static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python] + arguments
        process.currentDirectoryURL = Fixtures.root.deletingLastPathComponent().deletingLastPathComponent()
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
