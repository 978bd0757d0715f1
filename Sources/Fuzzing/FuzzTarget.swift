import Foundation
import SNNConversion
import SNNData
import SNNGraph
import SNNONNX
import SNNPipeline
import SNNSimulation

/// A reader of files from strangers, driven by arbitrary bytes: what the coverage-guided
/// fuzzer (`Fuzz/`, `Scripts/fuzz.sh`) calls on every input, and what the regression tests
/// replay on the inputs that once crashed it.
///
/// Each target takes the bytes the way a user's file reaches SNNKit (the data readers from a
/// file on disk, picked by name and magic bytes as `snnkit` picks them) and goes as far as a
/// command would before any long computation: an ONNX model through import and shape
/// planning, a dataset through opening and its first and last samples. A thrown error is
/// the expected answer to bad bytes; a crash, a hang or unbounded memory is a finding.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// ONNX import and planning at the declared input shapes.
    case onnx
    /// A converted model: import, its stored settings (`snnkit.*` metadata, the
    /// quantization record) and the simulator's plan.
    case convertedModel = "converted-model"
    /// A `.npy` image array.
    case npy
    /// A `.npz` archive: images, labels, masks and boxes.
    case npz
    /// An IDX image file, gzip-compressed or not.
    case idx
    /// A CIFAR binary batch.
    case cifar
    /// A part file of a split run, through `Pipeline.merge`.
    case partFile = "part-file"

    /// The file name the bytes are written under, which picks the reader.
    var fileName: String {
        switch self {
        case .onnx, .convertedModel: return "model.onnx"
        case .npy: return "images.npy"
        case .npz: return "data.npz"
        case .idx: return "images-idx3-ubyte"
        case .cifar: return "data_batch_1.bin"
        case .partFile: return "part-0-of-1.json"
        }
    }

    /// Runs the reader on `bytes`, writing them into `scratch` (a folder) when the reader
    /// takes a file; errors thrown by the reader are the expected outcome and are returned.
    @discardableResult
    public func run(_ bytes: Data, scratch: URL) -> Error? {
        do {
            switch self {
            case .onnx:
                let graph = try ONNXImporter.load(data: bytes, file: fileName)
                _ = try ExecutionPlan(graph: graph, inputShapes: graph.declaredInputShapes())
            case .convertedModel:
                let model = try ConvertedModel(try ONNXImporter.load(data: bytes, file: fileName))
                let shapes = try model.graph.declaredInputShapes()
                guard let input = model.graph.runtimeInputs.first.flatMap({ shapes[$0.name] }) else {
                    throw PipelineError("the model has no input")
                }
                _ = try Simulator(graph: model.graph, inputShape: input, options: try model.evaluationOptions(SimulationSettings(timeSteps: 2)).simulation)
            case .npy, .idx, .cifar, .npz:
                let path = try write(bytes, scratch)
                let source = try DataSources.open(path: path)
                if source.count > 0 {
                    _ = try source.batch(0..<min(2, source.count))
                    _ = try source.batch((source.count - 1)..<source.count)
                }
                if self == .npz { _ = try Annotations.open(path: path, imageCount: source.count) }
            case .partFile:
                _ = try Pipeline.merge(partFiles: [try write(bytes, scratch)])
            }
            return nil
        } catch {
            return error
        }
    }

    private func write(_ bytes: Data, _ scratch: URL) throws -> String {
        let url = scratch.appendingPathComponent(fileName)
        try bytes.write(to: url)
        return url.path
    }
}
