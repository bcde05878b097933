import Foundation
import Testing
@testable import DNSProp

@Suite("dnsprop report: recorded rounds to a postmortem")
struct ReportTests {
    static func fixture(_ name: String) throws -> String {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(2)     // DNSPropTests/ReportTests.swift
        return try String(contentsOfFile: (parts + ["Fixtures", Substring(name)]).joined(separator: "/"), encoding: .utf8)
    }

    static func time(_ t: Double) -> JSONValue { .string(Timestamp.rfc3339(t, fraction: true)) }

    /// One recorded round in the documented NDJSON shape: (address, operator, status, reason, answers, ttl, flags) each.
    static func round(_ n: Int, at: Double, truth: [String], results: [(String, String, String, String, [String], Int?, Bool, [String]?)]) -> String {
        var lines: [String] = []
        for r in results {
            let expires: JSONValue = r.5.map { time(at + Double($0)) } ?? .null
            lines.append(JSONValue.object([
                ("event", .string("result")),
                ("resolver", .object([("address", .string(r.0)), ("operator", .string(r.1))])),
                ("name", .string("victim.com.")), ("type", .string("A")), ("check", .string("record")),
                ("status", .string(r.2)), ("reason", .string(r.3)), ("answers", .array(r.4.map { .string($0) })),
                ("ttl", .optional(r.5)), ("expiresAt", r.2 == "current" ? .null : expires),
                ("latestAt", r.2 == "current" ? .null : expires),
                ("latestBasis", r.7 == nil ? .null : .string("its stale delegation of victim.com. expires first")),
                ("followsStaleDelegation", r.7.map { .array($0.map { .string($0) }) } ?? .null),
                ("servedPastExpiry", .bool(r.6)), ("checkedAt", time(at)),
                ("round", .int(n)), ("timestamp", time(at)),
            ]).serialized())
        }
        let current = results.filter { $0.2 == "current" }.count
        lines.append(JSONValue.object([
            ("event", .string("summary")), ("schemaVersion", .int(1)),
            ("startedAt", time(at - 1)), ("finishedAt", time(at)), ("names", .array([.string("victim.com.")])),
            ("truth", .array([.object([("name", .string("victim.com.")), ("type", .string("A")), ("answers", .array(truth.map { .string($0) })),
                                       ("negative", .null), ("serial", .int(1))])])),
            ("summary", .object([("resolvers", .int(results.count)), ("resolversCurrent", .int(current)),
                                 ("resolversAnswering", .int(results.count)),
                                 ("currentPercent", .double(Double(current) * 100 / Double(results.count))),
                                 ("outcome", .string(current == results.count ? "converged" : "notConverged"))])),
            ("round", .int(n)), ("timestamp", time(at)),
        ]).serialized())
        return lines.joined(separator: "\n") + "\n"
    }

    static let hostile = "<script>alert(1)</script> | [x](javascript:alert(1)) *b* \u{1B}]0;pwn\u{07}"

    static func hostileRun() -> String {
        let t = 1_800_000_000.0
        return round(1, at: t, truth: ["192.0.2.1"], results: [
            ("192.0.2.53", "Op " + hostile, "parked", "parked: " + hostile, ["208.91.197.46"], 10, false, nil),
            ("192.0.2.54", "Plain", "current", "", ["192.0.2.1"], 300, false, nil),
        ]) + round(2, at: t + 30, truth: ["192.0.2.10"], results: [
            ("192.0.2.53", "Op " + hostile, "stale", "stale: " + hostile, ["192.0.2.1"], 20, true, ["ns1.<b>park</b>.example."]),
            ("192.0.2.54", "Plain", "stale", "old", ["192.0.2.1"], 270, false, nil),
        ]) + round(3, at: t + 60, truth: ["192.0.2.10"], results: [
            ("192.0.2.53", "Op " + hostile, "current", "", ["192.0.2.10"], 300, false, nil),
            ("192.0.2.54", "Plain", "current", "", ["192.0.2.10"], 300, false, nil),
        ])
    }

    @Test func fixLandingFlipsAndOutlivedTTLFromRecordedRounds() throws {
        let p = Postmortem(RecordedRun(text: Self.hostileRun()))
        #expect(p.problems.isEmpty)
        #expect(p.curve.map(\.current) == [1, 0, 2])
        #expect(p.truthChanges.map(\.round) == [2])                 // the authority's answer changed in round 2
        #expect(p.convergedRound?.round == 3)
        let a = try #require(p.flips.first { $0.resolver == "192.0.2.53" })
        #expect(a.firstStatus == "parked" && a.firstSeenRound == 1 && a.flipRound == 3)
        #expect(a.predictedExpiry == 1_800_000_010)
        #expect(a.outlivedTTL)                                      // still not current at +30s, TTL said +10s
        #expect(a.why.contains { $0.contains("served the same answer past its announced expiry") })
        #expect(a.why.contains { $0.contains("ns1.<b>park</b>.example.") })
        let b = try #require(p.flips.first { $0.resolver == "192.0.2.54" })
        #expect(b.firstSeenRound == 2 && b.flipRound == 3 && !b.outlivedTTL)
        #expect(p.sparkline == "▅▁█")          // 1 of 2 → 3.5 of 7 eighths, rounded up
    }

