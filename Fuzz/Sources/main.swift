import Foundation
import SNNFuzzing

// `snnkit-fuzz`: SNNKit's readers under libFuzzer. Scripts/fuzz.sh builds it with
// -sanitize=fuzzer,address and runs it; SNNKIT_FUZZ_TARGET names the reader (FuzzTarget),
// the arguments are libFuzzer's. main hands over to libFuzzer's driver, so the linker needs
// no main of libFuzzer's own.

/// libFuzzer's entry for a program with its own main: parses the arguments and calls
/// `callback` on every input.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

/// The target named by SNNKIT_FUZZ_TARGET; the process stops with the list when it is not one.
let target: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["SNNKIT_FUZZ_TARGET"] ?? ""
    guard let target = FuzzTarget(rawValue: name) else {
        FileHandle.standardError.write(Data("SNNKIT_FUZZ_TARGET must be one of \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))\n".utf8))
        exit(64)
    }
    return target
}()

/// A folder of its own on a RAM disk for the readers that take a file.
let scratch: URL = {
    let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
    let url = URL(fileURLWithPath: base).appendingPathComponent("snnkit-fuzz-\(getpid())")
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}()

_ = target
var argc = CommandLine.argc
var argv = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in
    target.run(size > 0 ? Data(bytes: data!, count: size) : Data(), scratch: scratch)
    return 0
})
