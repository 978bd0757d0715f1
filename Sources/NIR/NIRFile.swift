import Foundation
import SNNSupport

/// Writes an `NIRGraph` as the HDF5 file `nir.write` (NIR 1.0) produces and `nir.read` loads:
/// a root `version` string, and a group `node` holding `type` = "NIRGraph", `edges` (an
/// N x 2 array of node names), `metadata` (when not empty) and `nodes/<name>/` with each
/// node's `type`, parameter datasets and `metadata` group. Strings are variable-length UTF-8,
/// arrays float32 / int64, gzip-compressed like h5py's. The `nodes` group keeps its members
/// in execution order (HDF5 link creation order), which h5py reads back in that order.
public enum NIRFile {
    /// The NIR format version written into every file.
    public static let formatVersion = "1.0.8"

    /// Writes `graph` to `url` atomically: to a temporary file beside it, then renamed, so a
    /// failure leaves no partial file. Throws `NIRExportError.hdf5Missing` without libhdf5.
    public static func write(_ graph: NIRGraph, to url: URL) throws {
        let h5 = try HDF5Library.shared()
        // HDF5 builds without thread safety (its default) must not be entered by two threads
        // at once: concurrent exports (tests run in parallel, a library user's tasks) take turns.
        try HDF5Library.calls.withLock { try write(graph, to: url, with: h5) }
    }

    private static func write(_ graph: NIRGraph, to url: URL, with h5: HDF5Library) throws {
        // SNNKit reports failures itself; HDF5's automatic stack dump (per thread in
        // thread-safe builds) would only add noise on stderr.
        _ = h5.errorSetAuto(0, nil, nil)
        let directory = url.deletingLastPathComponent()
        // Checked before HDF5 tries: a failed H5Fcreate leaves an identifier open that makes
        // the library print "infinite loop closing library" when the process exits.
        guard FileManager.default.isWritableFile(atPath: directory.path) else {
            throw OutputError.unwritable(file: url.path, reason: "the folder is not writable or does not exist")
        }
        let temporary = AtomicFile.temporaryURL(for: url)
        let file = h5.fileCreate(temporary.path, HDF5Library.truncate, HDF5Library.defaultProperties, HDF5Library.defaultProperties)
        guard file >= 0 else { throw OutputError.unwritable(file: url.path, reason: "HDF5 could not create it") }
        let writer = Writer(h5: h5, file: url.path)
        do {
            try writer.dataset(file, "version", .string(formatVersion))
            try writer.group(file, "node") { node in
                try writer.dataset(node, "type", .string("NIRGraph"))
                try writer.strings(node, "edges", graph.edges.flatMap { [$0.from, $0.to] }, shape: [graph.edges.count, 2])
                try writer.metadata(node, graph.metadata)
                // In creation order, which readers (h5py) then iterate: consumers that build
                // their network in file order (nirtorch) meet each node after its inputs.
                try writer.group(node, "nodes", ordered: true) { nodes in
                    for (name, n) in graph.nodes {
                        try writer.group(nodes, name) { group in
                            try writer.dataset(group, "type", .string(n.type))
                            for (key, value) in n.parameters.sorted(by: { $0.key < $1.key }) { try writer.dataset(group, key, value) }
                            try writer.metadata(group, n.metadata)
                        }
                    }
                }
            }
        } catch {
            _ = h5.fileClose(file)
            try? FileManager.default.removeItem(at: temporary)
            throw error
        }
        guard h5.fileClose(file) >= 0 else {
            try? FileManager.default.removeItem(at: temporary)
            throw OutputError.unwritable(file: url.path, reason: "HDF5 could not finish the file")
        }
        try AtomicFile.moveIntoPlace(temporary, url)
    }

    /// Datasets and groups through the loaded library; every failure names the file and item.
    struct Writer {
        let h5: HDF5Library
        let file: String

        func check(_ status: Int64, _ item: String) throws {
            if status < 0 { throw OutputError.unwritable(file: file, reason: "HDF5 could not write '\(item)'") }
        }

