import Foundation
import Testing
@testable import DNSProp

/// Resolvers that misbehave on purpose: for each, the verdict dnsprop gives and
/// proof that every output format stays well-formed and escaped.
@Suite("Hostile resolvers", .serialized)
struct HostileResolverTests {
    typealias H = PropagationCheckTests.Hierarchy

    /// Runs a check of victim.example A against one scripted resolver; returns its verdict and every rendering.
    func check(_ answer: @escaping @Sendable (TestResponder.Query) -> [UInt8]?, tcp: Bool = false,
               expect: [String]? = nil) async throws -> (Verdict, [String: String]) {
        let world = try H()
        defer { world.stop() }
        let resolver = try TestResponder(host: "127.80.0.1", tcp: tcp) { q in answer(q).map { [.reply($0)] } ?? [] }
        defer { resolver.stop() }
        var plan = try PropagationCheckTests.plan(["victim.example"], [.a], [resolver], world: world)
        plan.checkDelegation = false
        if let expect { plan.expectations = [.a: expect] }
        let engine = PropagationCheckTests.engine()
        defer { engine.shutdown() }
        let report = await PropagationCheck(plan: plan, engine: engine).run()
        let verdict = try #require(report.verdicts.first)
        var outputs: [String: String] = [:]
        outputs["table"] = CheckReportTable(colour: false).render(report)
        outputs["json"] = CheckReportJSON.document(report, outcome: report.outcome(minCurrent: nil)).serialized(pretty: true)
        outputs["ndjson"] = CheckReportJSON.ndjsonLines(report, outcome: report.outcome(minCurrent: nil)).joined(separator: "\n")
        outputs["csv"] = ([CheckReportCSV.csvHeader] + report.verdicts.map(CheckReportCSV.csvRow)).map(CheckReportCSV.csvLine).joined(separator: "\n")
        try assertWellFormed(outputs)
        return (verdict, outputs)
    }

