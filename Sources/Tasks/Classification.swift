import SNNTensor

/// Top-k accuracy of class scores against integer labels.
public enum Classification {
    /// Number of samples whose label is among the k highest scores. Ties are broken
    /// towards the lower class index, like numpy's stable argsort on negated scores.
    public static func correct(scores: Tensor, labels: [Int], k: Int) -> Int {
        guard scores.rank == 2 else { return 0 }
        let (n, classes) = (scores.shape[0], scores.shape[1])
        var hits = 0
        for i in 0..<min(n, labels.count) {
            let row = scores.storage[(i * classes)..<((i + 1) * classes)]
            let target = row[row.startIndex + labels[i]]
            // Rank of the label: classes scoring higher, or equal with a lower index.
            var better = 0
            for (c, v) in row.enumerated() where v > target || (v == target && c < labels[i]) { better += 1 }
            if better < k { hits += 1 }
        }
        return hits
    }

    /// Predicted class per sample.
    public static func predictions(_ scores: Tensor) -> [Int] {
        let (n, classes) = (scores.shape[0], scores.shape[1])
        return (0..<n).map { i in
            var best = 0
            for c in 1..<classes where scores.storage[i * classes + c] > scores.storage[i * classes + best] { best = c }
            return best
        }
    }
}
