/// The table and JSON of `dnsprop resolvers check`, and its exit status.
public enum ResolverHealthReport {
    /// 0 when every resolver passed, 2 when none answered at all, 1 otherwise.
    public static func exitStatus(_ results: [ResolverHealth]) -> Int32 {
        if results.allSatisfy(\.passed) { return 0 }
        if results.allSatisfy(\.dead) { return 2 }
        return 1
    }

    public static func status(_ h: ResolverHealth) -> String {
        if h.dead { return "dead" }
        if h.lying { return "lying" }
        return h.passed ? "ok" : "FAIL"
    }

    /// Rows within 80 columns: 5+2+17+2+7+2+5+2+3+2+6+2+6+2+4+2+ SITE 11.
    public static func table(_ results: [ResolverHealth]) -> String {
        var t = TextTable(headers: ["STATE", "RESOLVER", "VIA", "RTT", "REC", "HONEST", "DNSSEC", "EDNS", "SITE"])
        for h in results {
            let via = [h.udp ? "udp" : nil, h.tcp ? "tcp" : nil].compactMap { $0 }.joined(separator: "+")
            let honest = h.honest.map { $0 ? "yes" : "NO" } ?? "?"
            let dnssec: String
            switch h.validation {
            case .validating: dnssec = "yes"
            case .notValidating: dnssec = "no"
            case .unknown: dnssec = "?"
            }
            t.append([status(h), h.resolver.address.description, via.isEmpty ? "-" : via,
                      (h.rttMs ?? h.tcpRttMs).map { String(format1($0)) } ?? "", h.dead ? "" : (h.recursive ? "yes" : "NO"),
                      h.dead ? "" : honest, h.dead ? "" : dnssec, h.ednsBufferSize.map(String.init) ?? "", h.site ?? ""])
        }
        // The site gets what narrower addresses leave.
        let resolverWidth = max(8, min(17, results.map { $0.resolver.address.description.count }.max() ?? 0))
        let rendered = t.render(maxWidths: [1: 17, 8: 11 + 17 - resolverWidth]).split(separator: "\n", omittingEmptySubsequences: false)
        var out = ""
        for (i, line) in rendered.enumerated() where !line.isEmpty {
            out += line + "\n"
            guard i > 0 else { continue }
            for p in results[i - 1].problems { out += TextTable.clip("    " + TerminalText.escape(p), to: 80) + "\n" }
        }
        let passed = results.filter(\.passed).count
        out += "\(passed) of \(results.count) resolvers pass; \(results.filter(\.dead).count) dead, \(results.filter(\.lying).count) lying, "
            + "\(results.filter { $0.validation == .validating }.count) validating DNSSEC\n"
        return out
    }

    static func format1(_ ms: Double) -> String {
        ms >= 100 ? String(Int(ms.rounded())) : String((ms * 10).rounded() / 10)
    }

    public static func json(_ h: ResolverHealth) -> JSONValue {
        .object([
            ("resolver", ResolverJSON.object(h.resolver)),
            ("status", .string(status(h))),
            ("passed", .bool(h.passed)),
            ("udp", .bool(h.udp)), ("udpError", .optional(h.udpError)),
            ("rttMs", h.rttMs.map { .double($0) } ?? .null),
            ("tcp", .bool(h.tcp)), ("tcpError", .optional(h.tcpError)),
            ("tcpRttMs", h.tcpRttMs.map { .double($0) } ?? .null),
            ("recursive", .bool(h.recursive)),
            ("honest", h.honest.map { .bool($0) } ?? .null),
            ("lie", .optional(h.lie)),
            ("dnssec", .string(h.validation.rawValue)),
            ("dnssecDetail", .optional(h.validationDetail)),
            ("ednsBufferSize", h.ednsBufferSize.map { .int(Int($0)) } ?? .null),
            ("nsid", .optional(h.nsid)),
            ("site", .optional(h.site)),
            ("problems", .array(h.problems.map { .string($0) })),
        ])
    }

    public static func document(_ results: [ResolverHealth]) -> JSONValue {
        .object([
            ("schemaVersion", .int(1)),
            ("tool", .string("dnsprop \(DNSPropVersion.string)")),
            ("results", .array(results.map(json))),
            ("summary", .object([
                ("resolvers", .int(results.count)),
                ("passed", .int(results.filter(\.passed).count)),
                ("dead", .int(results.filter(\.dead).count)),
                ("lying", .int(results.filter(\.lying).count)),
                ("validating", .int(results.filter { $0.validation == .validating }.count)),
                ("exitStatus", .int(Int(exitStatus(results)))),
            ])),
        ])
    }
}
