import SNNTensor

/// Semantic-segmentation confusion matrix: per-pixel argmax of class scores against
/// integer masks, accumulated over batches.
///
/// Rows are ground-truth classes, columns predicted classes: `counts[t * classes + p]`
/// pixels of class `t` were predicted as `p`. Pixels whose label is the ignore label are
/// not counted at all (whatever the prediction), so every metric is over the labelled
/// pixels only. The metrics follow the usual definitions (torchvision's reference scripts,
/// mmsegmentation):
///
/// - IoU of class c = TP / (TP + FP + FN) = `counts[c][c] / (row c + column c - counts[c][c])`,
///   undefined (`nil`) when the class appears in neither the masks nor the predictions;
/// - mIoU = mean of the defined per-class IoUs;
/// - pixel accuracy = correctly predicted pixels / labelled pixels.
///
/// Adding is all-or-nothing: when `add` throws, the matrix is unchanged.
public struct ConfusionMatrix: Sendable, Equatable, Codable {
    /// Number of classes K (the scores' channel count).
    public let classes: Int
    /// Mask value that marks pixels to leave out (255 in Pascal VOC and Cityscapes), or nil.
    /// It wins over a class of the same value.
    public let ignoreLabel: Int?
    /// K x K counts, row-major: ground truth `t`, prediction `p` at `t * classes + p`.
    public private(set) var counts: [Int]
    /// Samples (images) added so far; error messages number samples from here.
    public private(set) var samples: Int = 0
    /// Pixels left out because their label is the ignore label.
    public private(set) var ignoredPixels: Int = 0

    /// An empty K x K matrix for `classes` classes; mask pixels equal to `ignoreLabel` are left out.
    public init(classes: Int, ignoreLabel: Int? = 255) {
        precondition(classes > 0, "a confusion matrix needs at least one class")
        self.classes = classes
        self.ignoreLabel = ignoreLabel
        counts = [Int](repeating: 0, count: classes * classes)
    }

    /// Pixels of ground-truth class `truth` predicted as `predicted`.
    public subscript(truth truth: Int, predicted predicted: Int) -> Int {
        counts[truth * classes + predicted]
    }

    /// Labelled (non-ignored) pixels counted so far.
    public var pixels: Int { counts.reduce(0, +) }

    /// Adds a batch: `scores` is `[N, K, H, W]` (logits or probabilities; the prediction
    /// is the argmax over K, ties going to the lower class index like `numpy.argmax`), and
    /// `masks` holds `N * H * W` labels in row-major `[N, H, W]` order, `maskShape` being
    /// `[N, H, W]`. Labels are class indices in `0..<K` or the ignore label.
    ///
    /// Errors name samples by their running index (`samples` + position in the batch); a
    /// mask size mismatch names the batch's first sample, since one shape covers the batch.
    public mutating func add(scores: Tensor, masks: [Int], maskShape: [Int]) throws {
        guard scores.rank == 4 else {
            throw TaskError.badShape(what: "segmentation scores", shape: scores.shape, expected: "[N, K, H, W]")
        }
        let (n, k, h, w) = (scores.shape[0], scores.shape[1], scores.shape[2], scores.shape[3])
        guard k == classes else {
            throw TaskError.countMismatch(what: "segmentation scores: classes (channels of [N, K, H, W])", expected: classes, actual: k)
        }
        guard maskShape.count == 3 else {
            throw TaskError.badShape(what: "segmentation masks", shape: maskShape, expected: "[N, H, W]")
        }
        guard maskShape[0] == n else {
            throw TaskError.countMismatch(what: "segmentation masks: one per score map (N of [N, K, H, W])", expected: n, actual: maskShape[0])
        }
        guard maskShape[1] == h, maskShape[2] == w else {
            throw TaskError.maskSizeMismatch(sample: samples, mask: [maskShape[1], maskShape[2]], scores: [h, w])
        }
        guard masks.count == n * h * w else {
            throw TaskError.countMismatch(what: "segmentation masks: labels for shape \(TaskError.format(maskShape))",
                                          expected: n * h * w, actual: masks.count)
        }
        // Validate every label before counting anything.
        let plane = h * w
        for (index, label) in masks.enumerated() where !(label >= 0 && label < classes) && label != ignoreLabel {
            throw TaskError.labelOutOfRange(sample: samples + index / plane, y: index % plane / w, x: index % w,
                                            label: label, classes: classes, ignoreLabel: ignoreLabel)
        }
        var best = [Float](repeating: 0, count: plane)
        var predicted = [Int](repeating: 0, count: plane)
        scores.storage.withUnsafeBufferPointer { s in
            for i in 0..<n {
                let base = i * k * plane
                for p in 0..<plane { best[p] = s[base + p]; predicted[p] = 0 }
                for c in 1..<k {
                    let channel = base + c * plane
                    for p in 0..<plane where s[channel + p] > best[p] {
                        best[p] = s[channel + p]
                        predicted[p] = c
                    }
                }
                for p in 0..<plane {
                    let label = masks[i * plane + p]
                    if label == ignoreLabel {  // takes precedence, even when it is a class index
                        ignoredPixels += 1
                    } else {
                        counts[label * classes + predicted[p]] += 1
                    }
                }
            }
        }
        samples += n
    }

