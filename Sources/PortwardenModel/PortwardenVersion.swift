import CVersion

/// The release both executables report (`--version`) and the packages carry: set in one
/// place, Package.swift (`PORTWARDEN_VERSION`).
public enum PortwardenVersion {
    public static let current = String(cString: pw_version())
}
