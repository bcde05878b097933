/// The JSON, NDJSON and CSV shapes of a check report (documented in docs/output-schema.md).
public enum CheckReportJSON {
    public static let schemaVersion = 1

    public static func truth(_ t: Truth) -> JSONValue {
        var pairs: [(String, JSONValue)] = [("name", .string(t.name.text)), ("type", .string(t.type.name))]
        switch t.source {
        case .authoritative(let zone, let servers, let serial):
            pairs += [("source", .string("authoritative")), ("zone", .string(zone)),
                      ("servers", .array(servers.map { .string($0) })), ("serial", serial.map { .int(Int($0)) } ?? .null)]
        case .expected:
            pairs += [("source", .string("expected")), ("zone", .null), ("servers", .array([])), ("serial", .null)]
        }
        switch t.answer {
        case .data(let records)?:
            pairs += [("negative", .null), ("answers", .array(records.map { .string(present($0, t.type)) }))]
        case .nxdomain?: pairs += [("negative", .string("nxdomain")), ("answers", .array([]))]
        case .nodata?: pairs += [("negative", .string("nodata")), ("answers", .array([]))]
        case nil: pairs += [("negative", .null), ("answers", .array((t.expectedValues ?? []).map { .string($0) }))]
        }
        pairs += [("notes", .array(t.notes.map { .string($0) })), ("error", .optional(t.failure))]
        pairs.append(("parentNS", t.parentNS.map { .array($0.map { .string($0) }) } ?? .null))
        pairs.append(("dnssec", t.dnssec.map(DNSSECReport.json) ?? .null))
        pairs.append(("geo", GeoJSON.truth(t.geo)))
        return .object(pairs)
    }

    static func present(_ r: ResourceRecord, _ type: RecordType) -> String {
        r.type == type ? r.rdata : "\(r.type.name) \(r.rdata)"
    }

    static func purge(_ p: PurgeAdvice?) -> JSONValue {
        guard let p else { return .null }
        let names: [JSONValue] = p.names.map { .string($0) }
        return .object([("service", .string(p.page.service)), ("url", .string(p.page.url)), ("names", .array(names))])
    }

    public static func verdict(_ v: Verdict) -> JSONValue {
        var pairs = JSONPairs(capacity: 32)
        emitVerdict(v, into: &pairs)
        return .object(pairs.pairs)
    }

    /// A RESULT object's members (docs/output-schema.md), for a tree or for bytes.
    static func emitVerdict<E: JSONObjectEmitter>(_ v: Verdict, into e: inout E) {
        e.member("resolver") { ResolverJSON.emit(v.resolver, into: &$0) }
        e.member("name", string: v.name.text)
        e.member("type", string: v.type.name)
        e.member("check", string: v.isDelegationCheck ? "delegation" : "record")
        e.member("status", string: v.status.rawValue)
        e.member("reason", string: v.reason)
        e.member("answers", strings: v.answers)
        e.member("ttl", v.ttl.map { .int(Int($0)) } ?? .null)
        e.member("expiresAt", string: v.expiresAt.map { Timestamp.rfc3339($0) })
        e.member("latestAt", string: v.latestAt.map { Timestamp.rfc3339($0) })
        e.member("latestBasis", string: v.latestBasis)
        e.member("followsStaleDelegation", v.followsStaleDelegation.map { .array($0.map { .string($0) }) } ?? .null)
        e.member("deferredUntil", string: v.deferredUntil.map { Timestamp.rfc3339($0) })
        e.member("rcode", string: v.rcode?.name)
        e.member("rttMs", v.rttMs.map { .double($0) } ?? .null)
        e.member("site", string: v.site)
        e.member("attempts", int: v.attempts)
        e.member("transport", string: v.transport.rawValue)
        e.member("retriedAfterServfail", bool: v.retriedAfterServfail)
        e.member("parking", v.parking.map { .object([("provider", .string($0.provider)), ("kind", .string($0.kind)),
                                                     ("indicator", .string($0.indicator))]) } ?? .null)
        e.member("checkedAt", string: Timestamp.rfc3339(v.checkedAt, fraction: true))
        e.member("servedPastExpiry", bool: v.servedPastExpiry)
        e.member("purge", purge(v.purge))
        e.member("geo", GeoJSON.match(v.geo))
        DNSSECReport.emit(v, into: &e)
    }

    /// The summary and the decision `VerdictPolicy` drew from it (`outcome`), which
    /// this writer only reports: `exitStatus` is the outcome's.
    public static func summary(_ s: Summary, outcome: VerdictPolicy.Outcome) -> JSONValue {
        .object([
            ("resolvers", .int(s.resolverCount)),
            ("resolversCurrent", .int(s.resolversCurrent)),
            ("resolversAnswering", .int(s.resolversAnswering)),
            ("services", .int(s.serviceCount)),
            ("servicesCurrent", .int(s.servicesCurrent)),
            ("servicesAnswering", .int(s.servicesAnswering)),
            ("counts", .object(VerdictStatus.allCases.map { ($0.rawValue, .int(s.count($0))) })),
            ("currentPercent", .double((s.currentPercent * 10).rounded() / 10)),
            ("lastExpiry", s.lastExpiry.map { .string(Timestamp.rfc3339($0)) } ?? .null),
            ("lastLatestExpiry", s.lastLatestExpiry.map { .string(Timestamp.rfc3339($0)) } ?? .null),
            ("parkingProviders", .array(s.parkingProviders.map { .object([("provider", .string($0.provider)), ("results", .int($0.results))]) })),
            ("truthEstablished", .bool(s.truthEstablished)),
            ("outcome", .string(outcome.rawValue)),
            ("exitStatus", .int(Int(outcome.exitStatus))),
        ])
    }