    @Test func hostileTextIsEscapedInMarkdownAndHTML() {
        let p = Postmortem(RecordedRun(text: Self.hostileRun()))
        let html = PostmortemHTML.render(p)
        #expect(!html.contains("<script"))
        #expect(!html.contains("<b>park"))
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(!html.unicodeScalars.contains("\u{1B}") && !html.unicodeScalars.contains("\u{07}"))
        #expect(html.contains("\\x1B]0;pwn\\x07"))
        #expect(!html.contains("src=") && !html.contains("<link") && !html.contains("url("))
        #expect(html.contains("<svg") && html.contains("<polyline"))

        let md = PostmortemMarkdown.render(p)
        #expect(!md.contains("<script") && md.contains("&lt;script&gt;"))
        #expect(!md.contains("](javascript") && md.contains("\\]\\(javascript\\:"))
        #expect(!md.unicodeScalars.contains("\u{1B}"))
        // A `|` in network text never splits a table row: every row of the flips table has its 8 cell borders.
        let rows = md.split(separator: "\n").filter { $0.hasPrefix("| 192.0.2.53") }
        #expect(rows.count == 1)
        for row in rows {
            let unescaped = row.replacingOccurrences(of: "\\|", with: "")
            #expect(unescaped.filter { $0 == "|" }.count == 8)
        }
    }

    @Test func badLinesAreReportedWithTheirNumberAndTheRestIsRead() {
        var lines = Self.hostileRun().split(separator: "\n").map(String.init)
        // line 2: cut short; line 3: not JSON; line 5: a result without its status; last: an unknown event.
        lines[1] = String(lines[1].prefix(40))
        lines[2] = "garbage"
        lines[4] = lines[4].replacingOccurrences(of: "\"status\":\"stale\",", with: "")
        lines.append("{\"event\":\"surprise\",\"round\":3}")
        let run = RecordedRun(text: lines.joined(separator: "\n"))
        #expect(run.problems.count == 5)
        #expect(run.problems[0] == "line 2: not complete JSON (cut short?); skipped")
        #expect(run.problems[1] == "line 3: not a JSON object; skipped")
        #expect(run.problems[2] == "line 5: no 'status'; skipped")
        #expect(run.problems[3].hasPrefix("line 10: unknown event"))
        #expect(run.problems[4].hasPrefix("round 1: 1 result line(s) without the round's summary line"))
        // Round 1 lost its summary (line 3): its result line is reported and left out; rounds 2 and 3 stand.
        #expect(run.rounds.map(\.number) == [2, 3])
        let md = PostmortemMarkdown.render(Postmortem(run))
        #expect(md.contains("## Lines not read") && md.contains("line 2"))
    }

    @Test func typeMismatchesAndTimesAreChecked() {
        #expect(abs(RFC3339.parse("2026-11-29T13:17:31.512Z")! - 1_795_958_251.512) < 1e-6)
        #expect(RFC3339.parse("1970-01-01T01:00:00+01:00") == 0)
        #expect(RFC3339.parse("2026-13-01T00:00:00Z") == nil)
        #expect(RFC3339.parse("2026-11-29T13:17:31") == nil)
        let line = "{\"event\":\"summary\",\"round\":\"one\"}\n{\"event\":\"result\",\"round\":1,\"resolver\":{\"address\":\"x\"},\"name\":\"a.\",\"type\":\"A\",\"status\":\"current\",\"checkedAt\":\"yesterday\"}"
        let run = RecordedRun(text: line)
        #expect(run.problems == ["line 1: 'round' is not an integer; skipped", "line 2: 'checkedAt' is not an RFC 3339 time; skipped"])
        #expect(run.rounds.isEmpty)
    }

    @Test func reportOfARecordedTestbedRun() throws {
        // Recorded by `dnsprop watch --record` against the testbed while the fix landed
        // (parked → live); see Tests/Fixtures/README.md.
        let run = RecordedRun(text: try Self.fixture("watch-renewal.ndjson"))
        #expect(run.problems.isEmpty)
        let p = Postmortem(run)
        #expect(p.curve.map(\.round) == Array(1...19))
        // The fix: the walk saw the live NS set in round 4, the live A in round 5.
        #expect(p.truthChanges.map(\.round) == [4, 5])
        #expect(p.truthChanges.last!.after.first { $0.type == "A" }?.answers == ["192.0.2.10"])
        #expect(p.truthChanges.last!.before.first { $0.type == "A" }?.answers == ["208.91.197.46"])
        #expect(p.convergedBeforeFix?.round == 1)          // converged on the parking answer first
        #expect(p.convergedRound?.round == 8)
        let byAddress = Dictionary(uniqueKeysWithValues: p.flips.map { ($0.resolver, $0) })
        #expect(Set(byAddress.keys) == ["127.66.1.1", "127.66.1.2", "127.66.1.3", "127.66.1.4"])
        #expect(byAddress["127.66.1.1"]!.firstStatus == "parked" && byAddress["127.66.1.1"]!.flipRound == 5)
        #expect(byAddress["127.66.1.4"]!.firstStatus == "parked" && byAddress["127.66.1.4"]!.flipRound == 5)
        #expect(byAddress["127.66.1.2"]!.firstStatus == "stale" && byAddress["127.66.1.2"]!.flipRound == 8)
        #expect(byAddress["127.66.1.3"]!.firstStatus == "stale" && byAddress["127.66.1.3"]!.flipRound == 8)
        #expect(byAddress["127.66.1.4"]!.relapses.map(\.round) == [17])
        for f in p.flips {
            #expect(f.firstSeenRound == 4 && f.predictedExpiry != nil && !f.outlivedTTL)
            #expect(f.flipAt! > f.lastNotCurrentAt)
        }
        #expect(p.onlyFailing == ["127.66.1.5"])
        let md = PostmortemMarkdown.render(p)
        #expect(md.contains("| 127.66.1.2 (BIND 9) | stale, round 4 |"))
        #expect(md.contains("The authoritative answer changed in round 4"))
        #expect(md.contains("| victim.com. A | 208.91.197.46 | 192.0.2.10 |"))
        #expect(md.contains("Converged in round 8"))
        #expect(md.contains("127.66.1.4 held out again after its flip: round 17 (servfail)."))
    }
}
