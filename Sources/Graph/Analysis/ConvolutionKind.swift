/// The families of 2-D convolution, which run on different kernels and cost differently per
/// multiply-accumulate: a depthwise convolution reads one input channel per output and has
/// no reuse across channels, a pointwise (1x1) one is a plain matrix product, a dense k x k
/// one is a matrix product over (channel, tap).
public enum ConvolutionKind: String, Sendable, Codable, CaseIterable {
    /// One group per input channel, each reading only its own channel (MobileNet's 3x3).
    case depthwise
    /// A 1 x 1 kernel over all input channels (expansion, projection, shortcuts).
    case pointwise
    /// A k x k kernel (k > 1) over all input channels of one group.
    case dense
    /// Any other grouping of channels (ResNeXt's groups, for instance).
    case grouped

    /// The kind of a Conv node, from its weight [C_out, C_in / group, kH, kW] and group count;
    /// nil when the node is not a Conv or its weight is not a constant of rank 4.
    public init?(node: Node, in graph: Graph) {
        guard case .conv(let a) = node.op, let name = node.input(1), let w = graph.constants[name]?.shape, w.count == 4 else { return nil }
        if a.group > 1 && w[1] == 1 {
            self = .depthwise
        } else if a.group > 1 {
            self = .grouped
        } else {
            self = w[2] == 1 && w[3] == 1 ? .pointwise : .dense
        }
    }
}
