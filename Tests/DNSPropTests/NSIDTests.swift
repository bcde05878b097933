#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import DNSProp

/// NSID (RFC 5001): asked in every check query, decoded into `Verdict.site`, shown in
/// the table (a SITE column only when some resolver named its site), JSON and CSV.
@Suite("NSID and the answering site", .serialized)
struct NSIDTests {
    static func nsidEDNS(_ value: [UInt8]) -> EDNS {
        EDNS(udpPayloadSize: 1232, version: 0, dnssecOK: false, extendedRcode: 0,
             options: EDNSOption(code: EDNSOption.nsidCode, value: value).wire)
    }

    @Test func queryCarriesAnEmptyNSIDOption() throws {
        let t = try QueryTemplate(name: DomainName("victim.example"), type: .a, options: .recursiveWithNSID)
        let m = try MessageDecoder.decode(t.wire(id: 7))
        #expect(m.edns?.parsedOptions == [EDNSOption(code: 3, value: [])])
        #expect(m.edns?.udpPayloadSize == 1232)
        let plain = try MessageDecoder.decode(try QueryTemplate(name: DomainName("victim.example"), type: .a).wire(id: 7))
        #expect(plain.edns?.nsid == nil)
        #expect(plain.edns?.options.isEmpty == true)
    }

    @Test func answersNSIDDecodes() throws {
        let q = try MessageDecoder.decode(try QueryTemplate(name: DomainName("victim.example"), type: .a).wire(id: 1))
        let text = try MessageDecoder.decode(Answer.to(q, edns: Self.nsidEDNS(Array("gpdns-ams".utf8))))
        #expect(text.nsidSite == "gpdns-ams")
        let binary = try MessageDecoder.decode(Answer.to(q, edns: Self.nsidEDNS([0x1b, 0x5d, 0x41, 0x0a])))
        #expect(binary.nsidSite == "1b5d410a")
        #expect(try MessageDecoder.decode(Answer.to(q, edns: Self.nsidEDNS([]))).nsidSite == nil)
        #expect(try MessageDecoder.decode(Answer.to(q)).nsidSite == nil)
        // Options whose lengths do not add up are no options at all.
        #expect(EDNSOption.parse([0, 3, 0, 9, 65]) == nil)
        let ede = EDNS(udpPayloadSize: 1232, version: 0, dnssecOK: false, extendedRcode: 0,
                       options: EDNSOption(code: 15, value: [0, 6] + Array("bad sig".utf8)).wire)
        #expect(ede.extendedErrors.map(\.description) == ["EDE 6 (DNSSEC Bogus): bad sig"])
    }

    @Test func checkReportsTheSiteInTableJSONAndCSV() async throws {
        let world = try PropagationCheckTests.Hierarchy()
        defer { world.stop() }
        // Names itself only when asked (as real servers do), with a hostile escape in one case.
        func responder(_ host: String, _ site: String?) throws -> TestResponder {
            try PropagationCheckTests.resolver(host) { m in
                let asked = m.edns?.nsid != nil
                return Answer.to(m, answers: [ResourceRecord(owner: m.questions[0].name, type: .a, ttl: 60, rdataFields: ["192.0.2.10"])],
                                 edns: site.map { asked ? Self.nsidEDNS(Array($0.utf8)) : EDNS(udpPayloadSize: 1232, version: 0, dnssecOK: false, extendedRcode: 0, options: []) })
            }
        }
        let named = try responder("127.78.9.1", "res-ams-3.example.net")
        let hostile = try responder("127.78.9.2", "fra\u{1B}[2J")
        let silent = try responder("127.78.9.3", nil)
        let all = [named, hostile, silent]
        defer { all.forEach { $0.stop() } }
        let engine = PropagationCheckTests.engine()
        defer { engine.shutdown() }
        var plan = try PropagationCheckTests.plan(["victim.example"], [.a], all, world: world)
        plan.checkDelegation = false
        let report = await PropagationCheck(plan: plan, engine: engine).run()
        let byHost = Dictionary(uniqueKeysWithValues: report.verdicts.map { ($0.resolver.address.ip.description, $0) })
        #expect(byHost["127.78.9.1"]?.site == "res-ams-3.example.net")
        // Not printable ASCII: shown as hex, so no control character reaches any output.
        #expect(byHost["127.78.9.2"]?.site == "6672611b5b324a")
        #expect(byHost["127.78.9.3"]?.site == nil)
        #expect(named.received.allSatisfy { $0.message.edns?.nsid == [] })

        let table = CheckReportTable(colour: false).render(report)
        let lines = table.split(separator: "\n").map(String.init)
        let header = try #require(lines.first { $0.hasPrefix("STATUS") })
        #expect(header.hasSuffix("SITE"))
        #expect(lines.allSatisfy { $0.count <= 80 })
        #expect(lines.contains { $0.contains("127.78.9.1") && $0.contains(" res-ams-3") })
        #expect(!table.contains("\u{1B}"))
        #expect(lines.contains { $0.contains("127.78.9.2") && $0.contains(" 6672611b5") })

        let json = CheckReportJSON.document(report, outcome: report.outcome(minCurrent: nil)).serialized()
        #expect(json.contains("\"site\":\"res-ams-3.example.net\""))
        #expect(json.contains("\"site\":\"6672611b5b324a\""))
        #expect(json.contains("\"site\":null"))
        let csv = CheckReportCSV.document(report).split(separator: "\n")
        #expect(csv.first?.hasSuffix(",site") == true)
        #expect(csv.contains { $0.hasPrefix("127.78.9.1,") && $0.hasSuffix(",res-ams-3.example.net") })
        #expect(csv.contains { $0.hasPrefix("127.78.9.2,") && $0.hasSuffix(",6672611b5b324a") })
        #expect(!csv.joined().contains("\u{1B}"))
    }

    @Test func noSiteNoColumn() async throws {
        let world = try PropagationCheckTests.Hierarchy()
        defer { world.stop() }
        let r = try PropagationCheckTests.resolver("127.78.9.4") { m in Answer.a(m, "192.0.2.10") }
        defer { r.stop() }
        let engine = PropagationCheckTests.engine()
        defer { engine.shutdown() }
        var plan = try PropagationCheckTests.plan(["victim.example"], [.a], [r], world: world)
        plan.checkDelegation = false
        let report = await PropagationCheck(plan: plan, engine: engine).run()
        #expect(report.verdicts.first?.status == .current)
        #expect(!CheckReportTable(colour: false).render(report).contains("SITE"))
    }
}
