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
        var pairs: [(String, JSONValue)] = []
        pairs.reserveCapacity(32)
        pairs += [
            ("resolver", ResolverJSON.object(v.resolver)),
            ("name", .string(v.name.text)),
            ("type", .string(v.type.name)),
            ("check", .string(v.isDelegationCheck ? "delegation" : "record")),
            ("status", .string(v.status.rawValue)),
            ("reason", .string(v.reason)),
            ("answers", .array(v.answers.map { .string($0) })),
            ("ttl", v.ttl.map { .int(Int($0)) } ?? .null),
            ("expiresAt", v.expiresAt.map { .string(Timestamp.rfc3339($0)) } ?? .null),
            ("latestAt", v.latestAt.map { .string(Timestamp.rfc3339($0)) } ?? .null),
            ("latestBasis", .optional(v.latestBasis)),
            ("followsStaleDelegation", v.followsStaleDelegation.map { .array($0.map { .string($0) }) } ?? .null),
            ("deferredUntil", v.deferredUntil.map { .string(Timestamp.rfc3339($0)) } ?? .null),
            ("rcode", .optional(v.rcode?.name)),
            ("rttMs", v.rttMs.map { .double($0) } ?? .null),
            ("site", JSONValue.optional(v.site)),
            ("attempts", .int(v.attempts)),
            ("transport", .string(v.transport.rawValue)),
            ("retriedAfterServfail", .bool(v.retriedAfterServfail)),
            ("parking", v.parking.map { .object([("provider", .string($0.provider)), ("kind", .string($0.kind)),
                                                 ("indicator", .string($0.indicator))]) } ?? .null),
            ("checkedAt", .string(Timestamp.rfc3339(v.checkedAt, fraction: true))),
            ("servedPastExpiry", .bool(v.servedPastExpiry)),
            ("purge", purge(v.purge)),
            ("geo", GeoJSON.match(v.geo)),
        ]
        pairs += DNSSECReport.pairs(v)
        return .object(pairs)
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
        var all: [Verdict] = []
        all.reserveCapacity(r.questions.reduce(0) { $0 + $1.verdicts.count })
        for q in r.questions { all += q.verdicts }
        return all.parallelMap(verdict)
    }

    public static func document(_ r: PropagationReport, outcome: VerdictPolicy.Outcome) -> JSONValue {
        .object([
            ("schemaVersion", .int(schemaVersion)),
            ("tool", .string("dnsprop \(DNSPropVersion.string)")),
            ("startedAt", .string(Timestamp.rfc3339(r.startedAt, fraction: true))),
            ("finishedAt", .string(Timestamp.rfc3339(r.finishedAt, fraction: true))),
            ("names", .array(r.names.map { .string($0.text) })),
            ("truth", .array(r.truths.map(truth))),
            ("results", .array(results(r))),
            ("notes", .array(r.notes.map { .string($0) })),
            ("walk", .object([("rootQueries", .int(r.iteration.rootQueries)), ("tldQueries", .int(r.iteration.tldQueries)),
                              ("authoritativeQueries", .int(r.iteration.authoritativeQueries)),
                              ("nameServerLookups", .int(r.iteration.nameServerLookups)),
                              ("cachedDelegations", .int(r.iteration.cachedDelegations))])),
            ("summary", summary(r.summary, outcome: outcome)),
            ("diagnosis", r.diagnosis.map(DiagnosisJSON.object) ?? .null),
        ])
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
