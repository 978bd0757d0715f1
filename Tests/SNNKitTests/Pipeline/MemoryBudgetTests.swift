import Foundation
import Testing
@testable import SNNKit

/// A batch whose activations would not fit is refused before anything is allocated for
/// it, with the largest batch that fits; and that answer is right.
@Suite struct MemoryBudgetTests {
    /// x [N, 1, 2, 2] -> conv+ReLU (fused: one value, [N, 2, 2, 2]) -> conv [N, 2, 2, 2]:
    /// 16 floats per sample, 64 bytes.
    @Test func activationsOfAPlanAreCountedByHand() throws {
        let graph = TaskEvaluationTests.signSegmenter()
        let one = try ExecutionPlan(graph: graph, inputShapes: ["x": [1, 1, 2, 2]]).activationMemory
        #expect(one.bytes == 64)
        #expect(one.largest.shape == [1, 2, 2, 2])
        let five = try ExecutionPlan(graph: graph, inputShapes: ["x": [5, 1, 2, 2]]).activationMemory
        #expect(five.bytes == 5 * 64, "linear in the batch")
    }

    @Test func aBatchThatDoesNotFitIsAnsweredWithOneThatDoes() throws {
        let model = try ConvertedModel(contentsOf: E2EFiles.converted)
        let source = try DataSources.open(path: E2EFiles.data)
        let perSample = try ExecutionPlan(graph: model.graph, inputShapes: [model.graph.runtimeInputs[0].name: [1] + source.sampleShape])
            .activationMemory.bytes
        var settings = SimulationSettings(timeSteps: 4)
        // Room for 5 samples' two copies (the clip-ANN's activations and the simulator's state).
        settings.memoryBudget = MemoryBudget(availableBytes: 5 * 2 * perSample + 1)
        let tooBig = try LabeledBatches(source: source, batchSize: 8)
        let error = #expect(throws: PipelineError.self) { try Pipeline.simulate(model, on: tooBig, settings: settings) }
        #expect("\(error!)".contains("a batch of 8 needs about") && "\(error!)".contains("the largest batch that fits is 5: use --batch-size 5"),
                "\(error!)")
        #expect("\(error!)".contains(E2EFiles.data), "names the data")
        let fits = try LabeledBatches(source: source, batchSize: 5)
        #expect(try Pipeline.simulate(model, on: fits, settings: settings).images == source.count)
        settings.memoryBudget = MemoryBudget(availableBytes: perSample)
        let none = #expect(throws: PipelineError.self) { try Pipeline.simulate(model, on: fits, settings: settings) }
        #expect("\(none!)".contains("not even one sample fits"))
    }

    @Test func theMachineBudgetIsWhatLinuxReportsAvailable() throws {
        let machine = MemoryBudget.machine
        #expect(machine.availableBytes > 0 && machine.availableBytes <= Int(ProcessInfo.processInfo.physicalMemory))
    }
}
