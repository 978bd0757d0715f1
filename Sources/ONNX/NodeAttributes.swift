import Foundation
import SNNGraph

/// Typed access to one node's ONNX attributes, with errors that name the node.
struct NodeAttributes {
    let node: String
    let file: String
    private let values: [String: Onnx_AttributeProto]

    init(_ proto: Onnx_NodeProto, file: String) {
        node = proto.name
        self.file = file
        var values = [String: Onnx_AttributeProto]()
        for a in proto.attribute { values[a.name] = a }
        self.values = values
    }

    func has(_ name: String) -> Bool { values[name] != nil }

    private func wrongType(_ name: String, _ expected: String) -> ONNXError {
        .badAttribute(file: file, node: node, detail: "attribute '\(name)' should be \(expected)")
    }

    func int(_ name: String, default value: Int) throws -> Int {
        guard let a = values[name] else { return value }
        guard a.type == .int || (!a.hasType && a.hasI) else { throw wrongType(name, "an integer") }
        return Int(a.i)
    }

    func float(_ name: String, default value: Float) throws -> Float {
        guard let a = values[name] else { return value }
        guard a.type == .float || (!a.hasType && a.hasF) else { throw wrongType(name, "a float") }
        return a.f
    }

    func ints(_ name: String) throws -> [Int]? {
        guard let a = values[name] else { return nil }
        guard a.type == .ints || (!a.hasType && !a.ints.isEmpty) else { throw wrongType(name, "a list of integers") }
        return a.ints.map { Int($0) }
    }

    func floats(_ name: String) throws -> [Float]? {
        guard let a = values[name] else { return nil }
        guard a.type == .floats || (!a.hasType && !a.floats.isEmpty) else { throw wrongType(name, "a list of floats") }
        return a.floats
    }

    func string(_ name: String, default value: String) throws -> String {
        guard let a = values[name] else { return value }
        guard a.type == .string || (!a.hasType && a.hasS) else { throw wrongType(name, "a string") }
        return String(decoding: a.s, as: UTF8.self)
    }

    func tensor(_ name: String) throws -> Onnx_TensorProto? {
        guard let a = values[name] else { return nil }
        guard a.type == .tensor || (!a.hasType && a.hasT) else { throw wrongType(name, "a tensor") }
        return a.t
    }

    /// An enumerated string attribute, rejecting values SNNKit does not implement.
    func choice<T: RawRepresentable>(_ name: String, default value: T) throws -> T where T.RawValue == String {
        let raw = try string(name, default: value.rawValue)
        guard let v = T(rawValue: raw) else {
            throw ONNXError.badAttribute(file: file, node: node, detail: "\(name)=\(raw) is not supported")
        }
        return v
    }
}
