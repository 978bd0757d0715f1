import Foundation
import Testing
@testable import SNNKit

/// Bad dataset files: each must give its own error, naming the file and the field or
/// index, and none may crash the process.
@Suite struct DataErrorTests {
    typealias F = DataFixtures

    /// Opens `path` (with `labels`) and returns the error it must throw.
    func openError(_ path: String, labels: String? = nil, classCount: Int? = nil, labelsArray: String? = nil) throws -> DataError {
        try #require(F.error { try DataSources.open(path: path, labels: labels, classCount: classCount, labelsArray: labelsArray) })
    }

    @Test func truncatedNpy() throws {
        let error = try openError(F.badPath("truncated.npy"))
        guard case .truncated(let file, let field, let needed, let actual) = error else { Issue.record("\(error)"); return }
        #expect(file.hasSuffix("truncated.npy"))
        #expect(field.contains("(4, 3, 5, 6)"))
        #expect(needed == actual + 7)
        #expect(error.description.contains("truncated.npy"))
    }

    @Test func npyCutInsideTheHeader() throws {
        guard case .truncated(_, let field, _, _) = try openError(F.badPath("header_cut.npy")) else { Issue.record(); return }
        #expect(field == "header")
    }

    @Test func badMagicNpy() throws {
        let error = try openError(F.badPath("bad_magic.npy"))
        guard case .badMagic(let file, _, let found) = error else { Issue.record("\(error)"); return }
        #expect(file.hasSuffix("bad_magic.npy"))
        #expect(found == "0x934e554d5058")
    }

    @Test func unknownNpyVersion() throws {
        guard case .badHeader(_, let field, let detail) = try openError(F.badPath("version9.npy")) else { Issue.record(); return }
        #expect(field == "version")
        #expect(detail.contains("9.0"))
    }

    @Test func fortranOrderIsRefused() throws {
        let error = try openError(F.badPath("fortran.npy"))
        #expect(error == .fortranOrder(file: F.badPath("fortran.npy")))
        #expect(error.description.contains("Fortran"))
    }

    @Test(arguments: [("big_endian.npy", "'>f4' (big-endian)"), ("int16.npy", "'<i2'"), ("structured.npy", "structured")])
    func unsupportedImageDTypes(_ file: String, _ mention: String) throws {
        let error = try openError(F.badPath(file))
        guard case .unsupportedDType(let name, let dtype, _) = error else { Issue.record("\(error)"); return }
        #expect(name.hasSuffix(file))
        #expect(dtype.contains(mention))
        #expect(file == "structured.npy" || "\(error)".contains("arr.astype('<f4')"), "\(error)")
    }

    @Test func floatLabelsAreRefused() throws {
        let error = try openError(F.path("u8_nchw.npy"), labels: F.badPath("labels_f4.npy"))
        guard case .unsupportedDType(let file, let dtype, _) = error else { Issue.record("\(error)"); return }
        #expect(file.hasSuffix("labels_f4.npy"))
        #expect(dtype.contains("<f4"))
        // The fix it suggests is an integer type, not the float type it refused.
        #expect("\(error)".contains("arr.astype('<i8')") && !"\(error)".contains("astype('<f4')"), "\(error)")
    }

    @Test(arguments: ["empty.npy", "zero_width.npy"])
    func emptyDatasets(_ file: String) throws {
        let error = try openError(F.badPath(file))
        guard case .empty(let name, _) = error else { Issue.record("\(error)"); return }
        #expect(name.hasSuffix(file))
    }

    @Test func wrongRanks() throws {
        guard case .wrongRank(let file, let shape, _) = try openError(F.badPath("rank2.npy")) else { Issue.record(); return }
        #expect(file.hasSuffix("rank2.npy"))
        #expect(shape == [4, 12])
        guard case .wrongRank(let labels, let labelShape, _) = try openError(F.path("u8_nchw.npy"), labels: F.badPath("labels_2d.npy"))
        else { Issue.record(); return }
        #expect(labels.hasSuffix("labels_2d.npy"))
        #expect(labelShape == [4, 1])
        guard case .wrongRank(let idx, _, let expected) = try openError(F.badPath("labels-as-images-idx1-ubyte")) else { Issue.record(); return }
        #expect(idx.hasSuffix("labels-as-images-idx1-ubyte"))
        #expect(expected.contains("0x00000803"))
        guard case .wrongRank = try openError(F.path("digits-images-idx3-ubyte"), labels: F.path("digits-images-idx3-ubyte")) else {
            Issue.record(); return
        }
    }

