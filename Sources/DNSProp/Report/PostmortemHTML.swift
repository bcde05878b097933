/// `dnsprop report --format html`: the postmortem as one self-contained page: inline
/// CSS, an inline SVG chart, no script, no external resource of any kind (the Content
/// Security Policy in the page says so too). Every recorded string passes
/// `ReportEscaping.html`.
public enum PostmortemHTML {
    public static func render(_ p: Postmortem) -> String {
        let h = ReportEscaping.html
        let start = p.firstAt ?? 0
        func at(_ t: Double?) -> String {
            guard let t else { return "—" }
            return "<time datetime=\"\(Timestamp.rfc3339(t))\">\(Timestamp.rfc3339(t))</time> (+\(Timestamp.duration(t - start)))"
        }
        let title = "DNS propagation postmortem: " + p.names.map(h).joined(separator: ", ")
        var out = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(title)</title>
            <style>
            body{font:15px/1.45 system-ui,sans-serif;margin:2em auto;max-width:72em;padding:0 1em;color:#222}
            table{border-collapse:collapse;margin:.5em 0 1.5em}th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}
            th{background:#f3f3f3}td.n{text-align:right}.yes{color:#b00;font-weight:bold}.problems{color:#842}
            svg{max-width:100%;height:auto}code{font-size:90%}
            </style></head><body>
            <h1>\(title)</h1>

            """
        guard !p.curve.isEmpty else {
            out += "<p>No complete round in the recording.</p>\n" + problems(p) + "</body></html>\n"
            return out
        }
        out += "<p>Recorded \(p.curve.count) round\(p.curve.count == 1 ? "" : "s") from \(at(start)) to \(at(p.lastAt)).</p>\n"
        out += "<h2>When the fix landed</h2>\n"
        if p.truthChanges.isEmpty {
            out += "<p>The authoritative answer was the same in every recorded round: the fix had landed before round 1 (\(at(p.curve.first?.at))).</p>\n"
            if !p.initialTruth.isEmpty {
                out += "<table><tr><th>question</th><th>authoritative answer</th></tr>\n"
                for t in p.initialTruth { out += "<tr><td>\(h(t.name)) \(h(t.type))</td><td>\(answers(t))</td></tr>\n" }
                out += "</table>\n"
            }
        } else {
            for c in p.truthChanges {
                out += "<p>The authoritative answer changed in round \(c.round), between \(at(c.previousRoundAt)) and \(at(c.at)).</p>\n"
                out += "<table><tr><th>question</th><th>before</th><th>after</th></tr>\n"
                for t in c.after {
                    let old = c.before.first { $0.name == t.name && $0.type == t.type }
                    out += "<tr><td>\(h(t.name)) \(h(t.type))</td><td>\(old.map(answers) ?? "—")</td><td>\(answers(t))</td></tr>\n"
                }
                out += "</table>\n"
            }
        }
        out += "<p>"
        if let f = p.firstCurrentRound { out += "First current answer seen in round \(f.round) (\(at(f.at))). " }
        if let c = p.convergedBeforeFix { out += "(Converged on the old answer in round \(c.round), before the fix.) " }
        out += p.convergedRound.map { "Converged in round \($0.round) (\(at($0.at)))." } ?? "Not converged by the end of the recording."
        out += "</p>\n<h2>Current resolvers over time</h2>\n" + chart(p) + "\n"
        out += "<table><tr><th>round</th><th>time</th><th>current</th><th>resolvers</th><th>% of answers</th><th>outcome</th></tr>\n"
        for pt in p.curve {
            out += "<tr><td class=n>\(pt.round)</td><td>\(at(pt.at))</td><td class=n>\(pt.current)</td><td class=n>\(pt.resolvers)</td><td class=n>\(WatchNotification.percent(pt.percent))</td><td>\(h(pt.outcome))</td></tr>\n"
        }
        out += "</table>\n<h2>Resolvers: predicted and observed flip</h2>\n"
        if p.flips.isEmpty {
            out += "<p>Every resolver was current in every round it was seen.</p>\n"
        } else {
            out += "<table><tr><th>resolver</th><th>first seen</th><th>predicted (TTL)</th><th>predicted (latest)</th><th>last not current</th><th>observed current</th><th>outlived TTL</th></tr>\n"
            for f in p.flips {
                out += "<tr><td>\(h(f.resolver))\(f.operatorName.map { " (\(h($0)))" } ?? "")</td><td>\(h(f.firstStatus)), round \(f.firstSeenRound)</td>"
                out += "<td>\(at(f.predictedExpiry))</td><td>\(at(f.predictedLatest))</td><td>\(at(f.lastNotCurrentAt))</td>"
                out += "<td>\(f.flipRound.map { "round \($0), \(at(f.flipAt))" } ?? "not by the end")</td>"
                out += "<td>\(f.outlivedTTL ? "<span class=yes>yes</span>" : "no")</td></tr>\n"
            }
            out += "</table>\n"
        }
        for f in p.flips where !f.relapses.isEmpty {
            out += "<p>\(h(f.resolver)) held out again after its flip: " + f.relapses.map { "round \($0.round) (\(h($0.status)))" }.joined(separator: ", ") + ".</p>\n"
        }
        out += "<h2>Outlived their TTL</h2>\n"
        let outlived = p.flips.filter(\.outlivedTTL)
        if outlived.isEmpty {
            out += "<p>None: every resolver let go of the old answer by the expiry its TTL announced.</p>\n"
        } else {
            out += "<ul>\n"
            for f in outlived {
                let late = f.predictedExpiry.map { f.lastNotCurrentAt - $0 } ?? 0
                out += "<li><b>\(h(f.resolver))</b>\(f.operatorName.map { " (\(h($0)))" } ?? ""): still not current \(Timestamp.duration(late)) after its TTL expired<ul>"
                for w in f.why { out += "<li>\(h(w))</li>" }
                out += "</ul></li>\n"
            }
            out += "</ul>\n"
        }
        if !p.alwaysCurrent.isEmpty { out += "<p>Current in every round: \(p.alwaysCurrent.map(h).joined(separator: ", ")).</p>\n" }
        if !p.onlyFailing.isEmpty {
            out += "<p>Never served an old answer, but failed some question (refused, timeout, error): \(p.onlyFailing.map(h).joined(separator: ", ")).</p>\n"
        }
        out += problems(p) + "</body></html>\n"
        return out
    }

    static func answers(_ t: RecordedRun.TruthLine) -> String {
        if let n = t.negative { return ReportEscaping.html(n.uppercased()) }
        return t.answers.isEmpty ? "—" : t.answers.map(ReportEscaping.html).joined(separator: "<br>")
    }

    static func problems(_ p: Postmortem) -> String {
        guard !p.problems.isEmpty else { return "" }
        return "<h2>Lines not read</h2>\n<ul class=problems>\n" + p.problems.map { "<li>\(ReportEscaping.html($0))</li>\n" }.joined() + "</ul>\n"
    }

    /// Current resolvers (y) against time since the first round (x), one point per round.
    static func chart(_ p: Postmortem) -> String {
        let w = 720.0, hgt = 260.0, left = 48.0, right = 16.0, top = 16.0, bottom = 36.0
        let start = p.firstAt ?? p.curve[0].at
        let span = max(1, (p.curve.last!.at - start))
        let maxY = Double(max(1, p.curve.map(\.resolvers).max() ?? 1))
        func x(_ t: Double) -> Double { left + (t - start) / span * (w - left - right) }
        func y(_ v: Double) -> Double { top + (1 - v / maxY) * (hgt - top - bottom) }
        func f(_ v: Double) -> String { String(Int((v * 10).rounded())) .withDecimal }
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(w)) \(Int(hgt))\" width=\"\(Int(w))\" height=\"\(Int(hgt))\" role=\"img\" aria-label=\"current resolvers per round\">\n"
        s += "<rect x=\"0\" y=\"0\" width=\"\(Int(w))\" height=\"\(Int(hgt))\" fill=\"#fff\"/>\n"
        // Axes, the total as a dashed line, gridlines at 0 and the maximum.
        s += "<line x1=\"\(f(left))\" y1=\"\(f(y(0)))\" x2=\"\(f(w - right))\" y2=\"\(f(y(0)))\" stroke=\"#888\"/>\n"
        s += "<line x1=\"\(f(left))\" y1=\"\(f(top))\" x2=\"\(f(left))\" y2=\"\(f(y(0)))\" stroke=\"#888\"/>\n"
        s += "<line x1=\"\(f(left))\" y1=\"\(f(y(maxY)))\" x2=\"\(f(w - right))\" y2=\"\(f(y(maxY)))\" stroke=\"#bbb\" stroke-dasharray=\"4 3\"/>\n"
        s += "<text x=\"\(f(left - 6))\" y=\"\(f(y(maxY) + 4))\" text-anchor=\"end\" font-size=\"12\">\(Int(maxY))</text>\n"
        s += "<text x=\"\(f(left - 6))\" y=\"\(f(y(0) + 4))\" text-anchor=\"end\" font-size=\"12\">0</text>\n"
        s += "<text x=\"\(f(left))\" y=\"\(f(hgt - 10))\" font-size=\"12\">+0s</text>\n"
        s += "<text x=\"\(f(w - right))\" y=\"\(f(hgt - 10))\" text-anchor=\"end\" font-size=\"12\">+\(Timestamp.duration(span))</text>\n"
        if let c = p.convergedRound {
            s += "<line x1=\"\(f(x(c.at)))\" y1=\"\(f(top))\" x2=\"\(f(x(c.at)))\" y2=\"\(f(y(0)))\" stroke=\"#2a2\" stroke-dasharray=\"2 3\"/>\n"
            s += "<text x=\"\(f(x(c.at) - 4))\" y=\"\(f(top + 12))\" text-anchor=\"end\" font-size=\"12\" fill=\"#2a2\">converged</text>\n"
        }
        for c in p.truthChanges {
            s += "<line x1=\"\(f(x(c.at)))\" y1=\"\(f(top))\" x2=\"\(f(x(c.at)))\" y2=\"\(f(y(0)))\" stroke=\"#a60\" stroke-dasharray=\"2 3\"/>\n"
            s += "<text x=\"\(f(x(c.at) + 4))\" y=\"\(f(top + 26))\" font-size=\"12\" fill=\"#a60\">fix seen (round \(c.round))</text>\n"
        }
        let points = p.curve.map { "\(f(x($0.at))),\(f(y(Double($0.current))))" }.joined(separator: " ")
        s += "<polyline fill=\"none\" stroke=\"#1565c0\" stroke-width=\"2\" points=\"\(points)\"/>\n"
        for pt in p.curve {
            s += "<circle cx=\"\(f(x(pt.at)))\" cy=\"\(f(y(Double(pt.current))))\" r=\"3\" fill=\"#1565c0\"><title>round \(pt.round): \(pt.current)/\(pt.resolvers) current</title></circle>\n"
        }
        s += "<text x=\"\(f((left + w - right) / 2))\" y=\"\(f(hgt - 10))\" text-anchor=\"middle\" font-size=\"12\">time since the first round; current resolvers per round</text>\n"
        return s + "</svg>"
    }
}

private extension String {
    /// "123" (tenths) → "12.3".
    var withDecimal: String {
        let negative = hasPrefix("-")
        var digits = negative ? String(dropFirst()) : self
        while digits.count < 2 { digits = "0" + digits }
        return (negative ? "-" : "") + digits.dropLast() + "." + digits.suffix(1)
    }
}
