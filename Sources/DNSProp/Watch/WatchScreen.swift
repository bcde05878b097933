/// The full-screen view of `dnsprop watch`: a summary bar with a gauge, then the
/// body the operator chose (`WatchView`: groups, filter, scroll), then a footer
/// with the position and the keys. Pure: lines for a given size and moment; the
/// command draws them.
public struct WatchScreen {
    public var width: Int
    public var height: Int
    public var colour: Bool

    public init(width: Int, height: Int, colour: Bool) {
        self.width = max(40, width)
        self.height = max(8, height)
        self.colour = colour
    }

    /// The lines of one frame, and the scroll position they show (clamped to the body).
    public func frame(_ state: WatchState, names: [DomainName], now: Double, nextRound: Double?, interval: Double,
                      view: WatchView = WatchView()) -> (lines: [String], scroll: Int, page: Int) {
        var lines: [String] = []
        let title = "dnsprop watch · \(names.map(\.text).joined(separator: " ")) · round \(state.round) · every \(Timestamp.duration(interval))"
            + (nextRound.map { " · next in \(Timestamp.duration(max(0, $0 - now)))" } ?? "")
        let clock = Timestamp.clock(now, reference: now)
        lines.append(paint(pad(clip(TerminalText.escape(title), width - clock.count - 1), width - clock.count) + clock, "1"))
        if let d = state.lastReport?.diagnosis { lines.append(paint(clip("diagnosis: " + TerminalText.escape(d.line), width), "1")) }

        let rows = state.resolverRows()
        // The counts and the decision are the round's summary (VerdictPolicy), as in `check`.
        let summaryCounts = state.lastReport?.summary
        let current = summaryCounts?.resolversCurrent ?? 0
        let answering = summaryCounts?.resolversAnswering ?? 0
        let percent = answering == 0 ? 0 : current * 100 / answering
        let gaugeWidth = max(10, min(30, width / 4))
        let filled = answering == 0 ? 0 : gaugeWidth * current / answering
        let gauge = "[" + String(repeating: "█", count: filled) + String(repeating: "░", count: gaugeWidth - filled) + "]"
        var summary = "\(current)/\(answering) current · \(percent)% \(gauge)"
        if let last = summaryCounts?.lastExpiry, last > now {
            summary += " · last stale cache expires in \(Timestamp.duration(last - now)) (≈ \(Timestamp.clock(last, reference: now)))"
        } else if state.lastReport?.outcome(minCurrent: nil) == .converged {
            summary += " · converged"
        }
        lines.append(clip(summary, width))
        if let note = state.roundNote { lines.append(paint(clip(TerminalText.escape(note), width), "33")) }
        // A broken DNSSEC chain of the truth (ChainOfTrust): each distinct finding once, at most two.
        var findings: [String] = []
        for t in state.lastReport?.truths ?? [] {
            guard let d = t.dnssec, d.state == .bogus else { continue }
            let line = DNSSECReport.line(d)
            if !findings.contains(line) { findings.append(line) }
        }
        for f in findings.prefix(2) { lines.append(paint(clip(TerminalText.escape(f), width), "31")) }
        lines.append("")

        // The map (`m`): above the list when at least a few list lines fit under it, else alone.
        var mapOnly = false
        if view.showMap && !view.showHelp {
            let mapLines = mapBlock(rows, view: view, room: height - lines.count - 1)
            lines += mapLines.lines
            mapOnly = mapLines.alone
        }
        if mapOnly {
            var footer = "  map of \(view.chosen(rows).count) resolvers · m list"
            if view.show != .all { footer += " · showing \(view.show.rawValue)" }
            if view.editingFilter { footer += " · filter: \(TerminalText.escape(view.filter))▏" }
            else if !view.filter.isEmpty { footer += " · filter \"\(TerminalText.escape(view.filter))\"" }
            footer += " · / filter · f show · ? keys · q quit"
            while lines.count < height - 1 { lines.append("") }
            lines.append(paint(clip(footer, width), "2"))
            return (lines, 0, 1)
        }

        // Columns: marker, status, resolver, operator, question, answer, TTL, changed.
        let statusW = 8, resolverW = min(22, max(15, width / 5)), operatorW = width >= 110 ? 16 : 0
        let questionW = width >= 90 ? 20 : 0, ttlW = 6, changedW = 9
        let fixed = 2 + statusW + 1 + resolverW + 1 + (operatorW > 0 ? operatorW + 1 : 0) + (questionW > 0 ? questionW + 1 : 0) + ttlW + 1 + changedW
        let answerW = max(8, width - fixed - 1)
        var header = "  " + pad("STATUS", statusW) + " " + pad("RESOLVER", resolverW) + " "
        if operatorW > 0 { header += pad("OPERATOR", operatorW) + " " }
        if questionW > 0 { header += pad("QUESTION", questionW) + " " }
        header += pad("ANSWER", answerW) + " " + pad("TTL", ttlW) + " " + "CHANGED"
        lines.append(paint(clip(header, width), "2"))

        if view.showHelp {
            for line in WatchView.helpLines where lines.count < height { lines.append(clip(line, width)) }
            return (lines, view.scroll, 1)
        }
        let byAddress = Dictionary(rows.map { ($0.resolver.address, $0) }, uniquingKeysWith: { a, _ in a })
        let body = view.lines(rows)
        // Where the services still serving old data can be told to flush it: up to three lines above the footer.
        var advised: [PurgeAdvice] = []
        for row in rows {
            if let p = row.worst.verdict.purge, !advised.contains(p) { advised.append(p) }
        }
        let adviceLines = advised.prefix(max(0, min(3, height - lines.count - 3))).map { p in
            paint(clip(TerminalText.escape("flush at \(p.page.title): \(p.page.url) — \(p.names.joined(separator: ", then "))"), width), "2")
        }
        let page = max(1, height - lines.count - 1 - adviceLines.count)
        let scroll = min(view.scroll, max(0, body.count - page))
        for line in body.dropFirst(scroll).prefix(page) {
            switch line {
            case .group(let status, let answer, let count, let regions):
                let text = "  \(status.rawValue) · \(count) resolver\(count == 1 ? "" : "s") · \(answer.isEmpty ? "-" : TerminalText.escape(answer))"
                    + (regions.isEmpty ? "" : " · \(regions)")
                lines.append(StatusStyle.paint(clip(text, width), status, colour: colour))
            case .heading(let text):
                lines.append(paint(clip("  " + TerminalText.escape(text), width), "1"))
            case .resolver(let address):
                guard let row = byAddress[address] else { continue }
                lines.append(rowLine(row, state: state, now: now, widths: (statusW, resolverW, operatorW, questionW, answerW, ttlW)))
            }
        }
        // Footer: where the view is, what it shows, the keys.
        var footer = body.isEmpty ? "  no resolver matches" : "  \(scroll + 1)–\(min(body.count, scroll + page)) of \(body.count)"
        if view.show != .all { footer += " · showing \(view.show.rawValue)" }
        if view.grouping != .statusAnswer { footer += " · grouped by \(view.grouping.rawValue)" }
        if view.editingFilter { footer += " · filter: \(TerminalText.escape(view.filter))▏" }
        else if !view.filter.isEmpty { footer += " · filter \"\(TerminalText.escape(view.filter))\"" }
        footer += " · ↑↓ PgUp PgDn · / filter · f show · g group · m map · ? keys · q quit"
        lines += adviceLines
        lines.append(paint(clip(footer, width), "2"))
        return (lines, scroll, page)
    }

