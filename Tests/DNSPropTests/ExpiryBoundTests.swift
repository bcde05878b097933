import Testing
@testable import DNSProp

@Suite("Expiry bounds", .serialized)
struct ExpiryBoundTests {
    static let name = try! DomainName("victim.example")

    static func verdict(_ status: VerdictStatus, type: RecordType = .a, kind: CheckQuestion.Kind = .record, ttl: UInt32?, answers: [String] = ["192.0.2.99"],
                        rcode: ResponseCode = .noError) -> Verdict {
        Verdict(resolver: Resolver(address: try! ServerAddress(parsing: "192.0.2.53")), question: CheckQuestion(name: name, type: type, kind: kind),
                status: status, reason: "r", answers: answers, ttl: ttl, expiresAt: ttl.map { 1000 + Double($0) }, rcode: rcode, checkedAt: 1000)
    }

    @Test func withACurrentDelegationTheBoundIsTheAnswersOwnTTL() {
        let delegation = Self.verdict(.current, type: .ns, kind: .delegation, ttl: 5000, answers: ["ns1.victim.example."])
        let v = ExpiryBound.apply(to: Self.verdict(.stale, ttl: 300), delegation: delegation, refetch: nil)
        #expect(v.latestAt == 1300 && v.expiresAt == 1300)
        #expect(v.followsStaleDelegation == nil)
        #expect(v.latestBasis?.contains("own TTL") == true)
        // Current answers get no bound at all.
        #expect(ExpiryBound.apply(to: Self.verdict(.current, ttl: 300), delegation: nil, refetch: nil).latestAt == nil)
    }

    @Test func aStaleDelegationAddsWhatItsServersHandOut() {
        let delegation = Self.verdict(.parked, type: .ns, kind: .delegation, ttl: 172_800, answers: ["ns1.pendingrenewaldeletion.com.", "ns2.pendingrenewaldeletion.com."])
        let a = ExpiryBound.apply(to: Self.verdict(.parked, ttl: 600), delegation: delegation, refetch: .init(ttl: 3600, negative: false))
        #expect(a.expiresAt == 1600)
        #expect(a.latestAt == Double(1000 + 172_800 + 3600))
        #expect(a.followsStaleDelegation == delegation.answers)
        #expect(a.latestBasis?.contains("ns1.pendingrenewaldeletion.com.") == true)
        // The servers did not answer: the answer's own TTL stands in for theirs.
        let guessed = ExpiryBound.apply(to: Self.verdict(.parked, ttl: 600), delegation: delegation, refetch: .init(ttl: nil, negative: false))
        #expect(guessed.latestAt == Double(1000 + 172_800 + 600))
        #expect(guessed.latestBasis?.contains("did not answer") == true)
        // A re-fetched TTL beyond every common ceiling is capped, and says so.
        let huge = ExpiryBound.apply(to: Self.verdict(.stale, ttl: 60), delegation: delegation, refetch: .init(ttl: 2_000_000, negative: false))
        #expect(huge.latestAt == 1000 + 172_800 + Double(ExpiryBound.positiveCeiling))
        #expect(huge.latestBasis?.contains("max-cache-ttl") == true)
        let negative = ExpiryBound.apply(to: Self.verdict(.nxdomain, ttl: 60, rcode: .nxDomain), delegation: delegation, refetch: .init(ttl: 900_000, negative: true))
        #expect(negative.latestAt == 1000 + 172_800 + Double(ExpiryBound.negativeCeiling))
        // The delegation's own verdict is bounded the same way (its NS set may be re-fetched from the parking servers once).
        let ns = ExpiryBound.apply(to: delegation, delegation: delegation, refetch: .init(ttl: 86_400, negative: false))
        #expect(ns.latestAt == Double(1000 + 172_800 + 86_400))
    }

    @Test func anAnswerExpiringInTheDelegationsLastSecondsCanReArmItOnce() {
        // NS set cached for 8 s more (original 12), A for 4 s: the A's re-fetch at +4 s is 4 s before
        // the NS expiry, inside Knot's 5 s + 1 % window: one more NS TTL (12 s) and A TTL (12 s).
        var delegation = Self.verdict(.parked, type: .ns, kind: .delegation, ttl: 8, answers: ["ns1.pendingrenewaldeletion.com."])
        delegation.ttl = 8
        let a = ExpiryBound.apply(to: Self.verdict(.parked, ttl: 4), delegation: delegation,
                                  refetch: .init(ttl: 12, negative: false), refetchNS: .init(ttl: 12, negative: false))
        #expect(a.latestAt == Double(1000 + 4 + 12 + 12))
        #expect(a.latestBasis?.contains("re-arm") == true)
        // An answer that expires long before the NS set does: no re-arm term.
        let early = ExpiryBound.apply(to: Self.verdict(.parked, ttl: 100), delegation: Self.verdict(.parked, type: .ns, kind: .delegation, ttl: 172_800),
                                      refetch: .init(ttl: 12, negative: false), refetchNS: .init(ttl: 12, negative: false))
        #expect(early.latestAt == Double(1000 + 172_800 + 12))
        #expect(early.latestBasis?.contains("re-arm") == false)
    }

