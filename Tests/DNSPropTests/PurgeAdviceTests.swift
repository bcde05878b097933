import Foundation
import Testing
@testable import DNSProp

@Suite("Where to flush")
struct PurgeAdviceTests {
    static func truth(_ name: String, _ type: RecordType) throws -> Truth {
        Truth(name: try DomainName(name), type: type, answer: .data([]), expectedValues: nil,
              source: .authoritative(zone: "victim.com.", servers: ["ns1.victim.com."], serial: 1), notes: [], failure: nil)
    }

    static func verdict(_ r: Resolver, _ name: String, _ type: RecordType, _ status: VerdictStatus, delegation: Bool = false) throws -> Verdict {
        Verdict(resolver: r, question: CheckQuestion(name: try DomainName(name), type: type, kind: delegation ? .delegation : .record),
                status: status, reason: "", checkedAt: 0)
    }

    let google = Resolver(address: ServerAddress(ip: IPAddress("8.8.8.8")!, port: 53), operatorName: "Google Public DNS", service: "google")
    let cloudflare = Resolver(address: ServerAddress(ip: IPAddress("1.1.1.1")!, port: 53), operatorName: "Cloudflare", service: "cloudflare")
    let quad9 = Resolver(address: ServerAddress(ip: IPAddress("9.9.9.9")!, port: 53), operatorName: "Quad9", service: "quad9")

    @Test func staleAtAServiceWithAPageGetsItAndTheDelegationFirst() throws {
        let www = QuestionReport(question: CheckQuestion(name: try DomainName("www.victim.com"), type: .a),
                                 truth: try Self.truth("www.victim.com", .a), verdicts: [
            try Self.verdict(google, "www.victim.com", .a, .parked),
            try Self.verdict(cloudflare, "www.victim.com", .a, .stale),
            try Self.verdict(quad9, "www.victim.com", .a, .stale),
        ])
        let ns = QuestionReport(question: CheckQuestion(name: try DomainName("victim.com"), type: .ns, kind: .delegation),
                                truth: try Self.truth("victim.com", .ns), verdicts: [
            try Self.verdict(google, "victim.com", .ns, .stale, delegation: true),
            try Self.verdict(cloudflare, "victim.com", .ns, .current, delegation: true),
            try Self.verdict(quad9, "victim.com", .ns, .stale, delegation: true),
        ])
        let out = PurgeAdvice.annotate([www, ns])
        let g = try #require(out[0].verdicts[0].purge)
        #expect(g.page.url == "https://developers.google.com/speed/public-dns/cache")
        #expect(g.names == ["victim.com. NS", "victim.com. A", "www.victim.com. A"])
        // Cloudflare follows the current delegation: only the name itself.
        #expect(out[0].verdicts[1].purge?.names == ["www.victim.com. A"])
        #expect(out[0].verdicts[1].purge?.page.service == "cloudflare")
        // No page for Quad9's service.
        #expect(out[0].verdicts[2].purge == nil)
        #expect(out[1].verdicts[0].purge?.names == ["victim.com. NS"])
        #expect(out[1].verdicts[1].purge == nil)   // current: nothing to flush

        let report = PropagationReport(startedAt: 0, finishedAt: 0, names: [try DomainName("www.victim.com")], questions: out, resolverCount: 3)
        let table = CheckReportTable(colour: false, now: 0).render(report).replacingOccurrences(of: "\n  ", with: " ")
        #expect(table.contains("flush at Google Public DNS Flush Cache (8.8.8.8)"))
        #expect(table.contains("victim.com. NS, then victim.com. A, then www.victim.com. A"))
        #expect(!table.contains("Quad9") || !table.contains("flush at Quad9"))
        let json = CheckReportJSON.document(report, outcome: report.outcome(minCurrent: nil)).serialized()
        #expect(json.contains(#""purge":{"service":"google","url":"https://developers.google.com/speed/public-dns/cache","names":["victim.com. NS","victim.com. A","www.victim.com. A"]}"#))
        #expect(json.contains(#""purge":null"#))
    }

    @Test func timeoutsAndCurrentAnswersGetNoAdvice() throws {
        let q = QuestionReport(question: CheckQuestion(name: try DomainName("victim.com"), type: .a),
                               truth: try Self.truth("victim.com", .a), verdicts: [
            try Self.verdict(google, "victim.com", .a, .timeout),
            try Self.verdict(cloudflare, "victim.com", .a, .current),
            try Self.verdict(google, "victim.com", .a, .nxdomain),
        ])
        #expect(PurgeAdvice.annotate([q])[0].verdicts.allSatisfy { $0.purge == nil })
    }

    @Test func everyBundledPageIsAServiceOfTheShippedList() {
        let services = Set(ResolverList.bundled.resolvers.map(\.service))
        for key in PurgePage.bundled.keys { #expect(services.contains(key), "\(key)") }
    }
}
