/// The value of the sample `name` (with its labels, e.g. `portwarden_requests_total{connection="kept"}`)
/// in a /metrics text; nil when it is not there.
public func metricSample(_ metrics: String, _ name: String) -> Int? {
    metrics.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Int($0.split(separator: " ").last!) }
}
