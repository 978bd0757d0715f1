import ArgumentParser
import Foundation
import SNNKit

/// Maps library errors to exit codes: bad input (65), an output that cannot be written
/// (73), everything else (70), so scripts can tell "fix your model or data" from
/// "choose another place" from "SNNKit failed".
enum Failure {
    static func run(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as ONNXError {
            report(error, code: 65)
        } catch let error as GraphError {
            report(error, code: 65)
        } catch let error as DataError {
            report(error, code: 65)
        } catch let error as ConversionError {
            report(error, code: 65)
        } catch let error as SimulationError {
            report(error, code: 65)
        } catch let error as PipelineError {
            report(error, code: 65)
        } catch let error as EvaluationError {
            report(error, code: 65)
        } catch let error as TaskError {
            report(error, code: 65)
        } catch let error as NIRExportError {
            if case .hdf5Missing = error { report(error, code: 70) }
            report(error, code: 65)
        } catch let error as OutputError {
            report(error, code: 73)
        } catch let error as ValidationError {
            throw error
        } catch let error as ExitCode {
            throw error
        } catch {
            report(error, code: 70)
        }
    }

    private static func report(_ error: Error, code: Int32) -> Never {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        exit(code)
    }
}
