import PortwardenModel

// What storing one report decides, apart from the SQL that reads and writes it: SQLite's
// store (CollectorDatabase+Ingest.swift) and PostgreSQL's (PostgresHistory+Ingest.swift)
// both call these, so the two histories cannot drift apart.

enum IngestDecisions {
    /// The snapshot's sequence as stored. The wire reader refuses a larger one; a snapshot
    /// built in code must not trap here.
    static func sequence(_ sequence: UInt64?) throws(ReportRefusal) -> Int64? {
        try sequence.map { raw throws(ReportRefusal) in
            guard let value = Int64(exactly: raw) else {
                throw ReportRefusal(.badRequest, "sequence \(raw) is out of range 0...\(Int64.max)")
            }
            return value
        }
    }

    /// Already acknowledged: the same boot, and a sequence not newer than the last stored.
    static func isDuplicate(_ stored: HostRecord?, bootID: String?, sequence: Int64?) -> Bool {
        guard let stored, let sequence, let last = stored.lastSequence else { return false }
        return stored.bootID == bootID && sequence <= last
    }

    /// Whether an unchanged report naming `digest` says the same as the host's newest
    /// stored snapshot: the host holds that state and is in the fleet (a retired host's
    /// return is decided on its full snapshot), and the host was last evaluated under the
    /// policy in force, `stamp`, whose next waiver has not lapsed by `time`.
    static func holdsState(_ stored: HostRecord, _ digest: String, evaluatedUnder stamp: EvaluationStamp?, at time: Int64) -> Bool {
        stored.retiredAt == nil && stored.stateDigest == digest && stored.stateSequence == stored.lastSequence
            && stored.statePolicy == stamp?.policy && stored.stateUntil.map { time < $0 } ?? true
    }

    /// Whether a full snapshot says again what the host's newest stored one said: its
    /// state digest (the collector's own) is one the host holds, as `holdsState` asks of an
    /// unchanged report. Storing and evaluating it would write nothing but the host's times
    /// and receipts, so it is stored as its unchanged report would be. Full snapshots of a
    /// held state come from agents that lost what they acknowledged, and from agents of a
    /// release before unchanged reports.
    static func restates(_ stored: HostRecord?, _ request: IngestRequest, at time: Int64) -> Bool {
        guard let stored, let digest = request.stateDigest else { return false }
        return holdsState(stored, digest, evaluatedUnder: request.evaluatedUnder, at: time)
    }

    /// Whether a retired host's report, collected at `sent`, may start a new life — if the
    /// name also holds a certificate issued since (the store asks). A snapshot spooled
    /// before the retirement (or in its second: times are whole seconds) belongs to the old one.
    static func mayReturn(_ stored: HostRecord, sent: Int64) -> Bool {
        guard let retiredAt = stored.retiredAt else { return true }
        return sent > retiredAt
    }
}

extension IngestRequest {
    /// Whether the report may be refused after it wrote something, and so needs a savepoint
    /// of its own in a batch. An unchanged report decides everything (order, clock, state)
    /// before its first write; after it only the storage can fail, which fails the batch.
    /// Two statements (SQLite), two round trips (PostgreSQL) saved on most reports.
    var writesPartway: Bool {
        if case .unchanged = content { return false }
        return true
    }

    /// What is read of the report before any transaction: its time. Its listeners by
    /// identity (`Observation.all`) are read in the transaction, and only when the history
    /// needs them: a snapshot of the state its host holds does not.
    func preparedTime() throws -> Int64 {
        switch content {
        case .snapshot(let snapshot): try collectedAt ?? ReportClock.seconds(snapshot.collectedAt)
        case .unchanged(let report): try collectedAt ?? ReportClock.seconds(report.collectedAt)
        }
    }
}

extension HostRecord {
    /// A host's record before its first report is stored.
    static func first(_ name: String, sent: Int64, receivedAt: Int64, complete: Bool) -> HostRecord {
        HostRecord(id: nil, name: name, firstSeen: sent, lastSeen: sent, lastReceived: receivedAt, complete: complete,
                   firstReceived: receivedAt)
    }

    /// What a stored report changes in its host's record (a retired host starts its new
    /// life); whether its labels changed. `clocked`: the collector checks report clocks
    /// (`ReportClock`), and the newest report's time is the host's last seen.
    mutating func apply(_ snapshot: Snapshot, collectedAt: Int64, receivedAt: Int64, sequence: Int64?, clocked: Bool) -> Bool {
        retiredAt = nil
        retiredBy = nil
        retiredReason = nil
        machineID = snapshot.host.machineID
        bootID = snapshot.host.bootID
        kernel = snapshot.host.kernel
        os = snapshot.host.os
        lastSeen = clocked ? collectedAt : max(lastSeen, collectedAt)
        lastReceived = receivedAt
        lastSequence = sequence ?? lastSequence
        complete = snapshot.complete
        let declared = labels
        labels = snapshot.host.labels.map { labels in
            var writer = JSONWriter()
            writer.value(labels)
            return String(decoding: writer.buffer, as: UTF8.self)
        }
        return labels != declared
    }

