import ArgumentParser
import Foundation
import SNNKit

/// Flags every subcommand shares.
struct CommonOptions: ParsableArguments {
    @Option(name: .long, help: "Worker threads for the kernels (default: all cores).")
    var threads: Int?

    @Flag(name: .long, help: "Print machine-readable JSON instead of tables.")
    var json = false

    @Flag(name: .long, help: "No progress output.")
    var quiet = false

    func apply() throws {
        if let threads {
            guard threads > 0 else { throw ValidationError("--threads must be at least 1") }
            Parallel.threads = threads
        }
    }
}

/// Parses "1,3,224,224" (or "1x3x224x224").
struct ShapeArgument: ExpressibleByArgument {
    var dims: [Int]
    init?(argument: String) {
        // Empty parts are kept so that "1,x,3" (a stray separator) is refused, not read as [1, 3].
        let parts = argument.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "," || $0 == "x" })
            .map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !parts.isEmpty, parts.allSatisfy({ ($0 ?? 0) > 0 }) else { return nil }
        dims = parts.map { $0! }
    }
}

/// Loads a model and resolves its input shape: the given one, else the declared one with
/// symbolic axes (usually the batch) set to `batch`.
struct ModelLoader {
    static func load(_ path: String) throws -> Graph {
        try Pipeline.loadModel(path)
    }

    /// Plans the graph, naming the model file in any error.
    static func plan(_ graph: Graph, _ shapes: [String: [Int]], options: PlanOptions = PlanOptions()) throws -> ExecutionPlan {
        do {
            return try ExecutionPlan(graph: graph, inputShapes: shapes, options: options)
        } catch let error as GraphError {
            throw ONNXError.graph(file: graph.source, error)
        }
    }

    static func inputShapes(_ graph: Graph, given: ShapeArgument?, batch: Int = 1) throws -> [String: [Int]] {
        let first = graph.runtimeInputs.first.flatMap { input in given.map { [input.name: $0.dims] } } ?? [:]
        return try graph.declaredInputShapes(batch: batch, given: first)
    }
}