    public func render(_ state: WatchState, names: [DomainName], now: Double, nextRound: Double?, interval: Double,
                       view: WatchView = WatchView()) -> [String] {
        frame(state, names: names, now: now, nextRound: nextRound, interval: interval, view: view).lines
    }

    func rowLine(_ row: WatchState.Row, state: WatchState, now: Double, widths: (Int, Int, Int, Int, Int, Int)) -> String {
        let (statusW, resolverW, operatorW, questionW, answerW, ttlW) = widths
        let v = row.worst.verdict
        var answer = v.answers.isEmpty ? (v.status == .current ? "-" : v.reason) : v.answers.joined(separator: " ")
        if v.geo != nil { answer += " (varies by location)" }
        // The TTL counts down between rounds: what is left of it now.
        let ttl: String
        if v.deferredUntil != nil { ttl = "hold" }
        else if let exp = v.expiresAt { ttl = String(max(0, Int((exp - now).rounded()))) }
        else if let t = v.ttl { ttl = String(max(0, Int(t) - Int((now - v.checkedAt).rounded()))) }
        else { ttl = "" }
        let changed = state.round > 1 || row.worst.previous != nil ? Timestamp.duration(now - row.worst.since) + " ago" : ""
        var line = (row.flipped ? "* " : "  ") + pad(v.status.rawValue, statusW) + " "
            + pad(clip(TerminalText.escape(v.resolver.display), resolverW), resolverW) + " "
        if operatorW > 0 { line += pad(clip(TerminalText.escape(row.resolver.operatorName ?? ""), operatorW), operatorW) + " " }
        if questionW > 0 { line += pad(clip("\(v.name.text) \(v.isDelegationCheck ? "NS(deleg)" : v.type.name)", questionW), questionW) + " " }
        line += pad(clip(TerminalText.escape(answer), answerW), answerW) + " " + pad(ttl, ttlW) + " " + changed
        return StatusStyle.paint(clip(line, width), v.status, colour: colour)
    }

