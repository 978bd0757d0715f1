import Testing
@testable import SNNKit
@testable import SNNSimulation

/// Reset to zero (`--reset zero`), against the reference simulator with the same reset, on
/// every kernel: unfused and fused neuron layers, residual bypasses, pooled layers, planes
/// smaller than a vector.
@Suite struct ResetModeTests {
    @Test(arguments: ["net_b_resnet_blocks", "net_c_vgg"], ConvolutionKernel.allCases)
    func resetToZeroMatchesTheReference(_ name: String, _ kernel: ConvolutionKernel) throws {
        let tests = SimulationTests()
        let (graph, shape) = try tests.converted(name)
        try tests.expectEngineMatchesTheReference(graph, input: TestData.batch([3] + shape.dropFirst(), seed: 7), kernel: kernel,
                                                  residual: name == "net_b_resnet_blocks", pooled: name == "net_c_vgg" && kernel != .dense,
                                                  reset: .zero)
    }

    @Test(arguments: ConvolutionKernel.allCases)
    func resetToZeroOnSmallPlanesMatchesTheReference(_ kernel: ConvolutionKernel) throws {
        let tests = SimulationTests()
        try tests.expectEngineMatchesTheReference(try tests.smallPlanesNetwork(), input: TestData.batch([3, 3, 3, 3], seed: 9), kernel: kernel,
                                                  reset: .zero)
    }

    /// The two resets differ on these networks, so the tests above can tell them apart.
    @Test func theResetsFireDifferently() throws {
        let (graph, shape) = try SimulationTests().converted("net_b_resnet_blocks")
        let x = TestData.batch([3] + shape.dropFirst(), seed: 7)
        var counts = [Double]()
        for reset in ResetMode.allCases {
            var options = SimulationOptions(timeSteps: 32)
            options.reset = reset
            counts.append(try Simulator(graph: graph, inputShape: x.shape, options: options).run(x).layers.map { $0.spikesPerStep.reduce(0, +) }.reduce(0, +))
        }
        #expect(counts[1] < counts[0], "zero reset loses the charge above threshold: \(counts)")
    }

    /// `--initial-potential 0` rewrites every neuron's v(0) and nothing else.
    @Test func initialPotentialRewriteSetsEveryNeuron() throws {
        let (graph, _) = try SimulationTests().converted("net_b_resnet_blocks")
        let rewritten = graph.settingInitialPotential(0)
        #expect(rewritten.nodes.count == graph.nodes.count && rewritten.constants == graph.constants)
        for (a, b) in zip(graph.nodes, rewritten.nodes) {
            if case .ifNeuron(let v0) = a.op {
                #expect(v0 == 0.5 && b.op == .ifNeuron(initialPotential: 0))
            } else {
                #expect(a == b)
            }
        }
    }
}
