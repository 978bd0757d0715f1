import Foundation
import Testing
@testable import SNNKit
@testable import SNNData

/// Every reader against the numpy-made fixtures: exact pixels and labels, layouts,
/// dtypes, header versions, archives, gzip, CIFAR records and preprocessing.
@Suite struct DataTests {
    typealias F = DataFixtures
    var expected: DataFixtures.Expected { F.expected }

    func all(_ source: some DataSource) throws -> Batch { try source.batch(0..<source.count) }

    // MARK: .npy

    @Test func npyUInt8NCHWReadsExactPixelsAndLabels() throws {
        let source = try DataSources.open(path: F.path("u8_nchw.npy"), labels: F.path("labels_u1.npy"), preprocessing: Preprocessing.identity)
        #expect(source.count == 4)
        #expect(source.sampleShape == [3, 5, 6])
        #expect(source.storedLayout == .nchw)
        let batch = try all(source)
        #expect(batch.images.shape == expected.u8.shape)
        #expect(batch.images.storage == expected.u8.pixels.map(Float.init))
        #expect(batch.labels == expected.u8.labels)
    }

    @Test func npyNHWCIsInferredAndTransposedToNCHW() throws {
        let nhwc = try DataSources.open(path: F.path("u8_nhwc.npy"), preprocessing: Preprocessing.identity)
        #expect(nhwc.storedLayout == .nhwc)
        #expect(nhwc.sampleShape == [3, 5, 6])
        #expect(try all(nhwc).images.storage == expected.u8.pixels.map(Float.init))
        #expect(nhwc.labels == nil)
        // Told otherwise, the reader believes the caller.
        let forced = try DataSources.open(path: F.path("u8_nhwc.npy"), layout: .nchw, preprocessing: Preprocessing.identity)
        #expect(forced.sampleShape == [5, 6, 3])
    }

    @Test func layoutInference() {
        #expect(ImageLayout.infer(shape: [10, 32, 32, 3]) == .nhwc)
        #expect(ImageLayout.infer(shape: [10, 28, 28, 1]) == .nhwc)
        #expect(ImageLayout.infer(shape: [10, 3, 32, 32]) == .nchw)
        #expect(ImageLayout.infer(shape: [10, 1, 28, 28]) == .nchw)
        #expect(ImageLayout.infer(shape: [10, 3, 8, 3]) == .nchw)  // ambiguous: NCHW wins
    }

    @Test func npyGrayscaleVersion2IsOneChannel() throws {
        let source = try DataSources.open(path: F.path("gray_nhw_v2.npy"), preprocessing: Preprocessing.identity)
        #expect(source.sampleShape == [1, 7, 5])
        let batch = try all(source)
        #expect(batch.images.shape == expected.gray.shape)
        #expect(batch.images.storage == expected.gray.pixels.map(Float.init))
        #expect(try NumPyArray.open(DataFixtures.root.appendingPathComponent("gray_nhw_v2.npy")).formatVersion == 2)
    }

    @Test func npyFloat32Version3IsTakenAsPreprocessed() throws {
        let source = try DataSources.open(path: F.path("f32_nchw_v3.npy"))
        #expect(source.preprocessing == .identity)
        let batch = try all(source)
        #expect(batch.images.shape == expected.f32.shape)
        #expect(batch.images.storage == expected.f32.values.map { Float($0) })
        #expect(try NumPyArray.open(DataFixtures.root.appendingPathComponent("f32_nchw_v3.npy")).formatVersion == 3)
    }

    @Test func npyFloat64NHWCSingleChannel() throws {
        let source = try DataSources.open(path: F.path("f64_nhwc.npy"))
        #expect(source.storedLayout == .nhwc)
        let batch = try all(source)
        #expect(batch.images.shape == expected.f64.shape)
        #expect(batch.images.storage == expected.f64.values.map { Float($0) })
    }

    @Test func bytesDefaultToUnitScaling() throws {
        let source = try DataSources.open(path: F.path("u8_nchw.npy"))
        #expect(source.preprocessing == .unit)
        #expect(Array(try source.batch(0..<1).images.storage.prefix(10)) == expected.u8.pixels.prefix(10).map { Float($0) * (1 / 255 as Float) })
    }

    @Test(arguments: ["labels_u1.npy", "labels_i4.npy", "labels_i8.npy", "digits-labels-idx1-ubyte"])
    func labelDTypes(_ file: String) throws {
        let images = file.hasPrefix("digits") ? "digits-images-idx3-ubyte" : "u8_nchw.npy"
        let source = try DataSources.open(path: F.path(images), labels: F.path(file))
        #expect(source.labels == (file.hasPrefix("digits") ? expected.idx.labels : expected.u8.labels))
    }