    /// What an unchanged report moves: the host's times, boot and sequence; its facts,
    /// labels and completeness are the state it names.
    mutating func apply(unchanged report: UnchangedReport, collectedAt: Int64, receivedAt: Int64, sequence: Int64?, clocked: Bool) {
        bootID = report.bootID
        lastSeen = clocked ? collectedAt : max(lastSeen, collectedAt)
        lastReceived = receivedAt
        lastSequence = sequence ?? lastSequence
        stateSequence = lastSequence
    }

    /// The state of the snapshot just applied, `digest` (nil: none kept), as of its
    /// sequence, evaluated under `stamp`.
    mutating func holdState(_ digest: String?, evaluatedUnder stamp: EvaluationStamp?) {
        stateDigest = digest
        stateSequence = lastSequence
        evaluated(under: stamp)
    }

    /// The host's findings were evaluated under `stamp`.
    mutating func evaluated(under stamp: EvaluationStamp?) {
        statePolicy = stamp?.policy
        stateUntil = stamp?.until
    }

    /// The time to evaluate a report's findings at: its own, or the host's last
    /// re-evaluation that changed its findings, if later — a spooled report delivered after
    /// a reload or a lapsed waiver must not write finding history before what that wrote.
    func evaluationTime(collectedAt: Int64) -> Int64 { max(collectedAt, findingsChangedAt ?? collectedAt) }
}

extension ReceiptRun {
    /// The run a report starts: its boot's first, or the first after a change.
    static func first(hostId: Int64, bootID: String?, sequence: Int64?, digest: String, collectedAt: Int64,
                      receivedAt: Int64) -> ReceiptRun {
        ReceiptRun(hostId: hostId, bootID: bootID, firstSequence: sequence, lastSequence: sequence, lastBodyDigest: digest,
                   firstCollected: collectedAt, lastCollected: collectedAt, lastReceived: receivedAt, reports: 1,
                   firstReceived: receivedAt)
    }

    /// Whether an unchanged report of boot `bootID` continues this run rather than starting one.
    func continues(bootID: String?) -> Bool { self.bootID == bootID }

    /// One more unchanged report in the run.
    mutating func extend(sequence: Int64?, digest: String, collectedAt: Int64, receivedAt: Int64) {
        lastSequence = sequence ?? lastSequence
        lastCollected = collectedAt
        lastReceived = receivedAt
        lastBodyDigest = digest
        reports += 1
    }
}

/// How a report's listeners change the host's open intervals: those it showed for the
/// first time open, those it could have shown and did not close (`Completeness`), and the
/// rest keep or change their unseen marks.
struct ListenerChanges {
    /// New intervals, opened at the report's time.
    var opened: [ListenerInterval] = []
    /// Ids of the open intervals to close at the report's time.
    var closed: [Int64] = []
    /// Open intervals whose marks change: id, `unseenSince`, `ownersUnseenSince`.
    var marked: [(id: Int64, unseenSince: Int64?, ownersUnseenSince: Int64?)] = []

    init(_ held: HeldListeners, open: [String: OpenInterval], snapshot: Snapshot, hostId: Int64, at collectedAt: Int64) {
        for observation in held.observed.values where open[observation.identity] == nil {
            opened.append(observation.interval(hostId: hostId, opened: collectedAt))
        }
        let completeness = Completeness(snapshot)
        for (identity, interval) in open {
            let shown = held.observed[identity] != nil || held.ownersUnseen.contains(identity)
            if !shown && completeness.covers(netns: interval.netns) {
                closed.append(interval.id)
                continue
            }
            // Marked unseen only by an agent that says which namespaces it read: an older
            // one's report leaves its host's marks as they were, as it leaves its intervals.
            var unseen = interval.unseenSince, ownersUnseen = interval.ownersUnseenSince
            if shown { unseen = nil } else if snapshot.completeNamespaces != nil { unseen = unseen ?? collectedAt }
            if held.ownersUnseen.contains(identity) { ownersUnseen = ownersUnseen ?? collectedAt } else if shown { ownersUnseen = nil }
            if unseen != interval.unseenSince || ownersUnseen != interval.ownersUnseenSince {
                marked.append((interval.id, unseen, ownersUnseen))
            }
        }
    }

    /// No listener opened or closed: the report continues the host's receipt run if it is of the same boot.
    var keepsRun: Bool { opened.isEmpty && closed.isEmpty }

    /// What the report did. A change of labels alone is a change of the history (a row,
    /// for replay): the host's budget counts it as it counts a changed listener. A new
    /// host's first labels come with its first report, which is new anyway.
    func outcome(labelsChanged: Bool, newHost: Bool) -> IngestOutcome {
        keepsRun && !(labelsChanged && !newHost) ? .unchanged : .changed(opened: opened.count, closed: closed.count)
    }
}