    /// Throws unless the decoded counts are K x K and none is negative.
    func validate() throws {
        guard classes > 0, counts.count == classes * classes, samples >= 0, ignoredPixels >= 0, counts.allSatisfy({ $0 >= 0 }) else {
            throw TaskError.invalidArgument("a confusion matrix of \(classes) classes holds \(counts.count) counts (expected \(classes) x \(classes), none negative)")
        }
    }

    /// Adds another matrix's counts (e.g. from another thread or shard).
    public mutating func merge(_ other: ConfusionMatrix) throws {
        guard other.classes == classes, other.ignoreLabel == ignoreLabel else {
            throw TaskError.invalidArgument(
                "cannot merge a confusion matrix of \(other.classes) classes (ignore label \(other.ignoreLabel.map(String.init) ?? "none")) "
                    + "into one of \(classes) classes (ignore label \(ignoreLabel.map(String.init) ?? "none")).")
        }
        for i in counts.indices { counts[i] += other.counts[i] }
        samples += other.samples
        ignoredPixels += other.ignoredPixels
    }

    /// Ground-truth pixels of class c (row sums).
    public var truthPixels: [Int] {
        (0..<classes).map { t in (0..<classes).reduce(0) { $0 + counts[t * classes + $1] } }
    }

    /// Pixels predicted as class c (column sums).
    public var predictedPixels: [Int] {
        (0..<classes).map { p in (0..<classes).reduce(0) { $0 + counts[$1 * classes + p] } }
    }

    /// IoU per class; nil for a class that appears in neither the masks nor the predictions.
    public var classIoU: [Double?] {
        let truth = truthPixels, predicted = predictedPixels
        return (0..<classes).map { c in
            let hit = counts[c * classes + c]
            let union = truth[c] + predicted[c] - hit
            return union > 0 ? Double(hit) / Double(union) : nil
        }
    }

    /// Mean IoU over the classes whose IoU is defined; nil before any labelled pixel.
    public var meanIoU: Double? {
        let defined = classIoU.compactMap { $0 }
        return defined.isEmpty ? nil : defined.reduce(0, +) / Double(defined.count)
    }

    /// Correct pixels / labelled pixels; nil before any labelled pixel.
    public var pixelAccuracy: Double? {
        let total = pixels
        guard total > 0 else { return nil }
        let correct = (0..<classes).reduce(0) { $0 + counts[$1 * classes + $1] }
        return Double(correct) / Double(total)
    }

    /// Per-class accuracy (recall, TP / ground-truth pixels); nil for a class absent from the masks.
    public var classAccuracy: [Double?] {
        let truth = truthPixels
        return (0..<classes).map { c in truth[c] > 0 ? Double(counts[c * classes + c]) / Double(truth[c]) : nil }
    }
}
