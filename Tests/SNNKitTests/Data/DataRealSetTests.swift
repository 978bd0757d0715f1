import Foundation
import Testing
@testable import SNNKit

/// The real MNIST and CIFAR-10 test sets from the shared datasets folder, against what
/// numpy read from them (expected.json). Skipped where the folder is absent.
@Suite struct DataRealSetTests {
    @Test(.enabled(if: DataFixtures.hasMNIST, "needs ../shared/datasets/mnist"))
    func mnistGzipIDX() throws {
        let source = try DataSources.open(
            path: DataFixtures.mnistImages.path, labels: DataFixtures.mnistLabels.path, preprocessing: .identity, classCount: 10)
        #expect(source.count == 10000)
        #expect(source.sampleShape == [1, 28, 28])
        let labels = try #require(source.labels)
        #expect(labels.allSatisfy { (0..<10).contains($0) })
        #expect(Set(labels).count == 10)
        let first = try source.batch(0..<16)
        #expect(first.images.shape == [16, 1, 28, 28])
        #expect(first.images.storage.allSatisfy { $0 >= 0 && $0 <= 255 })
        let last = try source.batch(9999..<10000)
        #expect(last.images.shape == [1, 1, 28, 28])
        if let want = DataFixtures.expected.real["mnist"] {
            #expect(want.count == 10000)
            #expect(Array(labels.prefix(10)) == want.first_labels)
            #expect(first.images.storage.prefix(784).reduce(0, +) == Float(want.first_image_sum))
        }
    }

    @Test(.enabled(if: DataFixtures.hasCIFAR, "needs ../shared/datasets/cifar10"))
    func cifar10NHWCNumpy() throws {
        let source = try DataSources.open(
            path: DataFixtures.cifarImages.path, labels: DataFixtures.cifarLabels.path, preprocessing: .identity, classCount: 10)
        #expect(source.count == 10000)
        #expect(source.storedLayout == .nhwc)
        #expect(source.sampleShape == [3, 32, 32])
        let labels = try #require(source.labels)
        #expect(labels.allSatisfy { (0..<10).contains($0) })
        let first = try source.batch(0..<8)
        #expect(first.images.shape == [8, 3, 32, 32])
        if let want = DataFixtures.expected.real["cifar10"] {
            #expect(want.count == 10000)
            #expect(Array(labels.prefix(10)) == want.first_labels)
            #expect(first.images.storage.prefix(3072).reduce(0, +) == Float(want.first_image_sum))
            // Red channel, row 0, column 1: checks the NHWC -> NCHW transpose on real data.
            if let red = want.first_image_red_0_1 { #expect(first.images.storage[1] == Float(red)) }
        }
        // The usual normalisation keeps values within a few standard deviations.
        let normalised = try DataSources.open(path: DataFixtures.cifarImages.path, preprocessing: .cifar10)
        let values = try normalised.batch(0..<64).images.storage
        #expect(values.allSatisfy { abs($0) < 3 })
        let mean = values.reduce(0, +) / Float(values.count)
        #expect(abs(mean) < 0.5)
    }
}
