import Foundation

/// The few HDF5 C functions an NIR file needs, loaded at run time with dlopen.
///
/// SNNKit does not link libhdf5: a machine without it still builds and runs everything
/// else, and only `export --nir` asks for it. The prototypes are those of HDF5 1.10+
/// (hid_t is 64-bit); the predefined types are global variables valid after H5open().
final class HDF5Library: @unchecked Sendable {
    typealias HID = Int64
    typealias Status = Int32

    let open: @convention(c) () -> Status
    let fileCreate: @convention(c) (UnsafePointer<CChar>, UInt32, HID, HID) -> HID
    let fileClose: @convention(c) (HID) -> Status
    let groupCreate: @convention(c) (HID, UnsafePointer<CChar>, HID, HID, HID) -> HID
    let groupClose: @convention(c) (HID) -> Status
    let spaceCreate: @convention(c) (Int32) -> HID
    let spaceCreateSimple: @convention(c) (Int32, UnsafePointer<UInt64>, UnsafePointer<UInt64>?) -> HID
    let spaceClose: @convention(c) (HID) -> Status
    let typeCopy: @convention(c) (HID) -> HID
    let typeSetSize: @convention(c) (HID, Int) -> Status
    let typeSetCharacterSet: @convention(c) (HID, Int32) -> Status
    let typeClose: @convention(c) (HID) -> Status
    let datasetCreate: @convention(c) (HID, UnsafePointer<CChar>, HID, HID, HID, HID, HID) -> HID
    let datasetWrite: @convention(c) (HID, HID, HID, HID, HID, UnsafeRawPointer) -> Status
    let datasetClose: @convention(c) (HID) -> Status
    let propertiesCreate: @convention(c) (HID) -> HID
    let propertiesSetChunk: @convention(c) (HID, Int32, UnsafePointer<UInt64>) -> Status
    let propertiesSetDeflate: @convention(c) (HID, UInt32) -> Status
    let propertiesClose: @convention(c) (HID) -> Status
    let propertiesSetLinkCreationOrder: @convention(c) (HID, UInt32) -> Status
    let errorSetAuto: @convention(c) (HID, UnsafeRawPointer?, UnsafeRawPointer?) -> Status
    private let handle: UnsafeMutableRawPointer
    private let globals: (float: UnsafePointer<HID>, int64: UnsafePointer<HID>, double: UnsafePointer<HID>,
                          string: UnsafePointer<HID>, datasetCreation: UnsafePointer<HID>, groupCreation: UnsafePointer<HID>)

    var nativeFloat: HID { globals.float.pointee }
    var nativeInt64: HID { globals.int64.pointee }
    var nativeDouble: HID { globals.double.pointee }
    var cString: HID { globals.string.pointee }
    var datasetCreationClass: HID { globals.datasetCreation.pointee }
    var groupCreationClass: HID { globals.groupCreation.pointee }

    static let defaultProperties: HID = 0
    static let allSpace: HID = 0
    static let scalarSpace: Int32 = 0
    static let truncate: UInt32 = 2
    static let variableSize = -1
    static let utf8: Int32 = 1
    /// H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED.
    static let trackedAndIndexed: UInt32 = 3

    /// The Debian / Ubuntu names first (serial build), then the generic ones; SNNKIT_HDF5
    /// names the library to use instead.
    static let candidates = [
        "libhdf5_serial.so.103", "libhdf5.so.103", "libhdf5_serial.so.200", "libhdf5.so.200", "libhdf5_serial.so", "libhdf5.so",
        "/usr/lib/x86_64-linux-gnu/hdf5/serial/libhdf5.so", "/usr/lib/aarch64-linux-gnu/hdf5/serial/libhdf5.so",
        "libhdf5.dylib", "/opt/homebrew/lib/libhdf5.dylib", "/usr/local/lib/libhdf5.dylib",
    ]

    /// SNNKIT_HDF5 alone when set (the library to use), else `candidates`.
    static func searchNames() -> [String] {
        ProcessInfo.processInfo.environment["SNNKIT_HDF5"].map { [$0] } ?? candidates
    }

    /// The library, loaded once; nil when no candidate loads.
    nonisolated(unsafe) private static var loaded: Result<HDF5Library, NIRExportError>?
    private static let lock = NSLock()
    /// Held around every use of the library (`NIRFile.write`): a build without thread safety
    /// keeps global state that two threads would corrupt.
    static let calls = NSLock()

    /// The loaded library, or `NIRExportError.hdf5Missing` naming the package to install.
    static func shared() throws -> HDF5Library {
        try lock.withLock {
            if let loaded { return try loaded.get() }
            let result = Result { try load() }.mapError { $0 as? NIRExportError ?? .hdf5Missing(tried: []) }
            loaded = result
            return try result.get()
        }
    }

