/// How each array format becomes an `ArraySource`: which axes are channels, rows and
/// columns, and which element types can be pixels.
extension ArraySource {
    /// A `.npy` array: (N, C, H, W), (N, H, W, C) or (N, H, W) single-channel; uint8,
    /// float32 or float64 (read as float32).
    init(
        images array: NumPyArray, labels: (values: [Int], file: String)?, layout: ImageLayout?,
        preprocessing: Preprocessing?, classCount: Int?
    ) throws {
        let pixelType: PixelType
        switch array.dtype {
        case .uint8: pixelType = .uint8
        case .float32: pixelType = .float32
        case .float64: pixelType = .float64
        case .bool, .int32, .int64:
            throw DataError.unsupportedDType(file: array.name, dtype: "'\(array.dtype.descr)' for images", supported: "|u1, <f4, <f8")
        }
        let shape = array.shape
        let sample: [Int], stored: ImageLayout
        switch shape.count {
        case 3:
            sample = [1, shape[1], shape[2]]
            stored = .nchw
        case 4:
            stored = layout ?? ImageLayout.infer(shape: shape)
            sample = stored == .nchw ? [shape[1], shape[2], shape[3]] : [shape[3], shape[1], shape[2]]
        default:
            throw DataError.wrongRank(file: array.name, shape: shape, expected: "images (N, C, H, W), (N, H, W, C) or (N, H, W)")
        }
        let sampleBytes = sample.reduce(pixelType.byteSize, *)
        try self.init(
            name: array.name,
            segments: [Segment(bytes: array.bytes, offset: array.dataOffset, count: shape[0], stride: sampleBytes)],
            pixelType: pixelType, shape: sample, layout: stored, labels: labels, preprocessing: preprocessing, classCount: classCount)
    }

    /// An IDX images file: (N, H, W) bytes, one channel.
    init(images file: IDXFile, labels: (values: [Int], file: String)?, preprocessing: Preprocessing?, classCount: Int?) throws {
        let shape = file.shape
        guard shape.count == 3 else {
            throw DataError.wrongRank(file: file.name, shape: shape, expected: "IDX images (N, H, W), magic 0x00000803")
        }
        try self.init(
            name: file.name,
            segments: [Segment(bytes: file.bytes, offset: file.dataOffset, count: shape[0], stride: shape[1] * shape[2])],
            pixelType: .uint8, shape: [1, shape[1], shape[2]], layout: .nchw, labels: labels, preprocessing: preprocessing,
            classCount: classCount)
    }
}
