import ArgumentParser
import SNNKit

@main
struct SNNKitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snnkit",
        abstract: "Convert pretrained ReLU networks (ONNX) into spiking networks and measure what it costs and saves.",
        discussion: """
        Exit codes: 0 success, 65 bad input (model, data or shape), 73 an output that cannot be written, 70 internal failure
        (or a missing run-time library such as libhdf5), 64 usage error.

        Examples:
          snnkit demo
          snnkit inspect resnet18.onnx --input-shape 1,3,224,224
          snnkit verify model.onnx --data test_data_set_0
          snnkit bench ann resnet18.onnx --batch 8 --threads 2
        """,
        subcommands: [DemoCommand.self, ConvertCommand.self, ExportCommand.self, SimulateCommand.self, EvalCommand.self, MergeCommand.self, InspectCommand.self, VerifyCommand.self, BenchCommand.self])

    /// Tunes the allocator before anything else runs (see `AllocatorTuning`), then parses and runs.
    static func main() {
        AllocatorTuning.keepLargeBlocks()
        main(nil)
    }
}