    /// An in-process world: root → example. → victim.example. (live) and parking.example.,
    /// whose server answers everything with a parking address.
    @Test func theProbeAsksTheServersAStaleDelegationStillFollows() async throws {
        let root = MiniZone(apex: ".", records: [], delegations: [
            "example.": (["ns.nic.example."], [MiniZone.rr("ns.nic.example.", .a, "127.79.0.2")])])
        let tld = MiniZone(apex: "example.", records: [], delegations: [
            "victim.example.": (["ns1.victim.example."], [MiniZone.rr("ns1.victim.example.", .a, "127.79.0.3")]),
            "parking.example.": (["ns1.parking.example."], [MiniZone.rr("ns1.parking.example.", .a, "127.79.0.4")])])
        let victim = MiniZone(apex: "victim.example.", records: [
            MiniZone.rr("victim.example.", .a, "192.0.2.10"), MiniZone.rr("victim.example.", .ns, "ns1.victim.example."),
            MiniZone.rr("ns1.victim.example.", .a, "127.79.0.3")])
        var responders: [TestResponder] = []
        try TestResponder.onOnePort { port in
            for (host, zone) in [("127.79.0.1", root), ("127.79.0.2", tld), ("127.79.0.3", victim)] {
                let r = try TestResponder(host: host, port: port(), tcp: false) { [.reply(zone.answer($0.message))] }
                port.set(r.address.port)
                responders.append(r)
            }
            // The parking server: authoritative for anything, A 208.91.197.46 for 500 s, its own NS for 700 s.
            let parking = try TestResponder(host: "127.79.0.4", port: port(), tcp: false) { q in
                let m = q.message, question = m.questions[0]
                switch question.type {
                case .ns: return [.reply(Answer.to(m, flags: [.qr, .aa], answers: [MiniZone.rr(question.name, .ns, "ns1.parking.example.", ttl: 700)]))]
                case .a: return [.reply(Answer.to(m, flags: [.qr, .aa], answers: [MiniZone.rr(question.name, .a, question.name == "ns1.parking.example." ? "127.79.0.4" : "208.91.197.46", ttl: 500)]))]
                default: return [.reply(Answer.to(m, flags: [.qr, .aa]))]
                }
            }
            responders.append(parking)
        } reset: {
            responders.forEach { $0.stop() }
            responders = []
        }
        let port: UInt16? = responders[0].address.port
        // A resolver still on the parked delegation: NS for 1000 s more, the parked A for 100 s more.
        let resolver = try PropagationCheckTests.resolver("127.79.1.1") { m in
            m.questions[0].type == .ns
                ? Answer.to(m, answers: [MiniZone.rr("victim.example.", .ns, "ns1.parking.example.", ttl: 1000)])
                : Answer.to(m, answers: [MiniZone.rr("victim.example.", .a, "208.91.197.46", ttl: 100)])
        }
        responders.append(resolver)
        defer { responders.forEach { $0.stop() } }

        var plan = PropagationCheck.Plan(names: [Self.name], types: [.a], resolvers: [Resolver(address: resolver.address)])
        plan.iteration.rootHints = RootHints(servers: [.init(name: "root.test.", addresses: [IPAddress("127.79.0.1")!])])
        plan.iteration.port = port!
        plan.iteration.maxSecondsPerTruth = 600     // the 30-s budget counts time spent behind other tests
        let engine = PropagationCheckTests.engine()
        defer { engine.shutdown() }
        let report = await PropagationCheck(plan: plan, engine: engine).run()
        let a = try #require(report.verdicts.first { $0.type == .a })
        let ns = try #require(report.verdicts.first { $0.isDelegationCheck })
        #expect(a.status == .parked)
        #expect(ns.status == .stale)
        #expect(a.followsStaleDelegation == ["ns1.parking.example."])
        let nsExpiry = try #require(ns.expiresAt)
        #expect(abs((a.expiresAt ?? 0) - (a.checkedAt + 100)) < 0.01)
        #expect(a.latestAt == nsExpiry + 500)          // the NS set's 1000 s, then the parking server's 500 s
        #expect(ns.latestAt == nsExpiry + 700)         // and its own NS record, 700 s
        #expect(report.summary.lastLatestExpiry == nsExpiry + 700)
        let table = CheckReportTable(colour: false, now: a.checkedAt).render(report)
        #expect(table.contains("at the latest"))
        let json = CheckReportJSON.document(report, outcome: report.outcome(minCurrent: nil)).serialized()
        #expect(json.contains("\"latestAt\"") && json.contains("\"lastLatestExpiry\""))
    }
}
