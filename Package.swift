// swift-tools-version:6.2
import PackageDescription

import Foundation

// The hot kernels are written for AVX-512 (the GEMM tile is sixteen 16-lane
// accumulators). Without a -target-cpu Swift's SIMD types lower to SSE and run an order of
// magnitude slower, and with one the CPU lacks, the binary dies of an illegal instruction
// (an AVX-512 build on an AVX2-only CPU, for instance). So the default follows the
// building machine's CPU, as -march=native would: skylake-avx512 with AVX-512 (F, BW, VL,
// DQ), haswell with AVX2 and FMA (correct, about half the speed), else no flag.
// SNNKIT_TARGET_CPU overrides it, e.g. to build for another machine. The start-up check
// in Sources/AMX/amx.c tests the same feature sets: change them together.
func buildMachineCPU() -> String? {
    guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
          let line = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return nil }
    let flags = Set(line.split(separator: " ").map(String.init))
    if flags.isSuperset(of: ["avx512f", "avx512bw", "avx512vl", "avx512dq"]) { return "skylake-avx512" }
    if flags.isSuperset(of: ["avx2", "fma", "bmi2"]) { return "haswell" }
    return nil
}
let targetCPU = ProcessInfo.processInfo.environment["SNNKIT_TARGET_CPU"] ?? buildMachineCPU()
// Numerical code is optimised in debug builds too: unoptimised SIMD kernels run ~50x
// slower, which would make `swift test` spend minutes in convolutions.
let fastMath: [SwiftSetting] = [
    .unsafeFlags(targetCPU.map { ["-target-cpu", $0] } ?? [], .when(platforms: [.linux])),
    .unsafeFlags(["-O"], .when(configuration: .debug)),
]

