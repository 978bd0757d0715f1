import Testing
@testable import SNNKit
@testable import SNNData

/// Splitting a source into batches: partial or dropped last batch, cycling past the end,
/// seeded shuffles that repeat exactly.
@Suite struct DataBatchesTests {
    /// Sample i is one pixel of value i, labelled i % 3; reads go through the protocol's
    /// default `batch(at:)`.
    struct Counting: DataSource {
        var count: Int
        var name: String { "counting" }
        var sampleShape: [Int] { [1, 1, 1] }
        var hasLabels: Bool { true }
        func batch(_ range: Range<Int>) throws -> Batch {
            try checkRange(range)
            return Batch(images: Tensor(shape: [range.count, 1, 1, 1], storage: range.map(Float.init)), labels: range.map { $0 % 3 })
        }
    }

    func samples(_ batches: Batches) -> [[Int]] { batches.map(\.samples) }

    @Test func lastBatchIsPartialOrDropped() throws {
        let source = Counting(count: 7)
        #expect(samples(try Batches(source, batchSize: 3)) == [[0, 1, 2], [3, 4, 5], [6]])
        #expect(samples(try Batches(source, batchSize: 3, dropLast: true)) == [[0, 1, 2], [3, 4, 5]])
        #expect(try Batches(source, batchSize: 7, dropLast: true).count == 1)
        let loaded = try Batches(source, batchSize: 3).map { try $0.load() }
        #expect(loaded.map(\.images.shape) == [[3, 1, 1, 1], [3, 1, 1, 1], [1, 1, 1, 1]])
        #expect(loaded[2].images.storage == [6])
        #expect(loaded[2].labels == [0])
    }

    @Test func cyclingWrapsIntoFurtherEpochs() throws {
        let batches = try Batches(Counting(count: 4), batchSize: 3, total: 5)
        #expect(batches.batchesPerEpoch == 2)
        #expect(samples(batches) == [[0, 1, 2], [3], [0, 1, 2], [3], [0, 1, 2]])
        #expect(batches.map(\.epoch) == [0, 0, 1, 1, 2])
        #expect(try batches.batch(9).images.storage == [3])
        let dropped = try Batches(Counting(count: 4), batchSize: 3, dropLast: true, total: 3)
        #expect(samples(dropped) == [[0, 1, 2], [0, 1, 2], [0, 1, 2]])
    }

    @Test func seededShufflesRepeatAndEachEpochIsAPermutation() throws {
        let source = Counting(count: 50)
        let a = try Batches(source, batchSize: 8, shuffleSeed: 42, total: 14)
        let b = try Batches(source, batchSize: 8, shuffleSeed: 42, total: 14)
        let c = try Batches(source, batchSize: 8, shuffleSeed: 43, total: 14)
        #expect(samples(a) == samples(b))
        #expect(samples(a) != samples(c))
        let epochs = Dictionary(grouping: a, by: \.epoch).mapValues { $0.flatMap(\.samples) }
        #expect(epochs[0]?.sorted() == Array(0..<50))
        #expect(epochs[1]?.sorted() == Array(0..<50))
        #expect(epochs[0] != epochs[1])
        #expect(epochs[0] != Array(0..<50))
        // Fixed values (checked against a Python transcription of SplitMix64, Lemire's
        // bounded draw and Fisher-Yates): the shuffle must not change with the platform or
        // the Swift version.
        #expect(try a.samples(ofBatch: 0) == [42, 24, 12, 26, 44, 4, 35, 29])
        var generator = SplitMix64(seed: 0)
        #expect(generator.next() == 0xE220_A839_7B1D_CDAF)
    }

    @Test func randomAccessMatchesIteration() throws {
        let batches = try Batches(Counting(count: 23), batchSize: 5, shuffleSeed: 7, total: 12)
        for item in batches {
            #expect(try batches.samples(ofBatch: item.index) == item.samples)
            let loaded = try item.load()
            #expect(try batches.batch(item.index) == loaded)
            #expect(loaded.images.storage == item.samples.map(Float.init))
            #expect(loaded.labels == item.samples.map { $0 % 3 })
        }
    }

    @Test func shuffledBatchesFromAFile() throws {
        let source = try DataSources.open(
            path: DataFixtures.path("u8_nchw.npy"), labels: DataFixtures.path("labels_u1.npy"), preprocessing: .identity)
        let batches = try Batches(source, batchSize: 3, shuffleSeed: 1, total: 4)
        let pixels = DataFixtures.expected.u8.pixels.map(Float.init)
        for item in batches {
            let batch = try item.load()
            for (position, sample) in item.samples.enumerated() {
                #expect(Array(batch.images.storage[position * 90..<(position + 1) * 90]) == Array(pixels[sample * 90..<(sample + 1) * 90]))
                #expect(batch.labels?[position] == DataFixtures.expected.u8.labels[sample])
            }
        }
    }

    @Test func badArguments() throws {
        let source = Counting(count: 4)
        for make in [
            { try Batches(source, batchSize: 0) },
            { try Batches(source, batchSize: 5, dropLast: true) },
            { try Batches(source, batchSize: 2, total: -1) },
            { try Batches(Counting(count: 0), batchSize: 2) },
        ] {
            #expect(DataFixtures.error(make) != nil)
        }
        #expect(DataFixtures.error { try Batches(source, batchSize: 2).batch(-1) } != nil)
        #expect(DataFixtures.error { try Batches(source, batchSize: 2).samples(ofBatch: -3) } != nil)
    }
}
