/// The watch as a log (stdout not a terminal): one line per status change,
/// then a summary line per round, each stamped. Network text escaped.
public enum WatchLog {
    public static func lines(_ round: WatchSession.Round) -> String {
        let report = round.report
        let stamp = Timestamp.rfc3339(report.finishedAt)
        var out = ""
        for c in round.changes {
            guard let from = c.from else { continue }
            let v = c.verdict
            out += "\(stamp) round \(c.round): \(v.resolver.address) \(v.name.text) \(v.isDelegationCheck ? "NS (delegation)" : v.type.name): "
                + "\(from.rawValue) -> \(c.to.rawValue)" + (c.to == .current && v.geo == nil ? "" : " (\(TerminalText.escape(v.reason)))") + "\n"
        }
        out += "\(stamp) round \(round.number): " + CheckReportTable(colour: false, now: report.finishedAt).summaryLine(report) + "\n"
        if let note = round.state.roundNote { out += "\(stamp) \(TerminalText.escape(note))\n" }
        if let d = report.diagnosis { out += "\(stamp) round \(round.number): diagnosis: \(TerminalText.escape(d.line))\n" }
        return out
    }
}
