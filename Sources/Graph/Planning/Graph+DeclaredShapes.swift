extension Graph {
    /// The runtime inputs' shapes: those in `given` as given, the others as the model
    /// declares them, with the first axis, when symbolic or unknown, set to `batch` and any
    /// other unknown axis to 1 (the first input's batch axis is `batch` whenever `batch` is
    /// not 1). Throws `GraphError.badInput` for an input neither given nor declared.
    public func declaredInputShapes(batch: Int = 1, given: [String: [Int]] = [:]) throws -> [String: [Int]] {
        var shapes = [String: [Int]]()
        for (i, input) in runtimeInputs.enumerated() {
            if let shape = given[input.name] {
                shapes[input.name] = shape
                continue
            }
            guard let dims = input.dimensions else {
                throw GraphError.badInput(name: input.name, message: "the model does not declare its shape; pass --input-shape")
            }
            shapes[input.name] = dims.enumerated().map { axis, d in d.value.flatMap { $0 > 0 ? $0 : nil } ?? (axis == 0 ? batch : 1) }
            if i == 0 && batch != 1 && !dims.isEmpty { shapes[input.name]![0] = batch }
        }
        return shapes
    }
}