    /// The map and its legend in `room` lines (the footer excluded). `alone` when no list
    /// line fits under them: small screens show the map or the list, `m` switches.
    func mapBlock(_ rows: [WatchState.Row], view: WatchView, room: Int) -> (lines: [String], alone: Bool) {
        let placed = view.chosen(rows).map { (resolver: $0.resolver, status: $0.worst.verdict.status) }
        // Under 30 lines the map takes them all; above, the list keeps two fifths (header + rows).
        let listRoom = room >= 30 ? max(8, room * 2 / 5) : 0
        let map = WatchMap.fitting(width: width, height: max(1, room - listRoom - 1))
        let indent = String(repeating: " ", count: max(0, (width - map.width) / 2))
        let unplaced = map.marks(placed).unplaced
        var out = map.render(placed, colour: colour).map { indent + $0 }
        out.append("  " + WatchMap.legend(placed, unplaced: unplaced, colour: colour, width: width - 2))
        return (out, listRoom == 0)
    }

    func pad(_ s: String, _ w: Int) -> String { s.count >= w ? s : s + String(repeating: " ", count: w - s.count) }
    func clip(_ s: String, _ w: Int) -> String { TextTable.clip(s, to: max(2, w)) }
    func paint(_ s: String, _ code: String) -> String { StatusStyle.paint(s, sgr: code, colour: colour) }

    /// The closing summary: when each resolver became current, and who is still not.
    public static func timeline(_ state: WatchState, now: Double) -> [String] {
        var lines = ["dnsprop watch: \(state.round) round\(state.round == 1 ? "" : "s") over \(Timestamp.duration(now - state.started))"]
        if let s = state.lastReport.map({ CheckReportTable(colour: false, now: now).summaryLine($0) }) { lines.append(s) }
        let flipped = state.becameCurrent.sorted { $0.value.at < $1.value.at }
        func prediction(_ address: ServerAddress) -> String {
            guard let p = state.predicted[address], p.earliest != nil || p.latest != nil else { return "" }
            let earliest = p.earliest.map { Timestamp.clock($0, reference: now) } ?? "?"
            let latest = p.latest.map { Timestamp.clock($0, reference: now) } ?? "?"
            return "; predicted \(earliest) at the earliest, \(latest) at the latest"
        }
        for (address, when) in flipped {
            let label = state.resolvers[address]?.operatorName.map { " (\(TerminalText.escape($0)))" } ?? ""
            lines.append("  \(address)\(label): current since \(Timestamp.clock(when.at, reference: now)) (round \(when.round))" + prediction(address))
        }
        for row in state.resolverRows() where row.worst.verdict.status != .current {
            let v = row.worst.verdict
            let flush = v.purge.map { "; flush at \($0.page.url): \($0.names.joined(separator: ", then "))" } ?? ""
            lines.append("  \(v.resolver.address): still \(v.status.rawValue) — \(TerminalText.escape(v.reason + flush))" + prediction(v.resolver.address))
        }
        return lines
    }
}