    /// Every verdict's object, question by question (the verdicts are not copied into a list first).
    static func results(_ r: PropagationReport) -> [JSONValue] {
        r.verdicts.parallelMap(verdict)
    }

    public static func document(_ r: PropagationReport, outcome: VerdictPolicy.Outcome) -> JSONValue {
        .object(documentMembers(r, outcome: outcome, results: .array(results(r))))
    }

    /// `document(r, outcome:)` serialised with two-space indents (what `check --format json`
    /// prints), written to `fd` in pieces as it is made; the results are written straight
    /// from the verdicts, on every core, without a tree. False when a write failed.
    @discardableResult
    public static func write(_ r: PropagationReport, outcome: VerdictPolicy.Outcome, toFileDescriptor fd: Int32,
                             trailer: [UInt8] = []) -> Bool {
        let sink = JSONByteSink(capacity: JSONByteSink.piece, fd: fd)
        write(r, outcome: outcome, to: sink)
        trailer.withUnsafeBytes { sink.append($0) }
        sink.flush()
        return !sink.failed
    }

    /// The same bytes, in memory (tests compare them with `document(…).serialized(pretty: true)`).
    static func prettyBytes(_ r: PropagationReport, outcome: VerdictPolicy.Outcome) -> [UInt8] {
        let sink = JSONByteSink(capacity: 1 << 16, fd: nil)
        write(r, outcome: outcome, to: sink)
        return sink.bytes
    }

    private static func write(_ r: PropagationReport, outcome: VerdictPolicy.Outcome, to sink: JSONByteSink) {
        // The document's own members as JSONValue writes an object at depth 0; "results" in place.
        sink.append(0x7B)
        for (i, (key, value)) in documentMembers(r, outcome: outcome, results: .null).enumerated() {
            if i > 0 { sink.append(0x2C) }
            sink.newline(1)
            JSONValue.writeString(key, to: sink)
            sink.append(": ")
            if key == "results" { writeResults(r, to: sink) } else { value.write(to: sink, pretty: true, indent: 1) }
        }
        sink.newline(0)
        sink.append(0x7D)
    }

    /// The results array at depth 1, each RESULT object written from its verdict.
    private static func writeResults(_ r: PropagationReport, to sink: JSONByteSink) {
        let all = r.verdicts
        JSONValue.writeArray(count: all.count, to: sink, pretty: true, indent: 1) { i, piece in
            var object = JSONSinkObject(sink: piece, indent: 2)
            object.begin()
            emitVerdict(all[i], into: &object)
            object.end()
        }
    }

    static func documentMembers(_ r: PropagationReport, outcome: VerdictPolicy.Outcome, results: JSONValue) -> [(String, JSONValue)] {
        [
            ("schemaVersion", .int(schemaVersion)),
            ("tool", .string("dnsprop \(DNSPropVersion.string)")),
            ("startedAt", .string(Timestamp.rfc3339(r.startedAt, fraction: true))),
            ("finishedAt", .string(Timestamp.rfc3339(r.finishedAt, fraction: true))),
            ("names", .array(r.names.map { .string($0.text) })),
            ("truth", .array(r.truths.map(truth))),
            ("results", results),
            ("notes", .array(r.notes.map { .string($0) })),
            ("walk", .object([("rootQueries", .int(r.iteration.rootQueries)), ("tldQueries", .int(r.iteration.tldQueries)),
                              ("authoritativeQueries", .int(r.iteration.authoritativeQueries)),
                              ("nameServerLookups", .int(r.iteration.nameServerLookups)),
                              ("cachedDelegations", .int(r.iteration.cachedDelegations))])),
            ("summary", summary(r.summary, outcome: outcome)),
            ("diagnosis", r.diagnosis.map(DiagnosisJSON.object) ?? .null),
        ]
    }

    /// NDJSON: one line per result, then one summary line (with the truth).
    public static func ndjsonLines(_ r: PropagationReport, outcome: VerdictPolicy.Outcome, extra: [(String, JSONValue)] = []) -> [String] {
        var lines = r.verdicts.map { v -> String in
            guard case .object(let pairs) = verdict(v) else { return "" }
            return JSONValue.object([("event", .string("result"))] + extra + pairs).serialized()
        }
        lines.append(JSONValue.object([("event", .string("summary"))] + extra + [
            ("schemaVersion", .int(schemaVersion)),
            ("startedAt", .string(Timestamp.rfc3339(r.startedAt, fraction: true))),
            ("finishedAt", .string(Timestamp.rfc3339(r.finishedAt, fraction: true))),
            ("names", .array(r.names.map { .string($0.text) })),
            ("truth", .array(r.truths.map(truth))),
            ("summary", summary(r.summary, outcome: outcome)),
            ("diagnosis", r.diagnosis.map(DiagnosisJSON.object) ?? .null),
        ]).serialized())
        return lines
    }
}
