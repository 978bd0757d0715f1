// Converts the embedded demo CNN (8x8 digits) to a spiking network, saves and reloads it,
// and simulates it on the test images: the library calls behind `snnkit convert` and
// `snnkit simulate`. docs/library.md shows this program and its output.
import Foundation
import SNNDemo
import SNNKit

let assets = try Demo.loadAssets()
let options = try ConversionOptions(method: "ltb", calibrationBatches: "auto", maxCalibrationBatches: 400)
let conversion = try Pipeline.convert(assets.model, calibration: assets.calibrationBatches(batchSize: 100), options: options,
                                      sourceModel: "digits-cnn.onnx")
let file = FileManager.default.temporaryDirectory.appendingPathComponent("digits-cnn.snn.onnx").path
try ConvertedModel(conversion).write(to: file)
let model = try ConvertedModel(contentsOf: file)
let settings = SimulationSettings(timeSteps: 64, checkpoints: [8, 16, 32, 64])
let result = try Pipeline.simulate(model, on: assets.testData(batchSize: 100), settings: settings)

print("converted \(model.info!.sourceModel!) with \(model.info!.method) on \(model.info!.calibrationBatches) batches, delay \(model.info!.delay) steps")
print(String(format: "ANN top-1 %.2f%%, clip-ANN top-1 %.2f%% on %d images", 100 * result.ann.primary, 100 * result.clipANN.primary, result.images))
print("   T  SNN top-1  SOPs/image")
for s in result.snn {
    print(String(format: "%4d  %8.2f%%  %10.0f", s.steps, 100 * s.effective.primary, s.synapticOpsPerImage))
}
