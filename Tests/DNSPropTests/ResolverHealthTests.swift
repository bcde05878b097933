#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import DNSProp

/// `resolvers check` against in-process resolvers: one that validates (AD on the signed
/// name, SERVFAIL with EDE 6 on the broken one), one that lies about a name that does not
/// exist, one that answers only over TCP, one that refuses, and an address where nothing listens.
/// The testbed's zones are unsigned, so DNSSEC is tested here with canned answers.
@Suite("Resolver health check", .serialized)
struct ResolverHealthTests {
    static let probes = ResolverHealthCheck.Probes(recursionName: DomainName(presentation: "victim.example.")!,
                                                   honestyZone: DomainName(presentation: "victim.example.")!,
                                                   signedName: DomainName(presentation: "signed.example.")!,
                                                   brokenName: DomainName(presentation: "broken.example.")!)

    /// A recursive resolver: `lie` answers an address for names that do not exist; `validating`
    /// sets AD on signed.example and SERVFAILs broken.example with EDE 6 (DNSSEC Bogus).
    static func resolver(_ host: String, lie: Bool = false, validating: Bool = false, udp: Bool = true,
                         site: String? = nil) throws -> TestResponder {
        try TestResponder(host: host, tcp: true, handler: behaviour(host, lie: lie, validating: validating, udp: udp, site: site))
    }

    static func behaviour(_ host: String, lie: Bool = false, validating: Bool = false, udp: Bool = true,
                          site: String? = nil) -> @Sendable (TestResponder.Query) -> [TestResponder.Action] {
        { q in
            if !udp && !q.overTCP { return [] }
            let m = q.message
            let question = m.questions[0]
            let name = question.name
            var edns: EDNS? = m.edns.map { _ in EDNS(udpPayloadSize: 1232, version: 0, dnssecOK: false, extendedRcode: 0,
                                                     options: site.map { EDNSOption(code: 3, value: Array($0.utf8)).wire } ?? []) }
            if question.recordClass == .ch {
                return [.reply(Answer.to(m, answers: [ResourceRecord(owner: name, type: .txt, recordClass: .ch, ttl: 0, rdataFields: ["\"chaos-\(host)\""])]))]
            }
            if name.hasPrefix("dnsprop-") {
                return [.reply(lie ? Answer.a(m, "198.51.100.7") : Answer.to(m, rcode: .nxDomain, edns: edns))]
            }
            if name == "broken.example." && validating && !m.header.flags.contains(.cd) {
                // With CD=1 a validator hands the bogus data out (RFC 4035 §3.2.2); without, SERVFAIL.
                edns?.options += EDNSOption(code: 15, value: [0, 6] + Array("bad RRSIG".utf8)).wire
                return [.reply(Answer.to(m, rcode: .servFail, edns: edns))]
            }
            let flags: Header.Flags = validating && name == "signed.example." ? [.qr, .rd, .ra, .ad] : [.qr, .rd, .ra]
            return [.reply(Answer.to(m, flags: flags, answers: [ResourceRecord(owner: name, type: .a, ttl: 60, rdataFields: ["192.0.2.10"])], edns: edns))]
        }
    }

