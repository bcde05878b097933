/// When a resolver's SERVFAIL is a DNSSEC validation failure, and how the verdict
/// says so. The rule (used by `VerdictClassifier`, the one place verdicts are made):
/// the resolver answers the same question with checking disabled (CD=1, RFC 4035
/// §3.2.2), so it could resolve the name and only validation failed; or, where no
/// such second question was asked (a remote probe), its Extended DNS Error is one
/// of RFC 8914's DNSSEC codes. A SERVFAIL also with CD=1 is not called DNSSEC.
public struct DNSSECFailure: Sendable, Hashable {
    public enum Evidence: String, Sendable, Hashable, Codable {
        /// Answered (NOERROR or NXDOMAIN) when asked again with CD=1.
        case checkingDisabled = "checking-disabled"
        /// Only an Extended DNS Error with a DNSSEC code says so.
        case extendedError = "extended-error"
    }

    public var evidence: Evidence
    public var extendedErrors: [ExtendedDNSError]
    /// What the resolver answered with CD=1 (rcode name and the records), when asked.
    public var checkingDisabledAnswer: String?

    /// RFC 8914 §4 codes that report a DNSSEC failure: 1, 2 (unsupported algorithm or digest),
    /// 5 (indeterminate), 6 (bogus), 7, 8 (signature expired or not yet valid), 9–12 (missing
    /// DNSKEY, RRSIGs, zone key bit, NSEC).
    public static let dnssecCodes: Set<UInt16> = [1, 2, 5, 6, 7, 8, 9, 10, 11, 12]

    /// `SERVFAIL — DNSSEC bogus (EDE 6 (DNSSEC Bogus): …); answers with checking disabled (CD=1): 192.0.2.1`.
    public var reason: String {
        var s = "SERVFAIL — DNSSEC bogus" + Self.extendedErrorText(extendedErrors)
        switch evidence {
        case .checkingDisabled: s += "; answers with checking disabled (CD=1): " + (checkingDisabledAnswer ?? "NOERROR")
        case .extendedError: s += "; by its Extended DNS Error (not asked again with checking disabled)"
        }
        return s
    }

    /// The DNSSEC failure a SERVFAIL shows, or nil when nothing says it is one.
    public static func classify(servfail m: Message, checkingDisabled cd: QueryResult?) -> DNSSECFailure? {
        let errors = m.edns?.extendedErrors ?? []
        if let cd {
            guard let answer = cd.message, answer.rcode == .noError || answer.rcode == .nxDomain else { return nil }
            let q = cd.request.query.question
            let records = AnswerChain.extract(from: answer.answers, name: q.name, type: q.type)
            let text = answer.rcode == .nxDomain ? "NXDOMAIN"
                : records.isEmpty ? "no \(q.type.name) records" : records.map(\.rdata).joined(separator: " ")
            return DNSSECFailure(evidence: .checkingDisabled, extendedErrors: errors, checkingDisabledAnswer: text)
        }
        guard errors.contains(where: { dnssecCodes.contains($0.infoCode) }) else { return nil }
        return DNSSECFailure(evidence: .extendedError, extendedErrors: errors, checkingDisabledAnswer: nil)
    }

    /// ` (EDE 6 (DNSSEC Bogus): text; EDE 22 (No Reachable Authority))`, or "" without any.
    public static func extendedErrorText(_ errors: [ExtendedDNSError]) -> String {
        errors.isEmpty ? "" : " (" + errors.prefix(4).map(\.description).joined(separator: "; ") + ")"
    }
}