    @Test func booleanLabels() throws {
        let source = try DataSources.open(path: F.path("u8_nchw.npy"), labels: F.path("labels_b1.npy"))
        #expect(source.labels == expected.u8.bool_labels)
    }

    // MARK: .npz

    @Test(arguments: [
        ("stored.npz", nil, nil), ("deflated.npz", nil, nil), ("positional.npz", nil, nil),
        ("named.npz", "pix", "cls"), ("streamed.npz", nil, nil),
    ] as [(String, String?, String?)])
    func npzArrays(_ file: String, _ images: String?, _ labels: String?) throws {
        let source = try DataSources.open(path: F.path(file), preprocessing: Preprocessing.identity, imagesArray: images, labelsArray: labels)
        #expect(source.sampleShape == [3, 5, 6])
        let batch = try all(source)
        #expect(batch.images.storage == expected.u8.pixels.map(Float.init))
        // streamed.npz has no labels array (its other array is called 'pad').
        #expect(batch.labels == (file == "streamed.npz" ? nil : expected.u8.labels))
    }

    @Test(arguments: ["stored.npz", "streamed.npz"])
    func storedNpzEntriesAreMappedInPlace(_ file: String) throws {
        let url = DataFixtures.root.appendingPathComponent(file)
        let mapped = try FileBytes(mapping: url)
        let archive = try NPZArchive(url: url, mapped: mapped)
        let path = try #require(archive.find(NPZArchive.defaultImageNames))
        let array = try archive.array(path)
        #expect(array.bytes === mapped)
        #expect(array.name == "\(url.path):\(path)")
    }

    /// Uncompressed formats are read through the mapping (a batch touches only its own
    /// pages); only compressed ones are inflated into memory.
    @Test func uncompressedFilesStayMapped() throws {
        for file in ["u8_nchw.npy", "stored.npz", "digits-images-idx3-ubyte", "cifar10"] {
            #expect(try DataSources.open(path: F.path(file)).segments.allSatisfy(\.bytes.isMapped), "\(file)")
        }
        for file in ["deflated.npz", "digits-images-idx3-ubyte.gz"] {
            #expect(try DataSources.open(path: F.path(file)).segments.allSatisfy { !$0.bytes.isMapped }, "\(file)")
        }
    }

    @Test func npzLabelsFromASeparateFileWin() throws {
        let source = try DataSources.open(path: F.path("stored.npz"), labels: F.path("labels_b1.npy"))
        #expect(source.labels == expected.u8.bool_labels)
    }

    // MARK: IDX

    @Test(arguments: ["digits-images-idx3-ubyte", "digits-images-idx3-ubyte.gz", "flags-images-idx3-ubyte.gz"])
    func idxImages(_ file: String) throws {
        let labels = file.hasSuffix(".gz") ? "digits-labels-idx1-ubyte.gz" : "digits-labels-idx1-ubyte"
        let source = try DataSources.open(path: F.path(file), labels: F.path(labels), preprocessing: Preprocessing.identity, classCount: 10)
        #expect(source.sampleShape == [1, 7, 6])
        let batch = try all(source)
        #expect(batch.images.shape == expected.idx.shape)
        #expect(batch.images.storage == expected.idx.pixels.map(Float.init))
        #expect(batch.labels == expected.idx.labels)
    }

    @Test func idxEntryPoint() throws {
        let source = try DataSources.idx(
            images: DataFixtures.root.appendingPathComponent("digits-images-idx3-ubyte.gz"),
            labels: DataFixtures.root.appendingPathComponent("digits-labels-idx1-ubyte"))
        #expect(source.count == 5)
        #expect(source.labels == expected.idx.labels)
    }

    // MARK: CIFAR

    @Test func cifar10FolderConcatenatesTrainingBatches() throws {
        let source = try DataSources.open(path: F.path("cifar10"), preprocessing: Preprocessing.identity)
        #expect(source.count == expected.cifar10.train.count)
        #expect(source.sampleShape == [3, 32, 32])
        let batch = try all(source)
        #expect(batch.labels == expected.cifar10.train.map(\.label))
        for (i, record) in expected.cifar10.train.enumerated() {
            #expect(F.checksum(batch.images.storage[i * 3072..<(i + 1) * 3072]) == record.checksum)
        }
    }