    @Test func classifiesEveryKindOfResolver() async throws {
        let good = try Self.resolver("127.79.0.1", validating: true, site: "site-ams")
        let liar = try Self.resolver("127.79.0.2", lie: true)
        let tcpOnly = try Self.resolver("127.79.0.3", udp: false)
        let refuser = try TestResponder(host: "127.79.0.4", tcp: true) { q in [.reply(Answer.to(q.message, rcode: .refused, flags: [.qr, .rd]))] }
        let all = [good, liar, tcpOnly, refuser]
        defer { all.forEach { $0.stop() } }
        let dead = Resolver(address: ServerAddress(ip: IPAddress("127.79.0.5")!, port: good.address.port))
        // Only the TCP-only one's UDP probe waits out the timeout. Nothing waits for the TCP
        // timeout (the dead address refuses at once).
        let engine = PropagationCheckTests.engine()   // one attempt of up to 2 s, no rate limit
        defer { engine.shutdown() }
        var probes = Self.probes
        probes.tcpTimeout = 5
        let results = await ResolverHealthCheck(engine: engine, probes: probes)
            .run(all.map { Resolver(address: $0.address) } + [dead])
        let g = results[0], l = results[1], t = results[2], r = results[3], d = results[4]

        #expect(g.passed, "\(g.problems)")
        #expect(g.udp && g.tcp && g.recursive && g.honest == true)
        #expect(g.validation == .validating)
        #expect(g.validationDetail?.contains("EDE 6 (DNSSEC Bogus): bad RRSIG") == true)
        #expect(g.validationDetail?.hasSuffix("; answers it with CD=1") == true, "\(g.validationDetail ?? "")")
        #expect(g.nsid == "site-ams" && g.site == "site-ams")
        #expect(g.ednsBufferSize == 1232)
        #expect(g.rttMs != nil && g.tcpRttMs != nil)

        #expect(l.lying && !l.passed)
        #expect(l.lie == "198.51.100.7")
        #expect(l.validation == .notValidating)
        #expect(l.site == "chaos-127.79.0.2")            // no NSID: id.server
        #expect(l.removalReason?.hasPrefix("lying") == true)

        #expect(!t.udp && t.tcp && !t.passed && !t.dead)
        #expect(t.problems.contains { $0.contains("answers only over TCP") })

        #expect(r.udp && !r.recursive && !r.passed)
        #expect(r.removalReason?.contains("REFUSED") == true)

        #expect(d.dead && !d.passed)
        #expect(d.removalReason?.hasPrefix("dead") == true)

        #expect(ResolverHealthReport.exitStatus(results) == 1)
        #expect(ResolverHealthReport.exitStatus([d]) == 2)
        #expect(ResolverHealthReport.exitStatus([g]) == 0)
        let table = ResolverHealthReport.table(results)
        #expect(table.split(separator: "\n").allSatisfy { $0.count <= 80 })
        #expect(table.contains("lying"))
    }

