/// The human form of a check report: a summary line first, then one group per
/// (name, type) with the truth and one row per resolver. Fits 80 columns.
public struct CheckReportTable {
    public var colour: Bool
    public var now: Double

    public init(colour: Bool, now: Double = WallClock.now()) {
        self.colour = colour
        self.now = now
    }

    public func summaryLine(_ r: PropagationReport) -> String {
        let s = r.summary
        var parts: [String] = []
        let answering = s.resolversAnswering
        var head = "\(s.resolversCurrent) of \(answering) answering resolvers current"
        if s.serviceCount < s.resolverCount { head += " (\(s.servicesCurrent) of \(s.servicesAnswering) services)" }
        parts.append(head)
        for status in VerdictStatus.allCases where status != .current && s.count(status) > 0 {
            var text = "\(s.count(status)) \(status.rawValue)"
            if status == .parked, !s.parkingProviders.isEmpty {
                text += " (" + s.parkingProviders.prefix(2).map(\.provider).joined(separator: ", ") + ")"
            }
            parts.append(text)
        }
        if answering < s.resolverCount { parts.append("\(s.resolverCount - answering) of \(s.resolverCount) not answering") }
        if let last = s.lastExpiry {
            var text = "last stale cache expires ≈ \(Timestamp.clock(last, reference: now)) (in \(Timestamp.duration(last - now)))"
            if let latest = s.lastLatestExpiry, latest > last + 1 {
                text += ", all gone by \(Timestamp.clock(latest, reference: now)) at the latest"
            }
            parts.append(text)
        }
        if !s.truthEstablished { parts.append("the truth could not be established") }
        return TerminalText.escape(parts.joined(separator: "; "))
    }

    public func render(_ r: PropagationReport) -> String {
        var out = diagnosisLines(r).map { paint($0, .bold) + "\n" }.joined()
        out += Self.wrap(summaryLine(r), width: 80).map { paint($0, .bold) + "\n" }.joined()
        for note in r.notes {
            out += Self.wrap("note: " + TerminalText.escape(note), width: 80).map { $0 + "\n" }.joined()
        }
        for q in r.questions {
            let truth = q.truth
            out += "\n" + paint(TextTable.clip(TerminalText.escape(truthLine(truth)), to: 80), .bold) + "\n"
            for note in truth.notes { out += TextTable.clip("  note: " + TerminalText.escape(note), to: 80) + "\n" }
            if let d = truth.dnssec { out += Self.wrap("  " + TerminalText.escape(DNSSECReport.line(d)), width: 80).map { $0 + "\n" }.joined() }
            // A SITE column (the NSID) when any resolver named its site.
            let showSite = q.verdicts.contains { $0.site != nil }
            var table = TextTable(headers: ["STATUS", "RESOLVER", "OPERATOR", "ANSWER", "TTL", "EXPIRES"] + (showSite ? ["SITE"] : []))
            // Widths that keep a row within 80 columns: 8+2+17+2+12+2+20+2+6+2+7,
            // with a site 8+2+17+2+8+2+12+2+6+2+7+2+10; the site gets what narrower
            // resolver addresses leave.
            let resolverWidth = min(17, q.verdicts.map { TerminalText.escape($0.resolver.display).count }.max() ?? 0)
            let maxWidths = showSite ? [1: 17, 2: 8, 3: 12, 6: 10 + 17 - max(8, resolverWidth)] : [1: 17, 2: 12, 3: 20]
            var reasons: [Int: String] = [:]
            let sorted = q.verdicts.sorted(by: VerdictPolicy.worstFirst)
            for (i, v) in sorted.enumerated() {
                let answer = v.answers.isEmpty ? (v.rcode.map { $0 == .noError ? "-" : $0.name } ?? "-") : v.answers.joined(separator: " ")
                table.append([v.status.rawValue, v.resolver.display, v.resolver.operatorName ?? "",
                              answer, v.ttl.map { String(min($0, 999_999)) } ?? "", v.expiresAt.map { Timestamp.shortClock($0, reference: now) } ?? ""]
                             + (showSite ? [v.site ?? ""] : []))
                if v.status != .current || v.geo != nil {
                    var reason = v.reason
                    if let latest = v.latestAt, let basis = v.latestBasis, latest > (v.expiresAt ?? 0) + 1 {
                        reason += "; gone by \(Timestamp.shortClock(latest, reference: now)) at the latest: \(basis)"
                    }
                    reasons[i] = reason
                }
            }
            let rendered = table.render(maxWidths: maxWidths).split(separator: "\n", omittingEmptySubsequences: false)
            for (i, line) in rendered.enumerated() where !line.isEmpty {
                if i == 0 { out += paint(String(line), .dim) + "\n"; continue }
                let v = sorted[i - 1]
                out += StatusStyle.paint(String(line), v.status, colour: colour) + "\n"
                if let reason = reasons[i - 1] {
                    for line in Self.wrap(TerminalText.escape(reason), width: 76).prefix(4) { out += paint("    " + line, .dim) + "\n" }
                }
            }
            out += purgeFootnotes(sorted)
            if let line = DNSSECReport.authenticatedLine(sorted) { out += Self.wrap(TerminalText.escape(line), width: 80).map { $0 + "\n" }.joined() }
        }
        return out
    }

    /// One line per purge page for the question's stale and parked answers: the page,
    /// the resolvers it concerns and the names to flush, in order.
    func purgeFootnotes(_ verdicts: [Verdict]) -> String {
        var order: [PurgeAdvice] = []
        var addresses: [PurgeAdvice: [String]] = [:]
        for v in verdicts {
            guard let p = v.purge else { continue }
            if addresses[p] == nil { order.append(p) }
            addresses[p, default: []].append(v.resolver.address.description)
        }
        var out = ""
        for p in order {
            let text = "flush at \(p.page.title) (\(addresses[p]!.joined(separator: ", "))): \(p.page.url) — "
                + p.names.joined(separator: ", then ")
            out += Self.wrap(TerminalText.escape(text), width: 80).map { $0 + "\n" }.joined()
        }
        return out
    }

    func truthLine(_ t: Truth) -> String {
        var head = "\(t.name.text) \(t.type.name)"
        if let failure = t.failure { return head + " — truth unknown: \(failure)" }
        switch t.source {
        case .expected:
            head += " — expected: " + (t.expectedValues ?? []).joined(separator: " ")
        case .authoritative(let zone, _, let serial):
            let value: String
            switch t.answer {
            case .data(let r)?: value = r.map { $0.type == t.type ? $0.rdata : "\($0.type.name) \($0.rdata)" }.joined(separator: " ")
            case .nxdomain?: value = "NXDOMAIN"
            case .nodata?: value = "no records"
            case nil: value = "?"
            }
            head += " — truth: \(value) (zone \(zone)\(serial.map { ", serial \($0)" } ?? ""))"
            head += "; expiry times UTC"
        }
        return head
    }

    /// Breaks text at spaces into lines of at most `width` characters.
    static func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = [], line = ""
        for word in text.split(separator: " ") {
            if !line.isEmpty && line.count + 1 + word.count > width {
                lines.append(line)
                line = "  " + word
            } else {
                line += (line.isEmpty ? "" : " ") + word
            }
        }
        if !line.isEmpty { lines.append(line) }
        return lines.map { TextTable.clip($0, to: width) }
    }

    enum Style: String { case bold = "1", dim = "2" }

    func paint(_ s: String, _ style: Style) -> String { StatusStyle.paint(s, sgr: style.rawValue, colour: colour) }
}