let package = Package(
    name: "SNNKit",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "SNNKit", targets: ["SNNKit"]),
        .executable(name: "snnkit", targets: ["snnkit"]),
        .executable(name: "snnkit-example", targets: ["ConvertAndSimulate"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
    ],
    targets: [
        // The pipeline, bottom to top; each target lists exactly the modules it imports.
        // AMX int8 tile products (Sapphire Rapids and later), used when the CPU and kernel allow,
        // and the AVX-512 mask helpers of the neuron loops (header functions inlined into Swift).
        // It also stops a binary at start-up, with a message, on a CPU that lacks what the
        // build targets (instead of an illegal instruction somewhere inside).
        .target(name: "SNNAMX", path: "Sources/AMX", cSettings: targetCPU.map { [.define("SNN_TARGET_CPU", to: "\"\($0)\"")] } ?? []),
        // Version and atomic file output, for every module that writes files.
        .target(name: "SNNSupport", path: "Sources/Support"),
        // Tensors, dense kernels (GEMM, convolution, pooling, resize) and the thread pool.
        .target(name: "SNNTensor", dependencies: ["SNNAMX"], path: "Sources/Tensor", swiftSettings: fastMath),
        // The IR, shape planning and ANN execution, and meaning-preserving passes.
        .target(name: "SNNGraph", dependencies: ["SNNTensor"], path: "Sources/Graph", swiftSettings: fastMath),
        // Siblings over the graph: file format, conversion, spike kernels and the simulator.
        .target(
            name: "SNNONNX",
            dependencies: ["SNNGraph", "SNNTensor", "SNNSupport", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            path: "Sources/ONNX",
            exclude: ["onnx-subset.proto"],
            swiftSettings: fastMath),
        .target(name: "SNNConversion", dependencies: ["SNNGraph", "SNNTensor", "SNNSupport"], path: "Sources/Conversion", swiftSettings: fastMath),
        // NIR export of a converted network; libhdf5 is loaded at run time, never linked.
        .target(name: "SNNNIR", dependencies: ["SNNGraph", "SNNTensor", "SNNConversion", "SNNSupport"], path: "Sources/NIR"),
        .target(name: "SNNSpikeKernels", dependencies: ["SNNAMX", "SNNTensor"], path: "Sources/SpikeKernels", swiftSettings: fastMath),
        .target(
            name: "SNNSimulation",
            dependencies: ["SNNAMX", "SNNTensor", "SNNGraph", "SNNSpikeKernels"],
            path: "Sources/Simulation",
            swiftSettings: fastMath),
        // Data files and task metrics, independent of the network.
        .target(
            name: "SNNData",
            dependencies: ["SNNTensor", .product(name: "ZIPFoundation", package: "ZIPFoundation")],
            path: "Sources/Data",
            swiftSettings: fastMath),
        .target(name: "SNNTasks", dependencies: ["SNNTensor"], path: "Sources/Tasks", swiftSettings: fastMath),
        // Scoring a converted network against its ANN, then reporting it.
        .target(
            name: "SNNEvaluation",
            dependencies: ["SNNTensor", "SNNGraph", "SNNConversion", "SNNSimulation", "SNNTasks"],
            path: "Sources/Evaluation",
            swiftSettings: fastMath),
        .target(
            name: "SNNReport",
            dependencies: ["SNNConversion", "SNNEvaluation", "SNNTasks", "SNNSupport"],
            path: "Sources/Report"),
        // The steps of convert / simulate / eval as a library: data adapters, settings,
        // converted-model files and the orchestration, so the CLI only parses and prints.
        .target(
            name: "SNNPipeline",
            dependencies: ["SNNTensor", "SNNGraph", "SNNONNX", "SNNData", "SNNTasks", "SNNConversion", "SNNSimulation",
                           "SNNEvaluation", "SNNReport", "SNNNIR"],
            path: "Sources/Pipeline"),
        // Throughput probes behind `snnkit bench`: the core's arithmetic peak, AMX tile timing.
        .target(name: "SNNBenchmarking", dependencies: ["SNNAMX", "SNNSpikeKernels"], path: "Sources/Benchmarking", swiftSettings: fastMath),
        .target(
            name: "SNNKit",
            dependencies: ["SNNSupport", "SNNTensor", "SNNGraph", "SNNONNX", "SNNData", "SNNTasks", "SNNConversion",
                           "SNNSpikeKernels", "SNNSimulation", "SNNEvaluation", "SNNReport", "SNNPipeline", "SNNNIR"],
            path: "Sources/SNNKit"),
        // The readers fuzzed by snnkit-fuzz, as a library so that the regression tests replay
        // the very same code on the inputs that once crashed it.
        .target(
            name: "SNNFuzzing",
            dependencies: ["SNNGraph", "SNNONNX", "SNNData", "SNNConversion", "SNNSimulation", "SNNPipeline"],
            path: "Sources/Fuzzing"),
        .target(
            name: "SNNDemo",
            dependencies: ["SNNKit"],
            path: "Sources/Demo",
            resources: [.copy("Resources")]),
        .executableTarget(
            name: "snnkit",
            dependencies: ["SNNKit", "SNNDemo", "SNNBenchmarking", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/snnkit",
            swiftSettings: fastMath),
        // The library example of docs/library.md: convert and simulate the embedded demo model.
        .executableTarget(
            name: "ConvertAndSimulate",
            dependencies: ["SNNKit", "SNNDemo"],
            path: "Examples/ConvertAndSimulate"),
        // The end-to-end tests run the built `snnkit` binary; depending on it makes `swift test` build it.
        .testTarget(
            name: "SNNKitTests",
            dependencies: ["SNNKit", "SNNDemo", "SNNBenchmarking", "snnkit", "SNNAMX", "SNNTensor", "SNNSpikeKernels", "SNNData",
                           "SNNSimulation", "SNNNIR", "SNNReport", "SNNFuzzing"],
            path: "Tests/SNNKitTests",
            swiftSettings: fastMath),
    ]
)

// The libFuzzer executable, only when SNNKIT_FUZZ is set: it has no main of its own
// (libFuzzer's), so it links only with -sanitize=fuzzer. Scripts/fuzz.sh builds it.
if ProcessInfo.processInfo.environment["SNNKIT_FUZZ"] != nil {
    package.products.append(.executable(name: "snnkit-fuzz", targets: ["snnkit-fuzz"]))
    package.targets.append(.executableTarget(name: "snnkit-fuzz", dependencies: ["SNNFuzzing"], path: "Fuzz/Sources"))
}