        /// `ordered`: the group tracks and indexes the creation order of its members.
        func group(_ parent: HDF5Library.HID, _ name: String, ordered: Bool = false, _ body: (HDF5Library.HID) throws -> Void) throws {
            var properties = HDF5Library.defaultProperties
            if ordered {
                properties = h5.propertiesCreate(h5.groupCreationClass)
                try check(properties, name)
                _ = h5.propertiesSetLinkCreationOrder(properties, HDF5Library.trackedAndIndexed)
            }
            defer { if properties != HDF5Library.defaultProperties { _ = h5.propertiesClose(properties) } }
            let g = h5.groupCreate(parent, name, 0, properties, 0)
            try check(g, name)
            defer { _ = h5.groupClose(g) }
            try body(g)
        }

        func metadata(_ parent: HDF5Library.HID, _ entries: [String: NIRValue]) throws {
            guard !entries.isEmpty else { return }
            try group(parent, "metadata") { g in
                for (key, value) in entries.sorted(by: { $0.key < $1.key }) { try dataset(g, key, value) }
            }
        }

        /// A variable-length UTF-8 string array of `shape` (row-major).
        func strings(_ parent: HDF5Library.HID, _ name: String, _ values: [String], shape: [Int]) throws {
            let type = h5.typeCopy(h5.cString)
            defer { _ = h5.typeClose(type) }
            _ = h5.typeSetSize(type, HDF5Library.variableSize)
            _ = h5.typeSetCharacterSet(type, HDF5Library.utf8)
            let copies = values.map { strdup($0) }
            defer { copies.forEach { free($0) } }
            let pointers = copies.map { UnsafePointer<CChar>($0) }
            try pointers.withUnsafeBytes { try write(parent, name, type: type, shape: shape, bytes: $0.baseAddress!, compress: false) }
        }

        func dataset(_ parent: HDF5Library.HID, _ name: String, _ value: NIRValue) throws {
            switch value {
            case .string(let s):
                try strings(parent, name, [s], shape: [])
            case .float(let d):
                try withUnsafeBytes(of: d) { try write(parent, name, type: h5.nativeDouble, shape: [], bytes: $0.baseAddress!, compress: false) }
            case .int(let i):
                try withUnsafeBytes(of: i) { try write(parent, name, type: h5.nativeInt64, shape: [], bytes: $0.baseAddress!, compress: false) }
            case .floats(let values, let shape):
                try values.withUnsafeBytes { try write(parent, name, type: h5.nativeFloat, shape: shape, bytes: $0.baseAddress ?? UnsafeRawPointer(bitPattern: 8)!, compress: true) }
            case .ints(let values, let shape):
                try values.withUnsafeBytes { try write(parent, name, type: h5.nativeInt64, shape: shape, bytes: $0.baseAddress ?? UnsafeRawPointer(bitPattern: 8)!, compress: true) }
            }
        }

        /// One dataset: a scalar when `shape` is empty, else a simple space, gzip level 4 in
        /// one chunk when `compress` and the array is not empty (h5py's default filter).
        func write(_ parent: HDF5Library.HID, _ name: String, type: HDF5Library.HID, shape: [Int], bytes: UnsafeRawPointer, compress: Bool) throws {
            let dims = shape.map { UInt64($0) }
            let space = dims.isEmpty ? h5.spaceCreate(HDF5Library.scalarSpace) : h5.spaceCreateSimple(Int32(dims.count), dims, nil)
            try check(space, name)
            defer { _ = h5.spaceClose(space) }
            var properties = HDF5Library.defaultProperties
            if compress, !dims.isEmpty, !dims.contains(0) {
                properties = h5.propertiesCreate(h5.datasetCreationClass)
                try check(properties, name)
                _ = h5.propertiesSetChunk(properties, Int32(dims.count), dims)
                _ = h5.propertiesSetDeflate(properties, 4)
            }
            defer { if properties != HDF5Library.defaultProperties { _ = h5.propertiesClose(properties) } }
            let dataset = h5.datasetCreate(parent, name, type, space, 0, properties, 0)
            try check(dataset, name)
            defer { _ = h5.datasetClose(dataset) }
            try check(Int64(h5.datasetWrite(dataset, type, HDF5Library.allSpace, HDF5Library.allSpace, 0, bytes)), name)
        }
    }
}