    /// The first of `names` that loads and has every function.
    static func load(names: [String] = searchNames()) throws -> HDF5Library {
        for name in names {
            guard let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) else { continue }
            if let library = HDF5Library(handle: handle) { return library }
            dlclose(handle)
        }
        throw NIRExportError.hdf5Missing(tried: names)
    }

    private init?(handle: UnsafeMutableRawPointer) {
        func symbol<T>(_ name: String, _: T.Type) -> T? {
            dlsym(handle, name).map { unsafeBitCast($0, to: T.self) }
        }
        func global(_ name: String) -> UnsafePointer<HID>? {
            dlsym(handle, name).map { UnsafePointer($0.assumingMemoryBound(to: HID.self)) }
        }
        guard let open = symbol("H5open", (@convention(c) () -> Status).self),
              let fileCreate = symbol("H5Fcreate", (@convention(c) (UnsafePointer<CChar>, UInt32, HID, HID) -> HID).self),
              let fileClose = symbol("H5Fclose", (@convention(c) (HID) -> Status).self),
              let groupCreate = symbol("H5Gcreate2", (@convention(c) (HID, UnsafePointer<CChar>, HID, HID, HID) -> HID).self),
              let groupClose = symbol("H5Gclose", (@convention(c) (HID) -> Status).self),
              let spaceCreate = symbol("H5Screate", (@convention(c) (Int32) -> HID).self),
              let spaceCreateSimple = symbol("H5Screate_simple", (@convention(c) (Int32, UnsafePointer<UInt64>, UnsafePointer<UInt64>?) -> HID).self),
              let spaceClose = symbol("H5Sclose", (@convention(c) (HID) -> Status).self),
              let typeCopy = symbol("H5Tcopy", (@convention(c) (HID) -> HID).self),
              let typeSetSize = symbol("H5Tset_size", (@convention(c) (HID, Int) -> Status).self),
              let typeSetCharacterSet = symbol("H5Tset_cset", (@convention(c) (HID, Int32) -> Status).self),
              let typeClose = symbol("H5Tclose", (@convention(c) (HID) -> Status).self),
              let datasetCreate = symbol("H5Dcreate2", (@convention(c) (HID, UnsafePointer<CChar>, HID, HID, HID, HID, HID) -> HID).self),
              let datasetWrite = symbol("H5Dwrite", (@convention(c) (HID, HID, HID, HID, HID, UnsafeRawPointer) -> Status).self),
              let datasetClose = symbol("H5Dclose", (@convention(c) (HID) -> Status).self),
              let propertiesCreate = symbol("H5Pcreate", (@convention(c) (HID) -> HID).self),
              let propertiesSetChunk = symbol("H5Pset_chunk", (@convention(c) (HID, Int32, UnsafePointer<UInt64>) -> Status).self),
              let propertiesSetDeflate = symbol("H5Pset_deflate", (@convention(c) (HID, UInt32) -> Status).self),
              let propertiesClose = symbol("H5Pclose", (@convention(c) (HID) -> Status).self),
              let propertiesSetLinkCreationOrder = symbol("H5Pset_link_creation_order", (@convention(c) (HID, UInt32) -> Status).self),
              let errorSetAuto = symbol("H5Eset_auto2", (@convention(c) (HID, UnsafeRawPointer?, UnsafeRawPointer?) -> Status).self),
              let float = global("H5T_NATIVE_FLOAT_g"), let int64 = global("H5T_NATIVE_INT64_g"),
              let double = global("H5T_NATIVE_DOUBLE_g"), let string = global("H5T_C_S1_g"),
              let datasetCreation = global("H5P_CLS_DATASET_CREATE_ID_g"), let groupCreation = global("H5P_CLS_GROUP_CREATE_ID_g"),
              open() >= 0 else { return nil }
        self.handle = handle
        (self.open, self.fileCreate, self.fileClose, self.groupCreate, self.groupClose) = (open, fileCreate, fileClose, groupCreate, groupClose)
        (self.spaceCreate, self.spaceCreateSimple, self.spaceClose) = (spaceCreate, spaceCreateSimple, spaceClose)
        (self.typeCopy, self.typeSetSize, self.typeSetCharacterSet, self.typeClose) = (typeCopy, typeSetSize, typeSetCharacterSet, typeClose)
        (self.datasetCreate, self.datasetWrite, self.datasetClose) = (datasetCreate, datasetWrite, datasetClose)
        (self.propertiesCreate, self.propertiesSetChunk, self.propertiesSetDeflate, self.propertiesClose) =
            (propertiesCreate, propertiesSetChunk, propertiesSetDeflate, propertiesClose)
        self.errorSetAuto = errorSetAuto
        self.propertiesSetLinkCreationOrder = propertiesSetLinkCreationOrder
        globals = (float, int64, double, string, datasetCreation, groupCreation)
    }
}
