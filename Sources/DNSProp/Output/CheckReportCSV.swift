/// The CSV shape of a check report: one row per result (docs/output-schema.md).
public enum CheckReportCSV {
    public static let csvHeader = ["resolver", "port", "operator", "country", "name", "type", "check", "status", "reason",
                                   "answers", "ttl", "expires_at", "rcode", "rtt_ms", "attempts", "transport", "latest_at", "site"]

    public static func csvRow(_ v: Verdict) -> [String] {
        [v.resolver.address.ip.description, String(v.resolver.address.port), v.resolver.operatorName ?? "",
         v.resolver.countryCode ?? "", v.name.text, v.type.name, v.isDelegationCheck ? "delegation" : "record",
         v.status.rawValue, v.reason, v.answers.joined(separator: " "), v.ttl.map(String.init) ?? "",
         v.expiresAt.map { Timestamp.rfc3339($0) } ?? "", v.rcode?.name ?? "",
         v.rttMs.map { String($0) } ?? "", String(v.attempts), v.transport.rawValue,
         v.latestAt.map { Timestamp.rfc3339($0) } ?? "", v.site ?? ""]
    }

    /// RFC 4180 quoting, control characters escaped, and a leading = + - @ defused
    /// so that a spreadsheet never runs network text as a formula.
    public static func csvLine(_ fields: [String]) -> String {
        fields.map { raw -> String in
            var f = TerminalText.escape(raw)
            if let c = f.first, "=+-@".contains(c), Double(f) == nil { f = "'" + f }
            if f.contains(",") || f.contains("\"") || f.contains(" ") && f.hasPrefix(" ") || f.contains("\n") {
                f = "\"" + f.replacingAll("\"", with: "\"\"") + "\""
            }
            return f
        }.joined(separator: ",")
    }

    /// The header and one row per result.
    public static func document(_ r: PropagationReport) -> String {
        var out = csvLine(csvHeader) + "\n"
        for v in r.verdicts { out += csvLine(csvRow(v)) + "\n" }
        return out
    }
}

extension String {
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }
}
