import Foundation
import SNNKit

/// Opens a dataset named on the command line with the shared data flags.
enum DataOpening {
    static func open(_ path: String, labels: String?, options: DataOptions) throws -> any DataSource {
        var layout: ImageLayout? = nil
        if let name = options.layout {
            guard let l = ImageLayout(rawValue: name.lowercased()) else { throw InputError("--layout is nchw or nhwc, not '\(name)'") }
            layout = l
        }
        return try DataSources.open(path: path, labels: labels, layout: layout, preprocessing: try options.preprocessing())
    }
}
