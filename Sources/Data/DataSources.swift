import Foundation

/// Opens datasets: one entry point per format and `open(path:...)`, which picks the
/// format itself, for the command line.
///
/// Every function returns an `ArraySource` whose labels have been checked (count and
/// range) and whose preprocessing fits the channel count, so errors surface at open,
/// before a long conversion or simulation starts. `preprocessing: nil` means the
/// default for the stored type (`Preprocessing.default(forFloatData:)`): bytes to
/// [0, 1], floats unchanged.
public enum DataSources {
    /// Opens `path`, choosing the reader from its first bytes and its name:
    /// - `.npy` (magic `\x93NUMPY`): an image array, NCHW, NHWC (see `layout`) or (N, H, W);
    /// - `.npz` (a zip): the arrays `images`/`x`/`data`/`arr_0` and, if present,
    ///   `labels`/`y`/`arr_1`, or those named by `imagesArray`/`labelsArray`;
    /// - IDX (`*idx*`, `*ubyte*`, magic `0x00000803`), raw or gzip-compressed;
    /// - `.bin`: CIFAR-10/100 binary batches;
    /// - a folder of `.npz` shards: one dataset, shards in name order (`shards(folder:)`);
    /// - another folder: the CIFAR batches in it (`cifar(folder:)`).
    ///
    /// - Parameters:
    ///   - labels: a second file holding the labels (1-D `.npy`, IDX labels, or an
    ///     `.npz` with a labels array); nil for an unlabelled set, or labels read from
    ///     the same `.npz`/CIFAR files.
    ///   - layout: the axis order of a 4-D array; nil infers it (`ImageLayout.infer`).
    ///   - classCount: when given, every label must lie in 0..<classCount.
    public static func open(
        path: String, labels: String? = nil, layout: ImageLayout? = nil, preprocessing: Preprocessing? = nil,
        classCount: Int? = nil, imagesArray: String? = nil, labelsArray: String? = nil
    ) throws -> ArraySource {
        let url = URL(fileURLWithPath: path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw DataError.unreadable(file: url.path, reason: "no such file or folder")
        }
        if isDirectory.boolValue, let files = try Shards.files(in: url) {
            guard labels == nil else {
                throw DataError.invalidArgument("\(url.path): shards carry their own labels; leave out the labels file")
            }
            return try shards(folder: url, files: files, imagesArray: imagesArray, labelsArray: labelsArray, layout: layout,
                              preprocessing: preprocessing, classCount: classCount)
        }
        let bytes = isDirectory.boolValue ? nil : try FileBytes(mapping: url)
        if isDirectory.boolValue || Format.of(url: url, bytes: bytes) == .cifar {
            guard labels == nil else {
                throw DataError.invalidArgument("\(url.path): CIFAR batches carry their own labels; leave out the labels file")
            }
            return isDirectory.boolValue
                ? try cifar(folder: url, preprocessing: preprocessing)
                : try cifar(files: [url], preprocessing: preprocessing)
        }
        guard let bytes else { throw DataError.unreadable(file: url.path, reason: "not a file") }
        let labelValues = try labels.map { try readLabels(path: $0, arrayName: labelsArray) }
        switch Format.of(url: url, bytes: bytes) {
        case .npy:
            return try ArraySource(
                images: NumPyArray(bytes: bytes), labels: labelValues, layout: layout, preprocessing: preprocessing, classCount: classCount)
        case .npz:
            return try npz(
                NPZArchive(url: url, mapped: bytes), imagesArray: imagesArray, labelsArray: labelsArray, separateLabels: labelValues,
                layout: layout, preprocessing: preprocessing, classCount: classCount)
        case .idx:
            return try ArraySource(images: IDXFile(bytes: bytes), labels: labelValues, preprocessing: preprocessing, classCount: classCount)
        case .cifar, .unknown:
            throw DataError.unrecognizedFormat(
                file: url.path, detail: "the first bytes are \(hexBytes(bytes.prefix(8))) and the name has no known extension")
        }
    }

    /// A `.npy` image array, with labels from a 1-D `.npy` (or IDX) file.
    public static func numpy(
        images: URL, labels: URL? = nil, layout: ImageLayout? = nil, preprocessing: Preprocessing? = nil, classCount: Int? = nil
    ) throws -> ArraySource {
        let labelValues = try labels.map { try readLabels(path: $0.path, arrayName: nil) }
        return try ArraySource(
            images: NumPyArray.open(images), labels: labelValues, layout: layout, preprocessing: preprocessing, classCount: classCount)
    }

