/// The SNNKit version written into the files it produces (converted models, reports).
public enum SNNKitVersion {
    /// The release this build belongs to, as a semantic version.
    public static let current = "0.1.0"
}
