extension CollectorMetrics {
    /// The certificates' part of /metrics: hosts whose current certificate ends within 30
    /// days (or has ended: they did not renew), and when the collector's own end.
    static func renderCertificates(expiring: Int, ends: [String: Int64]) -> String {
        var out = """
            # HELP portwarden_host_certificates_expiring Hosts whose current certificate ends within 30 days or has ended: they have not renewed.
            # TYPE portwarden_host_certificates_expiring gauge
            portwarden_host_certificates_expiring \(expiring)

            """
        guard !ends.isEmpty else { return out }
        out += """
            # HELP portwarden_certificate_expiry_timestamp_seconds When the collector's own certificates end (server, ca, ca_old), seconds since the epoch.
            # TYPE portwarden_certificate_expiry_timestamp_seconds gauge

            """
        for (name, end) in ends.sorted(by: { $0.key < $1.key }) {
            out += "portwarden_certificate_expiry_timestamp_seconds{certificate=\"\(name)\"} \(end)\n"
        }
        return out
    }
}