    /// The images and (when present) labels of an `.npz` archive. `imagesArray` and
    /// `labelsArray` name the arrays; nil tries the usual names. A named labels array that
    /// is missing is an error, default names that are missing just mean no labels.
    public static func npz(
        _ url: URL, imagesArray: String? = nil, labelsArray: String? = nil, layout: ImageLayout? = nil,
        preprocessing: Preprocessing? = nil, classCount: Int? = nil
    ) throws -> ArraySource {
        try npz(
            NPZArchive(url: url, mapped: FileBytes(mapping: url)), imagesArray: imagesArray, labelsArray: labelsArray, separateLabels: nil,
            layout: layout, preprocessing: preprocessing, classCount: classCount)
    }

    /// The `.npz` shards `files` of `folder` as one dataset (see `Shards`).
    static func shards(
        folder: URL, files: [URL], imagesArray: String?, labelsArray: String?, layout: ImageLayout?, preprocessing: Preprocessing?,
        classCount: Int?
    ) throws -> ArraySource {
        let parts = try files.map { file in
            try npz(NPZArchive(url: file, mapped: FileBytes(mapping: file)), imagesArray: imagesArray, labelsArray: labelsArray,
                    separateLabels: nil, layout: layout, preprocessing: preprocessing, classCount: classCount)
        }
        return try ArraySource(concatenating: parts, name: Shards.name(folder, files), classCount: classCount)
    }

    /// MNIST-style IDX images (`0x00000803`) and labels (`0x00000801`), raw or `.gz`.
    public static func idx(images: URL, labels: URL? = nil, preprocessing: Preprocessing? = nil, classCount: Int? = nil) throws -> ArraySource {
        let labelValues = try labels.map { try readLabels(path: $0.path, arrayName: nil) }
        return try ArraySource(images: IDXFile.open(images), labels: labelValues, preprocessing: preprocessing, classCount: classCount)
    }

    /// CIFAR binary batches, concatenated in the order given. `variant` nil infers it
    /// from the file names and sizes (`CIFARVariant.infer`); labels are checked against
    /// the variant's class count.
    public static func cifar(files: [URL], variant: CIFARVariant? = nil, preprocessing: Preprocessing? = nil) throws -> ArraySource {
        guard let first = files.first else { throw DataError.invalidArgument("no CIFAR batch files given") }
        let mapped = try files.map { try FileBytes(mapping: $0) }
        let chosen = variant ?? CIFARVariant.infer(fileName: first.lastPathComponent, size: mapped[0].count) ?? .cifar10
        var segments = [ArraySource.Segment](), labels = [Int]()
        for bytes in mapped {
            let records = bytes.count / chosen.recordSize
            if records * chosen.recordSize != bytes.count {
                throw DataError.truncated(
                    file: bytes.name, field: "\(chosen.rawValue) record \(records) (\(chosen.recordSize) bytes each)",
                    needed: (records + 1) * chosen.recordSize, actual: bytes.count)
            }
            let all = bytes.all
            labels += (0..<records).map { Int(all[$0 * chosen.recordSize + chosen.labelOffset]) }
            segments.append(.init(bytes: bytes, offset: chosen.labelBytes, count: records, stride: chosen.recordSize))
        }
        let name = files.count == 1 ? first.path : "\(first.deletingLastPathComponent().path)/{\(files.map(\.lastPathComponent).joined(separator: ","))}"
        return try ArraySource(
            name: name, segments: segments, pixelType: .uint8, shape: [3, 32, 32], layout: .nchw,
            labels: (labels, name), preprocessing: preprocessing, classCount: chosen.classCount)
    }

    /// Which part of a CIFAR release a folder read opens.
    public enum CIFARSplit: String, Sendable {
        /// `data_batch_1.bin` ... in numeric order (CIFAR-10), or `train.bin` (CIFAR-100).
        case train
        /// `test_batch.bin` (CIFAR-10) or `test.bin` (CIFAR-100).
        case test
    }

