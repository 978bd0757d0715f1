import ArgumentParser
import Foundation
import SNNKit

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a converted spiking network in another format (NIR).",
        discussion: """
        NIR (neuromorphic intermediate representation, an HDF5 file) is read by sinabs, snnTorch, Norse, Lava and others.
        Thresholds are folded into the weights, so every IF node has threshold 1 and unit spikes; SNNKit's reset by
        subtraction and its initial potential, which NIR's IF cannot hold, are written into the metadata. Simulate what
        a consumer runs with `snnkit simulate --initial-potential 0 --reset zero`. Needs libhdf5 at run time
        (Debian/Ubuntu: apt-get install libhdf5-dev).

        Examples:
          snnkit export resnet20.snn.onnx --nir resnet20.nir
        """)

    @Argument(help: "Converted model (.snn.onnx, from snnkit convert or snnkit demo).")
    var model: String

    @Option(name: .long, help: "NIR file to write.")
    var nir: String

    @OptionGroup var common: CommonOptions

    func run() throws {
        try common.apply()
        try Failure.run {
            let graph = try ModelLoader.load(model)
            let exported = try NIRExporter.export(graph, model: model)
            try NIRFile.write(exported, to: URL(fileURLWithPath: nir))
            if !common.quiet { print(NIRSummary.line(exported, file: nir)) }
        }
    }
}

/// One line saying what an NIR file holds, for `export` and `convert --nir`.
enum NIRSummary {
    static func line(_ graph: NIRGraph, file: String) -> String {
        let neurons = graph.nodes.filter { $0.node.type == "IF" }.count
        return "wrote \(file): NIR graph of \(graph.nodes.count) nodes (\(neurons) IF layers, thresholds folded to 1), \(graph.edges.count) edges"
    }
}