    @Test func mismatchedCounts() throws {
        let error = try openError(F.path("u8_nchw.npy"), labels: F.badPath("labels_short.npy"))
        guard case .countMismatch(let images, 4, let labels, 3) = error else { Issue.record("\(error)"); return }
        #expect(images.hasSuffix("u8_nchw.npy"))
        #expect(labels.hasSuffix("labels_short.npy"))
    }

    @Test func labelsOutOfRange() throws {
        let negative = try openError(F.path("u8_nchw.npy"), labels: F.badPath("labels_negative.npy"))
        #expect(negative == .labelOutOfRange(file: F.badPath("labels_negative.npy"), index: 2, label: -1, classCount: nil))
        let big = try openError(F.path("u8_nchw.npy"), labels: F.badPath("labels_big.npy"), classCount: 5)
        #expect(big == .labelOutOfRange(file: F.badPath("labels_big.npy"), index: 2, label: 7, classCount: 5))
        #expect(big.description.contains("index 2"))
        // Without a class count, 7 is a fine label.
        #expect(try DataSources.open(path: F.path("u8_nchw.npy"), labels: F.badPath("labels_big.npy")).labels == [0, 1, 7, 2])
        // CIFAR labels are checked against the variant's class count.
        let cifar = try openError(F.badPath("cifar_badlabel"))
        guard case .labelOutOfRange(_, 0, 12, 10) = cifar else { Issue.record("\(cifar)"); return }
    }

    @Test func missingNpzArrays() throws {
        let error = try openError(F.badPath("no_images.npz"))
        guard case .missingArray(let file, _, let available) = error else { Issue.record("\(error)"); return }
        #expect(file.hasSuffix("no_images.npz"))
        #expect(available == ["foo", "bar"])
        #expect(error.description.contains("foo, bar"))
        let labels = try openError(F.badPath("labels_only_named.npz"), labelsArray: "labels")
        guard case .missingArray(_, "labels", ["images"]) = labels else { Issue.record("\(labels)"); return }
    }

    @Test func truncatedIDX() throws {
        let error = try openError(F.badPath("truncated-images-idx3-ubyte"))
        guard case .truncated(let file, let field, 226, 216) = error else { Issue.record("\(error)"); return }
        #expect(file.hasSuffix("truncated-images-idx3-ubyte"))
        #expect(field.contains("(5, 7, 6)"))
    }

    @Test func badMagicIDX() throws {
        // Named like IDX but starting with 01 02: the name picks the reader, the magic refuses it.
        guard case .badMagic(_, let expected, let found) = try openError(F.badPath("badmagic-images-idx3-ubyte")) else { Issue.record(); return }
        #expect(expected.contains("0x00000803"))
        #expect(found.hasPrefix("0x0102"))
    }

    @Test func floatIDXIsUnsupported() throws {
        guard case .unsupportedDType(_, let dtype, _) = try openError(F.badPath("float-images-idx3-ubyte")) else { Issue.record(); return }
        #expect(dtype.contains("0x0d"))
    }

    @Test func truncatedGzip() throws {
        let error = try openError(F.badPath("truncated-images-idx3-ubyte.gz"))
        switch error {
        case .truncated(let file, _, _, _), .corruptCompressedData(let file, _):
            #expect(file.hasSuffix("truncated-images-idx3-ubyte.gz"))
        default:
            Issue.record("\(error)")
        }
    }

    @Test func gzipChecksumMismatch() throws {
        let error = try openError(F.badPath("badcrc-images-idx3-ubyte.gz"))
        guard case .corruptCompressedData(let file, let detail) = error else { Issue.record("\(error)"); return }
        #expect(file.hasSuffix("badcrc-images-idx3-ubyte.gz"))
        #expect(detail.contains("CRC-32"))
    }

    @Test func gzipWithGarbageStream() throws {
        let error = try openError(F.badPath("garbage-images-idx3-ubyte.gz"))
        guard case .corruptCompressedData = error else { Issue.record("\(error)"); return }
    }

    @Test func truncatedCIFAR() throws {
        let error = try openError(F.badPath("cifar_truncated"))
        guard case .truncated(let file, let field, 6146, 3173) = error else { Issue.record("\(error)"); return }
        #expect(file.hasSuffix("data_batch_1.bin"))
        #expect(field.contains("record 1"))
    }