    func assertWellFormed(_ outputs: [String: String]) throws {
        for line in outputs["table"]!.split(separator: "\n") {
            #expect(line.count <= 80, "table line over 80 columns: \(line)")
        }
        for (format, text) in outputs {
            for scalar in text.unicodeScalars where scalar != "\n" {
                #expect(!TerminalText.needsEscape(scalar), "\(format) carries U+\(String(scalar.value, radix: 16))")
            }
        }
        _ = try JSONSerialization.jsonObject(with: Data(outputs["json"]!.utf8))
        for line in outputs["ndjson"]!.split(separator: "\n") {
            _ = try JSONSerialization.jsonObject(with: Data(line.utf8))
        }
        // CSV: every row has as many fields as the header (quotes respected).
        let rows = outputs["csv"]!.split(separator: "\n").map(Self.csvFields)
        for row in rows { #expect(row.count == CheckReportCSV.csvHeader.count, "\(row)") }
    }

    static func csvFields(_ line: Substring) -> [String] {
        var fields: [String] = [], current = "", quoted = false
        var chars = Array(line)[...]
        while let c = chars.popFirst() {
            if quoted {
                if c == "\"" { if chars.first == "\"" { current.append("\""); chars.removeFirst() } else { quoted = false } }
                else { current.append(c) }
            } else if c == "\"" { quoted = true }
            else if c == "," { fields.append(current); current = "" }
            else { current.append(c) }
        }
        fields.append(current)
        return fields
    }

    static func a(_ m: Message, _ records: [ResourceRecord], flags: Header.Flags = [.qr, .rd, .ra]) -> [UInt8] {
        Answer.to(m, flags: flags, answers: records)
    }

    @Test func answerForAnotherQuestionIsNeverTaken() async throws {
        let (v, _) = try await check { query in
            let m = query.message
            return Answer.to(m, answers: [MiniZone.rr("evil.example.", .a, "6.6.6.6")], question: Question(name: "evil.example.", type: .a))
        }
        #expect(v.status == .timeout)
    }

    @Test func thousandsOfRecordsOverTCP() async throws {
        let (v, out) = try await check({ query in
            let m = query.message
            let q = m.questions[0]
            let records = (0..<2000).map { i in MiniZone.rr(q.name, .a, "10.\(i / 65536).\((i / 256) % 256).\(i % 256)") }
            return query.overTCP ? Self.a(m, records) : Self.a(m, [], flags: [.qr, .rd, .ra, .tc])
        }, tcp: true)
        #expect(v.transport == .tcp)
        #expect(v.status == .stale)
        #expect(v.answers.count == 2000)
        #expect(out["json"]!.contains("10.0.7.207"))
    }

    @Test func answerOfAlmost64KiBOverTCP() async throws {
        let (v, _) = try await check({ query in
            let m = query.message
            let q = m.questions[0]
            // Owner compressed to 2 bytes: 16 bytes a record; 4000 records ≈ 64,000 bytes.
            let records = (0..<4000).map { i in MiniZone.rr(q.name, .a, "10.\(i / 65536).\((i / 256) % 256).\(i % 256)") }
            return query.overTCP ? Self.a(m, records) : Self.a(m, [], flags: [.qr, .rd, .ra, .tc])
        }, tcp: true)
        #expect(v.transport == .tcp)
        #expect(v.answers.count == 4000)
    }

    @Test func ttlExtremes() async throws {
        let (zero, _) = try await check { query in let m = query.message; return Self.a(m, [MiniZone.rr(m.questions[0].name, .a, "192.0.2.99", ttl: 0)]) }
        #expect(zero.status == .stale)
        #expect(zero.ttl == 0)
        #expect(zero.reason.contains("TTL 0"))
        let (max, _) = try await check { query in let m = query.message; return Self.a(m, [MiniZone.rr(m.questions[0].name, .a, "192.0.2.99", ttl: 2_147_483_647)]) }
        #expect(max.ttl == 2_147_483_647)
        #expect(max.expiresAt.map { $0 > max.checkedAt + 2e9 } == true)
        // Above 2^31-1 a TTL means 0 (RFC 2181 §8).
        let (over, _) = try await check { query in let m = query.message; return Self.a(m, [MiniZone.rr(m.questions[0].name, .a, "192.0.2.99", ttl: 3_000_000_000)]) }
        #expect(over.ttl == 0)
    }

    @Test func namesWithEveryByteValue() async throws {
        let (v, out) = try await check { query in
            let m = query.message
            // A CNAME chain through two names whose labels hold every byte value 0...255
            // (one name cannot hold 256 octets). Built as raw wire bytes: ldns's text
            // parser cannot express some of these names, its wire parser must.
            func wireName(_ labels: [Range<Int>]) -> [UInt8] {
                labels.flatMap { [UInt8($0.count)] + $0.map { UInt8($0) } } + [0]
            }
            let first = wireName([0..<63, 63..<125]), second = wireName([125..<188, 188..<251, 251..<256])
            var qEnd = 12
            while query.bytes[qEnd] != 0 { qEnd += Int(query.bytes[qEnd]) + 1 }
            qEnd += 5
            func rr(_ owner: [UInt8], _ type: UInt16, _ rdata: [UInt8]) -> [UInt8] {
                owner + [UInt8(type >> 8), UInt8(type & 0xFF), 0, 1, 0, 0, 0, 60, UInt8(rdata.count >> 8), UInt8(rdata.count & 0xFF)] + rdata
            }
            let id = m.header.id
            return [UInt8(id >> 8), UInt8(id & 0xFF), 0x81, 0x80, 0, 1, 0, 3, 0, 0, 0, 0] + Array(query.bytes[12..<qEnd])
                + rr([0xC0, 12], 5, first) + rr(first, 5, second) + rr(second, 1, [192, 0, 2, 10])
        }
        #expect(v.status == .stale)
        #expect(out["table"]!.contains("CNAME"))
    }

    @Test func txtWithEscapesAndInvalidUTF8() async throws {
        let (v, out) = try await check({ query in
            let m = query.message
            return Self.a(m, [MiniZone.rr(m.questions[0].name, .a, "192.0.2.10"),
                       ResourceRecord(owner: m.questions[0].name, type: .txt, ttl: 5,
                                      rdataFields: ["\"\\027]52;c;cHduZWQ=\\007\\255\\254\\027[31m\""])])
        }, expect: ["192.0.2.10"])
        #expect(v.status == .current)
        for text in out.values { #expect(!text.contains("\u{1B}")) }
    }

    @Test func pointerLoopAnswerIsAnError() async throws {
        let (v, _) = try await check { query in
            let m = query.message
            let id = m.header.id
            return [UInt8(id >> 8), UInt8(id & 0xFF), 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1,
                    0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1]
        }
        #expect(v.status == .error)
        #expect(v.reason.contains("malformed"))
    }
}