    /// The CIFAR batches in `folder` (an extracted `cifar-10-batches-bin` or
    /// `cifar-100-binary`). With `split` nil: the training batches, or the test batch
    /// when the folder has no training batches.
    public static func cifar(folder: URL, split: CIFARSplit? = nil, preprocessing: Preprocessing? = nil) throws -> ArraySource {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: folder.path) } catch {
            throw DataError.unreadable(file: folder.path, reason: "\(error.localizedDescription)")
        }
        func batchNumber(_ name: String) -> Int? {
            guard name.hasPrefix("data_batch_"), name.hasSuffix(".bin") else { return nil }
            return Int(name.dropFirst("data_batch_".count).dropLast(4))
        }
        let train = names.compactMap { n in batchNumber(n).map { (n, $0) } }.sorted { $0.1 < $1.1 }.map(\.0)
            + names.filter { $0 == "train.bin" }
        let test = names.filter { $0 == "test_batch.bin" || $0 == "test.bin" }.sorted()
        let chosen: [String]
        switch split {
        case .train: chosen = train
        case .test: chosen = test
        case nil: chosen = train.isEmpty ? test : train
        }
        guard !chosen.isEmpty else {
            throw DataError.unrecognizedFormat(
                file: folder.path,
                detail: "no CIFAR \(split.map { "\($0.rawValue) " } ?? "")batches (data_batch_N.bin, test_batch.bin, train.bin, test.bin) in the folder")
        }
        return try cifar(files: chosen.map { folder.appendingPathComponent($0) }, preprocessing: preprocessing)
    }

    /// Labels from a 1-D `.npy`, an IDX labels file (raw or `.gz`) or an `.npz`, with the
    /// file they came from.
    static func readLabels(path: String, arrayName: String?) throws -> (values: [Int], file: String) {
        let url = URL(fileURLWithPath: path)
        let bytes = try FileBytes(mapping: url)
        switch Format.of(url: url, bytes: bytes) {
        case .npy:
            return (try NumPyArray(bytes: bytes).labels(), url.path)
        case .idx:
            return (try IDXFile(bytes: bytes).labels(), url.path)
        case .npz:
            let archive = try NPZArchive(url: url, mapped: bytes)
            let names = arrayName.map { [$0] } ?? NPZArchive.defaultLabelNames
            guard let entry = archive.find(names) else {
                throw DataError.missingArray(file: url.path, name: names.joined(separator: "' or '"), available: archive.arrayNames)
            }
            let array = try archive.array(entry)
            return (try array.labels(), array.name)
        case .cifar, .unknown:
            throw DataError.unrecognizedFormat(file: url.path, detail: "labels must be a 1-D .npy, an IDX labels file or an .npz")
        }
    }

    private static func npz(
        _ archive: NPZArchive, imagesArray: String?, labelsArray: String?, separateLabels: (values: [Int], file: String)?,
        layout: ImageLayout?, preprocessing: Preprocessing?, classCount: Int?
    ) throws -> ArraySource {
        let imageNames = imagesArray.map { [$0] } ?? NPZArchive.defaultImageNames
        guard let imageEntry = archive.find(imageNames) else {
            throw DataError.missingArray(file: archive.name, name: imageNames.joined(separator: "' or '"), available: archive.arrayNames)
        }
        var labels = separateLabels
        if labels == nil {
            let labelNames = labelsArray.map { [$0] } ?? NPZArchive.defaultLabelNames
            if let labelEntry = archive.find(labelNames) {
                let array = try archive.array(labelEntry)
                labels = (try array.labels(), array.name)
            } else if labelsArray != nil {
                throw DataError.missingArray(file: archive.name, name: labelNames[0], available: archive.arrayNames)
            }
        }
        return try ArraySource(
            images: archive.array(imageEntry), labels: labels, layout: layout, preprocessing: preprocessing, classCount: classCount)
    }
}

/// How `DataSources.open` tells the formats apart: magic numbers first (they cannot lie
/// about the content), then the file name for what has no magic (CIFAR records).
enum Format {
    case npy, npz, idx, cifar, unknown

    static func of(url: URL, bytes: FileBytes?) -> Format {
        let name = url.lastPathComponent.lowercased()
        if let bytes {
            let head = bytes.prefix(6)
            if head == [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59] { return .npy }
            if head.starts(with: [0x50, 0x4B, 0x03, 0x04]) || head.starts(with: [0x50, 0x4B, 0x05, 0x06]) { return .npz }
            // Gzip could hold anything, but IDX is the only gzip format read here.
            if head.starts(with: [0x1F, 0x8B]) { return .idx }
            if head.count >= 4, head[0] == 0, head[1] == 0, head[2] == 0x08, (1...4).contains(head[3]) { return .idx }
        }
        if name.hasSuffix(".npy") { return .npy }
        if name.hasSuffix(".npz") { return .npz }
        if name.hasSuffix(".bin") { return .cifar }
        if name.contains("idx") || name.contains("ubyte") { return .idx }
        return .unknown
    }
}
