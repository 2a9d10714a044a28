extension WireLimits {
    /// The header of a 413 in which the collector states its report limit in bytes, so an
    /// agent can trim the report to it and send it again rather than not at all.
    public static let reportLimitHeader = "X-Portwarden-Max-Report-Bytes"
}