    @Test func cifar10TestSplitAndSingleFile() throws {
        let folder = DataFixtures.root.appendingPathComponent("cifar10")
        let test = try DataSources.cifar(folder: folder, split: .test, preprocessing: Preprocessing.identity)
        let file = try DataSources.open(path: F.path("cifar10/test_batch.bin"), preprocessing: Preprocessing.identity)
        let want = try #require(expected.cifar10.test)
        for source in [test, file] {
            let batch = try all(source)
            #expect(batch.labels == want.map(\.label))
            #expect(F.checksum(batch.images.storage[...]) == want[0].checksum)
        }
    }

    @Test func cifar100UsesFineLabels() throws {
        let source = try DataSources.open(path: F.path("cifar100"), preprocessing: Preprocessing.identity)
        let batch = try all(source)
        #expect(batch.labels == expected.cifar100.train.map(\.label))
        for (i, record) in expected.cifar100.train.enumerated() {
            #expect(F.checksum(batch.images.storage[i * 3072..<(i + 1) * 3072]) == record.checksum)
        }
    }

    // MARK: Preprocessing

    @Test func presetsMatchNumpy() throws {
        let cifar = try DataSources.open(path: F.path("u8_nchw.npy"), preprocessing: .cifar10)
        #expect(F.maxRelativeError(try all(cifar).images.storage, expected.u8.cifar10) < 1e-5)
        let imagenet = try DataSources.open(path: F.path("u8_nhwc.npy"), preprocessing: .imagenet)
        #expect(F.maxRelativeError(try imagenet.batch(0..<1).images.storage, expected.u8.imagenet_first) < 1e-5)
        let mnist = try DataSources.open(path: F.path("gray_nhw_v2.npy"), preprocessing: .mnist)
        #expect(F.maxRelativeError(try all(mnist).images.storage, expected.gray.mnist) < 1e-5)
        let unit = try DataSources.open(path: F.path("digits-images-idx3-ubyte.gz"), preprocessing: .unit)
        #expect(F.maxRelativeError(try all(unit).images.storage, expected.idx.unit) < 1e-6)
    }

    @Test func presetsByName() throws {
        #expect(try Preprocessing.named("CIFAR10") == .cifar10)
        #expect(try Preprocessing.named("imagenet").mean == [0.485, 0.456, 0.406])
        #expect(try Preprocessing.named("none") == .identity)
        let error = try #require(F.error { try Preprocessing.named("coco") })
        #expect(error.description.contains("coco"))
        #expect(error.description.contains("cifar10"))
    }

    @Test func floatDataTakesAGivenPreset() throws {
        let source = try DataSources.open(path: F.path("f32_nchw_v3.npy"), preprocessing: Preprocessing(scale: 2, mean: [1], std: [4]))
        let want = expected.f32.values.map { ($0 * 2 - 1) / 4 }
        #expect(F.maxRelativeError(try all(source).images.storage, want) < 1e-6)
    }

    // MARK: Batches from a source

    @Test func batchAtIndicesKeepsTheirOrder() throws {
        let source = try DataSources.open(path: F.path("u8_nchw.npy"), labels: F.path("labels_u1.npy"), preprocessing: Preprocessing.identity)
        let batch = try source.batch(at: [3, 1, 3])
        let plane = 90
        let pixels = expected.u8.pixels.map(Float.init)
        #expect(batch.images.shape == [3, 3, 5, 6])
        #expect(Array(batch.images.storage[0..<plane]) == Array(pixels[3 * plane..<4 * plane]))
        #expect(Array(batch.images.storage[plane..<2 * plane]) == Array(pixels[plane..<2 * plane]))
        #expect(batch.labels == [1, 0, 1])
        #expect(try source.batch(2..<2).images.shape == [0, 3, 5, 6])
    }

    @Test func meanAndStdWithoutAScaleFollowTheStoredType() throws {
        var custom = Preprocessing(name: "custom", mean: [0.5], std: [0.25])
        custom.scaleFollowsDataType = true
        let raw = try DataSources.open(path: F.path("u8_nchw.npy"), preprocessing: .identity).batch(0..<1).images
        let bytes = try DataSources.open(path: F.path("u8_nchw.npy"), preprocessing: custom).batch(0..<1).images
        for (x, y) in zip(raw.storage, bytes.storage) { #expect(abs(y - (x / 255 - 0.5) / 0.25) < 1e-5) }
        let floats = try DataSources.open(path: F.path("f32_nchw_v3.npy"), preprocessing: custom).batch(0..<1).images
        let rawFloats = try DataSources.open(path: F.path("f32_nchw_v3.npy"), preprocessing: .identity).batch(0..<1).images
        for (x, y) in zip(rawFloats.storage, floats.storage) { #expect(abs(y - (x - 0.5) / 0.25) < 1e-5) }
    }
}
