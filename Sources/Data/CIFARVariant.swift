/// The two record layouts of the CIFAR binary release: each record is the label
/// byte(s) followed by 3072 pixel bytes, 32x32 red, then green, then blue (CHW).
/// CIFAR-100 records carry a coarse (20 superclasses) and a fine (100 classes) label;
/// the fine one is used, as in the usual CIFAR-100 benchmark.
public enum CIFARVariant: String, Sendable, CaseIterable {
    /// CIFAR-10 (one label byte) or CIFAR-100 (coarse and fine label bytes).
    case cifar10, cifar100

    /// Bytes per record: the label bytes and 3072 pixels.
    public var recordSize: Int { labelBytes + 3072 }
    /// 10 or 100 classes.
    public var classCount: Int { self == .cifar10 ? 10 : 100 }
    var labelBytes: Int { self == .cifar10 ? 1 : 2 }
    /// Offset of the label used within a record (CIFAR-100: the fine label, second).
    var labelOffset: Int { labelBytes - 1 }

    /// The variant a file most likely holds: from the release's file names
    /// (`data_batch_N.bin`/`test_batch.bin` vs `train.bin`/`test.bin`), else from which
    /// record size divides the file size. Nil when neither tells.
    static func infer(fileName: String, size: Int) -> CIFARVariant? {
        if fileName.hasPrefix("data_batch") || fileName.hasPrefix("test_batch") { return .cifar10 }
        if fileName == "train.bin" || fileName == "test.bin" { return .cifar100 }
        let fits = allCases.filter { size > 0 && size % $0.recordSize == 0 }
        return fits.count == 1 ? fits[0] : nil
    }
}
