/// How the truth's DNSSEC validation (`DNSSECValidation`) and a resolver's DNSSEC
/// signals read in the table and JSON. Renders only: the states are decided by
/// `ChainOfTrust` and the verdicts by `VerdictClassifier`.
public enum DNSSECReport {
    /// `DNSSEC: bogus — DS at com. matches no DNSKEY of victim.com. (…)`. Network text inside: escape.
    public static func line(_ d: DNSSECValidation) -> String {
        switch d.state {
        case .secure: return "DNSSEC: secure (chain of trust from the trust anchor verified)"
        case .insecure: return "DNSSEC: insecure (unsigned" + (d.trail.last.map { ": " + $0 } ?? "") + ")"
        case .bogus: return "DNSSEC: bogus — " + (d.finding ?? "chain of trust broken")
        case .indeterminate: return "DNSSEC: not validated — " + (d.finding ?? "unknown")
        }
    }

    public static func json(_ d: DNSSECValidation) -> JSONValue {
        .object([("state", .string(d.state.rawValue)), ("finding", .optional(d.finding)),
                 ("trail", .array(d.trail.map { .string($0) }))])
    }
}

extension DNSSECReport {
    public static func json(_ errors: [ExtendedDNSError]) -> JSONValue {
        .array(errors.map { e in
            .object([("code", .int(Int(e.infoCode))), ("name", .optional(e.name)), ("text", .string(e.extraText))])
        })
    }

    public static func json(_ f: DNSSECFailure) -> JSONValue {
        .object([("evidence", .string(f.evidence.rawValue)), ("checkingDisabledAnswer", .optional(f.checkingDisabledAnswer))])
    }

    /// `AD bit (validated with DNSSEC) from 2 of 7 answering resolvers: 127.0.0.1, …`; nil when none set it.
    public static func authenticatedLine(_ verdicts: [Verdict]) -> String? {
        let answering = verdicts.filter { VerdictPolicy.isAnswering($0.status) }
        let validated = answering.filter(\.authenticatedData)
        guard !validated.isEmpty else { return nil }
        var line = "AD bit (validated with DNSSEC) from \(validated.count) of \(answering.count) answering resolvers"
        if validated.count <= 6 { line += ": " + validated.map(\.resolver.display).joined(separator: ", ") }
        return line
    }
}

extension DNSSECReport {
    /// The verdict's DNSSEC fields in the RESULT object (docs/output-schema.md).
    static func emit<E: JSONObjectEmitter>(_ v: Verdict, into e: inout E) {
        e.member("authenticatedData", bool: v.authenticatedData)
        e.member("extendedErrors", json(v.extendedErrors))
        e.member("dnssecFailure", v.dnssecFailure.map { json($0) } ?? .null)
    }
}
