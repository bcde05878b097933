#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import DNSProp

/// `/`: the status page. Self-contained: its only other resources are `/app.css` and `/app.js` from
/// the same server (no external scripts, fonts, tiles or CDNs), and the Content-Security-Policy the
/// server sends forbids inline scripts and any other origin. Every piece of text is written through
/// `HTMLText.escape`, in text and in double-quoted attributes only; no network text goes into a
/// script, a style or a URL. `/live` returns the page's live part alone, which `app.js` fetches every
/// two seconds and puts in place (no reload).
public struct StatusPage: Sendable {
    public var map: WorldMapSVG
    /// The land path, computed once (`WorldMapSVG.landPath`).
    public var landPath: String

    public init(mapData: WorldMapSVG.Data) {
        map = WorldMapSVG(data: mapData)
        landPath = map.landPath()
    }

    static func e(_ s: String) -> String { HTMLText.escape(s) }

    /// `9.9.9.9 (Quad9)`.
    public static func resolverLabel(_ r: Resolver) -> String {
        if r.vantage != nil { return "probe " + r.display }
        return r.address.description + (r.operatorName.map { " (\($0))" } ?? "")
    }

    /// The whole document.
    public func page(_ s: Dashboard.Snapshot, now: Double) -> String {
        let title = "dnsprop watch: " + s.names.map(\.text).joined(separator: ", ")
        return """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(Self.e(title))</title>
            <link rel="stylesheet" href="/app.css">
            <script src="/app.js" defer></script>
            </head>
            <body>
            <main id="live">\(live(s, now: now))</main>
            <footer>dnsprop \(Self.e(DNSPropVersion.string)) · <a href="/status.json">status.json</a> · <a href="/metrics">metrics</a></footer>
            </body>
            </html>

            """
    }

    /// The live part (`/live`).
    public func live(_ s: Dashboard.Snapshot, now: Double) -> String {
        var out = header(s, now: now)
        out += "<section class=\"top\">" + summary(s, now: now) + "<div class=\"mapbox\">" + map.svg(s.state.resolverRows(), landPath: landPath)
        let unplaced = map.markers(s.state.resolverRows()).unplaced
        if !unplaced.isEmpty {
            out += "<p class=\"note\">Not on the map (no country in the list): \(Self.e(unplaced.map { Self.resolverLabel($0.resolver) }.joined(separator: ", ")))</p>"
        }
        out += "</div></section>"
        out += timeline(s, now: now)
        out += table(s, now: now)
        return out
    }

    func header(_ s: Dashboard.Snapshot, now: Double) -> String {
        var parts: [String] = []
        if s.state.round == 0 { parts.append("waiting for the first round") } else { parts.append("round \(s.state.round)") }
        if let n = s.roundInProgress { parts.append("round \(n) in progress") }
        if let d = s.roundDuration { parts.append("took \(Timestamp.duration(d))") }
        if let r = s.report { parts.append("last round \(Timestamp.rfc3339(r.finishedAt))") }
        parts.append("every \(Timestamp.duration(s.interval))")
        if let ending = s.ending { parts.append("watch ended (\(ending.rawValue))") }
        if let b = s.budget {
            parts.append("Globalping: \(b.rateLimitRemaining.map(String.init) ?? "?") tests, \(b.creditsRemaining.map(String.init) ?? "?") credits left")
        }
        let outcome = s.outcome.map { o -> String in
            let text: String
            switch o {
            case .converged: text = "converged"
            case .notConverged: text = "not converged"
            case .cannotTell: text = "cannot tell"
            }
            return "<span class=\"outcome outcome-\(o.rawValue)\">\(text)</span>"
        } ?? ""
        var out = "<header><h1>dnsprop watch <span class=\"names\">\(Self.e(s.names.map(\.text).joined(separator: ", ")))</span> \(outcome)</h1>"
        out += "<p class=\"meta\">\(Self.e(parts.joined(separator: " · ")))</p>"
        if let note = s.state.roundNote { out += "<p class=\"note\">\(Self.e(note))</p>" }
        return out + "</header>"
    }

