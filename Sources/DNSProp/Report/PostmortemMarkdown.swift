/// `dnsprop report --format md`: the postmortem as Markdown (GitHub-flavoured tables).
/// Every recorded string passes `ReportEscaping.markdown`.
public enum PostmortemMarkdown {
    public static func render(_ p: Postmortem) -> String {
        let e = ReportEscaping.markdown
        let start = p.firstAt ?? 0
        func at(_ t: Double?) -> String {
            guard let t else { return "—" }
            return "\(Timestamp.rfc3339(t)) (+\(Timestamp.duration(t - start)))"
        }
        var out = "# DNS propagation postmortem: \(p.names.map(e).joined(separator: ", "))\n\n"
        guard !p.curve.isEmpty else {
            out += "No complete round in the recording.\n"
            out += problems(p)
            return out
        }
        out += "Recorded \(p.curve.count) round\(p.curve.count == 1 ? "" : "s") from \(Timestamp.rfc3339(start)) to \(Timestamp.rfc3339(p.lastAt ?? start)) (\(Timestamp.duration((p.lastAt ?? start) - start))).\n\n"

        out += "## When the fix landed\n\n"
        if p.truthChanges.isEmpty {
            out += "The authoritative answer was the same in every recorded round: the fix had landed before round 1 (\(at(p.curve.first?.at))).\n"
            out += truthTable(p.initialTruth)
        } else {
            for c in p.truthChanges {
                out += "The authoritative answer changed in round \(c.round), between \(at(c.previousRoundAt)) and \(at(c.at)):\n\n"
                out += "| question | before | after |\n|---|---|---|\n"
                for t in c.after {
                    let old = c.before.first { $0.name == t.name && $0.type == t.type }
                    out += "| \(e(t.name)) \(e(t.type)) | \(old.map(answers) ?? "—") | \(answers(t)) |\n"
                }
                out += "\n"
            }
        }
        if let f = p.firstCurrentRound { out += "\nFirst current answer seen in round \(f.round) (\(at(f.at))).\n" }
        if let c = p.convergedBeforeFix { out += "(Converged on the old answer in round \(c.round), before the fix.)\n" }
        if let c = p.convergedRound {
            out += "Converged in round \(c.round) (\(at(c.at))).\n"
        } else {
            out += "Not converged by the end of the recording.\n"
        }

        out += "\n## Current resolvers over time\n\n`\(p.sparkline)`\n\n"
        out += "| round | time | current | resolvers | % of answers | outcome |\n|---:|---|---:|---:|---:|---|\n"
        for pt in p.curve {
            out += "| \(pt.round) | \(Timestamp.rfc3339(pt.at)) (+\(Timestamp.duration(pt.at - start))) | \(pt.current) | \(pt.resolvers) | \(WatchNotification.percent(pt.percent)) | \(e(pt.outcome)) |\n"
        }

        out += "\n## Resolvers: predicted and observed flip\n\n"
        if p.flips.isEmpty {
            out += "Every resolver was current in every round it was seen.\n"
        } else {
            out += "Predicted: when the answers seen first should expire by their TTLs, and at the latest (stale delegations, resolver ceilings). Observed: the first check that found the resolver current; it flipped after its last non-current check.\n\n"
            out += "| resolver | first seen | predicted (TTL) | predicted (latest) | last not current | observed current | outlived TTL |\n|---|---|---|---|---|---|---|\n"
            for f in p.flips {
                let who = e(f.resolver) + (f.operatorName.map { " (\(e($0)))" } ?? "")
                out += "| \(who) | \(e(f.firstStatus)), round \(f.firstSeenRound) | \(at(f.predictedExpiry)) | \(at(f.predictedLatest)) | \(at(f.lastNotCurrentAt)) | \(f.flipRound.map { "round \($0), \(at(f.flipAt))" } ?? "not by the end") | \(f.outlivedTTL ? "**yes**" : "no") |\n"
            }
        }
        for f in p.flips where !f.relapses.isEmpty {
            out += "\n\(e(f.resolver)) held out again after its flip: " + f.relapses.map { "round \($0.round) (\(e($0.status)))" }.joined(separator: ", ") + ".\n"
        }
        let outlived = p.flips.filter(\.outlivedTTL)
        out += "\n## Outlived their TTL\n\n"
        if outlived.isEmpty {
            out += "None: every resolver let go of the old answer by the expiry its TTL announced.\n"
        } else {
            for f in outlived {
                let late = f.predictedExpiry.map { f.lastNotCurrentAt - $0 } ?? 0
                out += "- **\(e(f.resolver))**\(f.operatorName.map { " (\(e($0)))" } ?? ""): still not current \(Timestamp.duration(late)) after its TTL expired\n"
                for w in f.why { out += "  - \(e(w))\n" }
            }
        }
        if !p.alwaysCurrent.isEmpty {
            out += "\nCurrent in every round: \(p.alwaysCurrent.map(e).joined(separator: ", ")).\n"
        }
        if !p.onlyFailing.isEmpty {
            out += "\nNever served an old answer, but failed some question (refused, timeout, error): \(p.onlyFailing.map(e).joined(separator: ", ")).\n"
        }
        out += problems(p)
        return out
    }

    static func answers(_ t: RecordedRun.TruthLine) -> String {
        if let n = t.negative { return ReportEscaping.markdown(n.uppercased()) }
        return t.answers.isEmpty ? "—" : t.answers.map(ReportEscaping.markdown).joined(separator: ", ")
    }

    static func truthTable(_ truth: [RecordedRun.TruthLine]) -> String {
        guard !truth.isEmpty else { return "" }
        var out = "\n| question | authoritative answer |\n|---|---|\n"
        for t in truth { out += "| \(ReportEscaping.markdown(t.name)) \(ReportEscaping.markdown(t.type)) | \(answers(t)) |\n" }
        return out
    }

    static func problems(_ p: Postmortem) -> String {
        guard !p.problems.isEmpty else { return "" }
        return "\n## Lines not read\n\n" + p.problems.map { "- \(ReportEscaping.markdown($0))\n" }.joined()
    }
}