    /// A resolver that SERVFAILs the first asks of a zone it has not seen (Knot Resolver after a
    /// restart, longer while its server selection backs off a slow authority), one that never
    /// resolves the broken name (with CD=1 neither), and a validator: the first is asked again
    /// after each pause until it answers; the validator's SERVFAIL is explained by its CD=1
    /// answer and never asked again; the third stays unknown, said to fail resolution.
    @Test func servfailIsAskedAgainUnlessCheckingDisabledExplainsIt() async throws {
        // Protected, not Synchronization.Mutex: ThreadSanitizer cannot see Mutex's futex on Linux.
        let asks = Protected<[String: Int]>([:])
        let counted: @Sendable (String, TestResponder.Query) -> Int = { host, q in
            let key = "\(host) \(q.message.questions[0].name) cd=\(q.message.header.flags.contains(.cd))"
            return asks.withLock { $0[key, default: 0] += 1; return $0[key]! }
        }
        let recovering = try TestResponder(host: "127.79.1.1", tcp: true) { q in
            let m = q.message
            let name = m.questions[0].name
            if name.hasPrefix("dnsprop-") { return [.reply(Answer.to(m, rcode: .nxDomain))] }
            if name == "broken.example." && counted("127.79.1.1", q) <= 2 && !m.header.flags.contains(.cd) {
                return [.reply(Answer.to(m, rcode: .servFail))]
            }
            if name == "broken.example." && m.header.flags.contains(.cd) { return [.reply(Answer.to(m, rcode: .servFail))] }
            return [.reply(Answer.a(m, "192.0.2.10"))]
        }
        let hopeless = try TestResponder(host: "127.79.1.2", tcp: true) { q in
            let m = q.message
            let name = m.questions[0].name
            if name.hasPrefix("dnsprop-") { return [.reply(Answer.to(m, rcode: .nxDomain))] }
            if name == "broken.example." { _ = counted("127.79.1.2", q); return [.reply(Answer.to(m, rcode: .servFail))] }
            return [.reply(Answer.a(m, "192.0.2.10"))]
        }
        // Not validating (no AD anywhere): its first SERVFAIL on the broken name is transient, and
        // with CD=1 it answers. That answer says nothing about validation: it is asked again.
        let transient = try TestResponder(host: "127.79.1.4", tcp: true) { q in
            let m = q.message
            let name = m.questions[0].name
            if name.hasPrefix("dnsprop-") { return [.reply(Answer.to(m, rcode: .nxDomain))] }
            if name == "broken.example." && counted("127.79.1.4", q) == 1 && !m.header.flags.contains(.cd) {
                return [.reply(Answer.to(m, rcode: .servFail))]
            }
            return [.reply(Answer.a(m, "192.0.2.10"))]
        }
        let validating = Self.behaviour("127.79.1.3", validating: true)
        let validator = try TestResponder(host: "127.79.1.3", tcp: true) { q in
            if q.message.questions[0].name == "broken.example." { _ = counted("127.79.1.3", q) }
            return validating(q)
        }
        defer { [recovering, hopeless, validator, transient].forEach { $0.stop() } }
        let engine = PropagationCheckTests.engine()   // one attempt of up to 2 s, no rate limit
        defer { engine.shutdown() }
        var probes = Self.probes
        probes.servfailPauses = [0.05, 0.05, 0.05]
        let results = await ResolverHealthCheck(engine: engine, probes: probes)
            .run([recovering, hopeless, validator, transient].map { Resolver(address: $0.address) })
        let r = results[0], h = results[1], v = results[2], t = results[3]

        #expect(r.validation == .notValidating, "\(r.validationDetail ?? "")")
        #expect(h.validation == .unknown)
        #expect(h.validationDetail == "AD not set on the signed name, SERVFAIL on the broken one; SERVFAIL with CD=1 too: it fails to resolve the name, not to validate it",
                "\(h.validationDetail ?? "")")
        #expect(v.validation == .validating && v.validationDetail?.hasSuffix("; answers it with CD=1") == true, "\(v.validationDetail ?? "")")
        #expect(t.validation == .notValidating, "\(t.validationDetail ?? "")")
        let seen = asks.withLock { $0 }
        #expect(seen["127.79.1.4 broken.example. cd=false"] == 2, "\(seen)")
        #expect(seen["127.79.1.1 broken.example. cd=false"] == 3, "\(seen)")   // the first ask and two more
        #expect(seen["127.79.1.2 broken.example. cd=false"] == 4, "\(seen)")   // the first ask and one per pause
        #expect(seen["127.79.1.2 broken.example. cd=true"] == 1, "\(seen)")
        #expect(seen["127.79.1.3 broken.example. cd=false"] == 1, "\(seen)")   // explained by CD=1: not asked again
        #expect(seen["127.79.1.3 broken.example. cd=true"] == 1, "\(seen)")
    }

    @Test func writeKeepsTheListAndCommentsOutDeadAndLyingOnes() throws {
        let list = """
            # my list, hand-edited\r
            # second comment

            192.0.2.1   | Good [good]  | NL | Amsterdam | anycast        | someone said so   # keep me
            192.0.2.2   | Liar         | US |           | unicast        |
            192.0.2.3
            192.0.2.4   | Plain        | DE |           | anycast,dnssec | x
            192.0.2.5   | Untested     | FR
            """
        func health(_ ip: String, _ configure: (inout ResolverHealth) -> Void) -> ResolverHealth {
            var h = ResolverHealth(resolver: Resolver(address: ServerAddress(ip: IPAddress(ip)!)))
            h.udp = true; h.tcp = true; h.recursive = true; h.honest = true
            configure(&h)
            return h
        }
        let results = [
            health("192.0.2.1") { $0.validation = .validating },
            health("192.0.2.2") { $0.honest = false; $0.lie = "198.51.100.7"; $0.problems = ["lies"] },
            health("192.0.2.3") { $0.udp = false; $0.tcp = false; $0.recursive = false; $0.udpError = "no answer after 3 attempts" },
            health("192.0.2.4") { $0.validation = .notValidating },
        ]
        let out = ResolverListRewriter.rewrite(list, results: results, date: "2026-11-30")
        let expected = """
            # my list, hand-edited\r
            # second comment

            192.0.2.1   | Good [good]  | NL | Amsterdam | anycast,dnssec | someone said so   # keep me
            # 2026-11-30 resolvers check: lying: answers 198.51.100.7 for a name that does not exist
            # 192.0.2.2   | Liar         | US |           | unicast        |
            # 2026-11-30 resolvers check: dead: no answer over UDP or TCP (no answer after 3 attempts)
            # 192.0.2.3
            192.0.2.4   | Plain        | DE |           | anycast        | x
            192.0.2.5   | Untested     | FR
            """
        #expect(out == expected)
        // Nothing found: the text comes back byte for byte.
        #expect(ResolverListRewriter.rewrite(list, results: [], date: "2026-11-30") == list)
        // The rewritten list still parses, with the new tag.
        let parsed = ResolverList.parse(out, source: "t")
        #expect(parsed.problems.isEmpty, "\(parsed.problems)")
        #expect(parsed.resolvers.first?.tags == [.anycast, .dnssec])
        #expect(parsed.resolvers.map(\.address.ip.description) == ["192.0.2.1", "192.0.2.4", "192.0.2.5"])
    }
}