    /// The gauge (current percentage), the bar of results by status and the convergence times.
    func summary(_ s: Dashboard.Snapshot, now: Double) -> String {
        guard let report = s.report else { return "<div class=\"summary\"><p>No round has finished yet.</p></div>" }
        let sum = report.summary
        let p = max(0, min(100, sum.currentPercent)) / 100
        let angle = Double.pi * p
        let ex = 60 - 50 * cos(angle), ey = 60 - 50 * sin(angle)
        var out = "<div class=\"summary\"><svg class=\"gauge\" viewBox=\"0 0 120 70\" role=\"img\" aria-label=\"\(WorldMapSVG.fmt(sum.currentPercent))% current\">"
        out += "<path class=\"gauge-bg\" d=\"M10 60A50 50 0 0 1 110 60\"/>"
        if p > 0 { out += "<path class=\"gauge-fg\" d=\"M10 60A50 50 0 0 1 \(WorldMapSVG.fmt(ex)) \(WorldMapSVG.fmt(ey))\"/>" }
        out += "<text x=\"60\" y=\"56\" class=\"gauge-text\">\(WorldMapSVG.fmt(sum.currentPercent))%</text>"
        out += "<text x=\"60\" y=\"68\" class=\"gauge-sub\">current</text></svg>"
        out += "<div class=\"counts\"><p class=\"big\">\(sum.resolversCurrent) of \(sum.resolverCount) resolvers current</p>"
        let total = VerdictStatus.allCases.reduce(0) { $0 + sum.count($1) }
        out += "<svg class=\"bar\" viewBox=\"0 0 400 16\" preserveAspectRatio=\"none\" role=\"img\" aria-label=\"results by status\">"
        var x = 0.0
        for status in VerdictStatus.allCases where sum.count(status) > 0 && total > 0 {
            let w = 400 * Double(sum.count(status)) / Double(total)
            out += "<rect class=\"st-\(status.rawValue)\" x=\"\(WorldMapSVG.fmt(x))\" y=\"0\" width=\"\(WorldMapSVG.fmt(w))\" height=\"16\"><title>\(status.rawValue): \(sum.count(status))</title></rect>"
            x += w
        }
        out += "</svg><ul class=\"legend\">"
        for status in VerdictStatus.allCases where sum.count(status) > 0 {
            out += "<li><span class=\"swatch st-\(status.rawValue)\"></span>\(status.rawValue) \(sum.count(status))</li>"
        }
        out += "</ul>"
        out += "<dl class=\"times\">"
        out += "<dt>Expected convergence</dt><dd>\(Self.when(sum.lastExpiry, now: now, none: s.outcome == .converged ? "converged" : "unknown"))</dd>"
        out += "<dt>Latest convergence</dt><dd>\(Self.when(sum.lastLatestExpiry, now: now, none: s.outcome == .converged ? "converged" : "unknown"))</dd>"
        out += "</dl></div></div>"
        return out
    }

    /// `2026-11-30T03:12:00Z (in 4m10s)`.
    static func when(_ t: Double?, now: Double, none: String) -> String {
        guard let t else { return e(none) }
        let rel = t >= now ? "in \(Timestamp.duration(t - now))" : "\(Timestamp.duration(now - t)) ago"
        return "<time datetime=\"\(Timestamp.rfc3339(t))\">\(Timestamp.rfc3339(t))</time> (\(rel))"
    }

    /// The curve of current results over the rounds, then who flipped when and who has not yet.
    func timeline(_ s: Dashboard.Snapshot, now: Double) -> String {
        var out = "<section class=\"timeline\"><h2>Timeline</h2>"
        if s.history.count >= 1 {
            let t0 = s.state.started, t1 = max(now, (s.history.last?.at ?? now)), span = max(1, t1 - t0)
            out += "<svg class=\"curve\" viewBox=\"0 0 600 120\" preserveAspectRatio=\"none\" role=\"img\" aria-label=\"current results over time\">"
            out += "<path class=\"axis\" d=\"M0 110h600M0 10h600\"/>"
            let points = s.history.map { p -> String in
                "\(WorldMapSVG.fmt(600 * (p.at - t0) / span)),\(WorldMapSVG.fmt(110 - p.currentPercent))"
            }
            out += "<polyline class=\"line\" points=\"\(points.joined(separator: " "))\"/>"
            for p in s.history.suffix(200) {
                out += "<circle class=\"pt\" cx=\"\(WorldMapSVG.fmt(600 * (p.at - t0) / span))\" cy=\"\(WorldMapSVG.fmt(110 - p.currentPercent))\" r=\"2.5\"><title>round \(p.round): \(WorldMapSVG.fmt(p.currentPercent))% current, \(p.resolversCurrent)/\(p.resolvers) resolvers</title></circle>"
            }
            out += "</svg><p class=\"axis-label\">\(Timestamp.rfc3339(t0)) → \(Timestamp.rfc3339(t1)) · 0–100% current</p>"
        }
        out += "<ol class=\"events\">"
        for (address, when) in s.state.becameCurrent.sorted(by: { $0.value.at < $1.value.at }) {
            let label = s.state.resolvers[address].map(Self.resolverLabel) ?? address.description
            out += "<li class=\"st-current-text\"><time datetime=\"\(Timestamp.rfc3339(when.at))\">\(Timestamp.rfc3339(when.at))</time> \(Self.e(label)) current (round \(when.round))\(prediction(s.state, address))</li>"
        }
        for row in s.state.resolverRows() where row.worst.verdict.status != .current {
            let v = row.worst.verdict
            out += "<li>still <span class=\"tag st-\(v.status.rawValue)\">\(v.status.rawValue)</span> \(Self.e(Self.resolverLabel(row.resolver)))\(prediction(s.state, row.resolver.address))</li>"
        }
        return out + "</ol></section>"
    }