    @Test func unknownFormatAndMissingFiles() throws {
        guard case .unrecognizedFormat(let file, _) = try openError(F.badPath("unknown.dat")) else { Issue.record(); return }
        #expect(file.hasSuffix("unknown.dat"))
        guard case .unreadable(let missing, _) = try openError(F.badPath("nope.npy")) else { Issue.record(); return }
        #expect(missing.hasSuffix("nope.npy"))
        // A folder with neither .npz shards nor CIFAR batches.
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("snnkit-empty-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: empty) }
        try Data("notes".utf8).write(to: empty.appendingPathComponent("README.txt"))
        guard case .unrecognizedFormat = try openError(empty.path) else { Issue.record(); return }
    }

    @Test func cifarRefusesASeparateLabelsFile() throws {
        guard case .invalidArgument = try openError(F.path("cifar10"), labels: F.path("labels_u1.npy")) else { Issue.record(); return }
    }

    @Test func preprocessingMustFitTheChannels() throws {
        let error = try #require(F.error { try DataSources.open(path: F.path("gray_nhw_v2.npy"), preprocessing: .cifar10) })
        guard case .badPreprocessing(let source, let detail) = error else { Issue.record("\(error)"); return }
        #expect(source.hasSuffix("gray_nhw_v2.npy"))
        #expect(detail.contains("3 mean values"))
        let zero = F.error { try DataSources.open(path: F.path("u8_nchw.npy"), preprocessing: Preprocessing(std: [0])) }
        guard case .badPreprocessing = zero else { Issue.record(); return }
    }

    @Test func requestsPastTheEnd() throws {
        let source = try DataSources.open(path: F.path("u8_nchw.npy"))
        let error = try #require(F.error { try source.batch(2..<5) })
        #expect(error == .outOfRange(source: F.path("u8_nchw.npy"), requested: "2..<5", count: 4))
        #expect(error.description.contains("u8_nchw.npy"))
        guard case .outOfRange(_, let requested, 4) = try #require(F.error { try source.batch(at: [0, 4]) }) else { Issue.record(); return }
        #expect(requested.contains("index 4"))
        guard case .outOfRange = try #require(F.error { try source.batch(at: [-1]) }) else { Issue.record(); return }
    }

    /// Every good fixture cut at many lengths must be refused with a DataError, never crash
    /// (the cut files include gzip streams that end mid-block).
    @Test func cutFilesNeverCrash() throws {
        let files = [
            "u8_nchw.npy", "gray_nhw_v2.npy", "f32_nchw_v3.npy", "stored.npz", "deflated.npz", "streamed.npz",
            "digits-images-idx3-ubyte", "digits-images-idx3-ubyte.gz", "flags-images-idx3-ubyte.gz", "cifar10/data_batch_2.bin",
        ]
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("snnkit-data-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for name in files {
            let data = try Data(contentsOf: DataFixtures.root.appendingPathComponent(name))
            let cuts = Set([0, 1, 2, 5, 9, 10, 11, 12, 20, 40, 64, 100, 127, 128, 129] + Array(stride(from: 0, to: data.count, by: 37)))
            for cut in cuts.sorted() where cut < data.count {
                let url = directory.appendingPathComponent(URL(fileURLWithPath: name).lastPathComponent)
                try data.prefix(cut).write(to: url)
                let error = F.error { try DataSources.open(path: url.path) }
                #expect(error != nil, "\(name) cut to \(cut) bytes was accepted")
            }
        }
    }

    /// Each byte of a compressed file flipped: an error or (when the byte does not matter,
    /// e.g. a timestamp) a correct read; never a crash, a hang, or wrong pixels or labels
    /// (both formats carry a CRC-32 of the data).
    @Test(arguments: ["flags-images-idx3-ubyte.gz", "deflated.npz"])
    func flippedBytesInCompressedFilesNeverCrash(_ file: String) throws {
        let original = try Data(contentsOf: DataFixtures.root.appendingPathComponent(file))
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("snnkit-flip-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent(file)
        let isIDX = file.hasSuffix(".gz")
        let pixels = (isIDX ? F.expected.idx.pixels : F.expected.u8.pixels).map(Float.init)
        let labels = isIDX ? nil : F.expected.u8.labels
        for i in 0..<original.count {
            var data = original
            data[i] ^= 0x5A
            try data.write(to: url)
            do {
                // Named arrays, so that a flipped entry name is an error rather than "no labels".
                let source = try DataSources.open(
                    path: url.path, preprocessing: .identity, imagesArray: isIDX ? nil : "x", labelsArray: isIDX ? nil : "y")
                let batch = try source.batch(0..<source.count)
                #expect(batch.images.storage == pixels, "byte \(i) flipped gave other pixels")
                #expect(batch.labels == labels, "byte \(i) flipped gave other labels")
            } catch {
                #expect(error is DataError, "byte \(i): \(error)")
            }
        }
    }
}
