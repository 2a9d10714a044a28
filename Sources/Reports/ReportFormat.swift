/// The formats every report renders to.
public enum ReportFormat: String, CaseIterable, Sendable {
    /// Plain text that fits a 100-column terminal.
    case table
    case json, csv, markdown
    /// One self-contained file.
    case html
}

/// A report that renders itself in every `ReportFormat`.
public protocol RenderableReport {
    func table() -> String
    func markdown() -> String
    func html() -> String
    func csv() -> String
    func json() -> [UInt8]
}

extension RenderableReport {
    public func render(_ format: ReportFormat) -> [UInt8] {
        switch format {
        case .table: Array(table().utf8)
        case .markdown: Array(markdown().utf8)
        case .html: Array(html().utf8)
        case .csv: Array(csv().utf8)
        case .json: json()
        }
    }
}

extension TrendReport: RenderableReport {}
extension HostReport: RenderableReport {}
