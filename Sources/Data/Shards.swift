import Foundation

/// A folder of `.npz` shards (as `Scripts/export_dataset.py` writes them: `NAME-00000.npz`,
/// `NAME-00001.npz`, ...) read as one dataset, shards in name order.
///
/// Every shard must store its images with the same element type, layout and sample shape;
/// labels must be in all shards or in none. The shards stay mapped as they are: the dataset
/// is one `ArraySource` with a segment per shard, so batches that straddle two shards cost
/// nothing extra.
enum Shards {
    /// The `.npz` files in `folder`, sorted by name, or nil when it has none.
    static func files(in folder: URL) throws -> [URL]? {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: folder.path) } catch {
            throw DataError.unreadable(file: folder.path, reason: "\(error.localizedDescription)")
        }
        let shards = names.filter { $0.lowercased().hasSuffix(".npz") }.sorted()
        return shards.isEmpty ? nil : shards.map { folder.appendingPathComponent($0) }
    }

    static func name(_ folder: URL, _ files: [URL]) -> String {
        "\(folder.path)/{\(files.map(\.lastPathComponent).joined(separator: ","))}"
    }
}

extension ArraySource {
    /// The samples of `parts` one after the other. The parts must agree on how pixels are
    /// stored; their (already resolved) preprocessing is the first part's.
    init(concatenating parts: [ArraySource], name: String, classCount: Int?) throws {
        guard let first = parts.first else { throw DataError.invalidArgument("\(name): no shards") }
        for part in parts.dropFirst() {
            guard part.pixelType == first.pixelType, part.sampleShape == first.sampleShape, part.storedLayout == first.storedLayout else {
                throw DataError.badHeader(
                    file: part.name, field: "images",
                    detail: "samples are \(part.pixelType) \(part.storedLayout.rawValue) \(DataError.format(part.sampleShape)), but "
                        + "\(first.name) has \(first.pixelType) \(first.storedLayout.rawValue) \(DataError.format(first.sampleShape)); "
                        + "every shard of a folder must be stored the same way")
            }
            guard (part.labels == nil) == (first.labels == nil) else {
                let (with, without) = part.labels == nil ? (first.name, part.name) : (part.name, first.name)
                throw DataError.invalidArgument("\(without) has no labels but \(with) has; every shard of a folder needs its labels, or none")
            }
        }
        let labels = first.labels == nil ? nil : (values: parts.flatMap { $0.labels! }, file: name)
        try self.init(name: name, segments: parts.flatMap(\.segments), pixelType: first.pixelType, shape: first.sampleShape,
                      layout: first.storedLayout, labels: labels, preprocessing: first.preprocessing, classCount: classCount)
    }
}
