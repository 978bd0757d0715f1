import SNNGraph

extension Simulator {
    /// Multiply-accumulates per sample and step of the spiking part's convolutions that run
    /// dense, by kind: those with no spike kernel (depthwise and grouped ones), and those
    /// whose input is not a neuron layer's spikes but a sum (MobileNet's expansions read the
    /// linear bottleneck's projection plus the residual), which is dense at every step. A
    /// synaptic-operation count does not price this work: it is every output times its
    /// taps, whatever fires.
    public var denseWorkPerSampleStep: [ConvolutionKind: Int] {
        let producers = graph.producers()
        var work = [ConvolutionKind: Int]()
        for index in plan.partition.dynamicNodes {
            let node = graph.nodes[index]
            guard let kind = ConvolutionKind(node: node, in: graph),
                  let w = node.input(1).flatMap({ graph.constants[$0]?.shape }), w.count == 4,
                  let out = node.outputs.first.flatMap({ plan.shapes[$0] }), out.count == 4 else { continue }
            var spikeFed = false
            if let p = producers[node.inputs[0]], case .ifNeuron = graph.nodes[p].op { spikeFed = true }
            guard plan.convolutions[node.name] == nil || !spikeFed else { continue }
            work[kind, default: 0] += out.dropFirst().reduce(1, *) * w[1] * w[2] * w[3]
        }
        return work
    }
}
