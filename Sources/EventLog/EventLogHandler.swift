import Logging
import PortwardenModel

/// The log handler both executables bootstrap: each event is one line on standard error —
/// time, level, event, label, message, then the metadata as fields — and every value is escaped
/// by its `LogFormat`. Host names, process names and a peer's reasons reach log calls
/// all over the collector; escaping here, once, is what lets any call site pass them, and
/// no text from a host can start a second line or pass for a field of its own.
public struct EventLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    public let label: String
    public let format: LogFormat
    private let write: @Sendable (String) -> Void

    /// `write` receives each line, newline included (tests collect them; the executables
    /// write them to standard error).
    public init(label: String, format: LogFormat = .text, metadataProvider: Logger.MetadataProvider? = nil,
                write: @escaping @Sendable (String) -> Void) {
        self.label = label
        self.format = format
        self.metadataProvider = metadataProvider
        self.write = write
    }

    /// The event of a line logged without an `event` field.
    public static let plainEvent = "message"

    /// For `LoggingSystem.bootstrap(EventLogHandler.standardError)`.
    public static func standardError(label: String) -> EventLogHandler {
        standardError(label: label, format: .text)
    }

    /// Standard error in `format`; what `LogOptions.bootstrap()` installs.
    public static func standardError(label: String, format: LogFormat) -> EventLogHandler {
        EventLogHandler(label: label, format: format, metadataProvider: LoggingSystem.metadataProvider, write: StandardError.write)
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let own = event.metadata { merged.merge(own) { $1 } }
        if let error = event.error, merged["error"] == nil { merged["error"] = "\(error)" }
        // The event names what happened (`report.refused`), for filtering and alerting; a
        // line logged without one is a plain message.
        let name = merged.removeValue(forKey: "event")?.description ?? Self.plainEvent
        write(format.line(time: Timestamp.nowWithMilliseconds(), level: event.level, event: name, label: label,
                          message: event.message.description,
                          fields: merged.sorted { $0.key < $1.key }.map { ($0.key, $0.value.description) }))
    }
}