    func prediction(_ state: WatchState, _ address: ServerAddress) -> String {
        guard let p = state.predicted[address], p.earliest != nil || p.latest != nil else { return "" }
        return " · predicted \(p.earliest.map { Timestamp.rfc3339($0) } ?? "?") at the earliest, \(p.latest.map { Timestamp.rfc3339($0) } ?? "?") at the latest"
    }

    /// One row per resolver, worst first: its worst result.
    func table(_ s: Dashboard.Snapshot, now: Double) -> String {
        var out = "<section class=\"results\"><h2>Resolvers</h2><table id=\"resolvers\"><thead><tr>"
        out += "<th>Resolver</th><th>Operator</th><th>Where</th><th>Status</th><th>Question</th><th>Answer</th><th>TTL</th><th>Expires</th><th>Latest</th><th>Reason</th>"
        out += "</tr></thead><tbody>"
        let perResolver = Dictionary(grouping: s.state.entries.values, by: { $0.verdict.resolver.address })
        for row in s.state.resolverRows() {
            let v = row.worst.verdict, r = row.resolver
            let status = v.status.rawValue
            let address = r.vantage == nil ? r.address.description : "probe " + r.display
            let whereText = [r.countryCode ?? r.vantage?.country, r.location ?? r.vantage?.city].compactMap { $0 }.joined(separator: " ")
            var answers = v.answers.joined(separator: " · ")
            if answers.count > 300 { answers = String(answers.prefix(300)) + "…" }
            // The resolver's other results, behind a <details> (no script needed).
            let others = (perResolver[r.address] ?? []).map(\.verdict).filter { $0.question != v.question }.sorted { $0.question < $1.question }
            out += "<tr class=\"st-\(status)\(row.flipped ? " flipped" : "")\" data-resolver=\"\(Self.e(r.address.description))\" data-status=\"\(status)\">"
            out += "<td class=\"addr\">\(Self.e(address))</td>"
            out += "<td>\(Self.e(r.operatorName ?? r.vantage?.provider ?? ""))</td>"
            out += "<td>\(Self.e(whereText))</td>"
            out += "<td><span class=\"tag st-\(status)\">\(status)</span></td>"
            out += "<td>\(Self.e(v.question.description))"
            if !others.isEmpty {
                out += "<details class=\"more\"><summary>+\(others.count) more</summary><ul>"
                for o in others {
                    var text = o.answers.joined(separator: " · ")
                    if text.count > 300 { text = String(text.prefix(300)) + "…" }
                    out += "<li>\(Self.e(o.question.description)) <span class=\"tag st-\(o.status.rawValue)\">\(o.status.rawValue)</span> <span class=\"answers\">\(Self.e(text))</span></li>"
                }
                out += "</ul></details>"
            }
            out += "</td>"
            out += "<td class=\"answers\">\(Self.e(answers))</td>"
            out += "<td>\(v.ttl.map { String($0) } ?? "")</td>"
            out += "<td>\(v.expiresAt.map { Self.when($0, now: now, none: "") } ?? "")</td>"
            out += "<td>\(v.latestAt.map { Self.when($0, now: now, none: "") } ?? "")</td>"
            out += "<td class=\"reason\">\(Self.e(v.reason))</td></tr>"
        }
        return out + "</tbody></table></section>"
    }
}
