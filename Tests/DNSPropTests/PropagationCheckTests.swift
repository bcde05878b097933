#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import DNSProp

/// A whole check against an in-process DNS hierarchy (root → TLD → the victim's
/// servers, all on one port) and scripted recursive resolvers.
@Suite("Propagation check", .serialized)
struct PropagationCheckTests {
    /// Root, TLD and authoritative servers for victim.example; `parked` moves
    /// the TLD's delegation to a registrar-expiry name server.
    final class Hierarchy: @unchecked Sendable {
        var responders: [TestResponder] = []
        let rootHints: RootHints
        /// All servers of one hierarchy share a port, chosen by the kernel for the first,
        /// so that suites running in parallel never share a server.
        private(set) var port: UInt16 = 0

        init(parked: Bool = false, authoritativeA: String = "192.0.2.10") throws {
            let root = MiniZone(apex: ".", records: [], delegations: [
                "example.": (["ns.nic.example."], [MiniZone.rr("ns.nic.example.", .a, "127.77.0.2")])])
            let delegation = parked
                ? (["ns1.pendingrenewaldeletion.com."], [MiniZone.rr("ns1.pendingrenewaldeletion.com.", .a, "127.77.0.4")])
                : (["ns1.victim.example.", "ns2.victim.example."],
                   [MiniZone.rr("ns1.victim.example.", .a, "127.77.0.3"), MiniZone.rr("ns2.victim.example.", .a, "127.77.0.5")])
            let tld = MiniZone(apex: "example.", records: [], delegations: ["victim.example.": delegation])
            let victim = MiniZone(apex: "victim.example.", records: [
                MiniZone.rr("victim.example.", .a, authoritativeA),
                MiniZone.rr("victim.example.", .ns, "ns1.victim.example."),
                MiniZone.rr("victim.example.", .ns, "ns2.victim.example."),
                MiniZone.rr("victim.example.", .mx, "10", "mail.victim.example."),
                MiniZone.rr("www.victim.example.", .cname, "victim.example."),
                MiniZone.rr("ns1.victim.example.", .a, "127.77.0.3"),
            ])
            // The port the kernel gives the first address can be taken on another by the time it is
            // bound there (another world being torn down, another process): then all on a new one.
            var built: [TestResponder] = []
            try TestResponder.onOnePort { port in
                for (host, zone) in [("127.77.0.1", root), ("127.77.0.2", tld), ("127.77.0.3", victim), ("127.77.0.5", victim)] {
                    let r = try TestResponder(host: host, port: port(), tcp: false) { [.reply(zone.answer($0.message))] }
                    port.set(r.address.port)
                    built.append(r)
                }
            } reset: {
                built.forEach { $0.stop() }
                built = []
            }
            responders = built
            port = built[0].address.port
            rootHints = RootHints(servers: [.init(name: "root.test.", addresses: [IPAddress("127.77.0.1")!])])
        }

        func stop() { responders.forEach { $0.stop() } }
    }

    /// A recursive resolver that answers with canned records.
    static func resolver(_ host: String, _ answer: @escaping @Sendable (Message) -> [UInt8]?) throws -> TestResponder {
        try TestResponder(host: host, tcp: false) { q in answer(q.message).map { [.reply($0)] } ?? [] }
    }

    static func plan(_ names: [String], _ types: [RecordType], _ resolvers: [TestResponder], world: Hierarchy) throws -> PropagationCheck.Plan {
        var plan = PropagationCheck.Plan(names: try names.map { try DomainName($0) }, types: types,
                                         resolvers: resolvers.map { Resolver(address: $0.address, operatorName: "R \($0.address)") })
        plan.iteration.rootHints = world.rootHints
        plan.iteration.port = world.port
        // The walk's 30-s budget counts the time a parallel run keeps it waiting behind other tests.
        plan.iteration.maxSecondsPerTruth = 600
        plan.servfailPause = 0.05
        return plan
    }

    /// One attempt of up to 2 s: what a silent resolver costs, and far above a loopback round
    /// trip on a loaded sanitizer run (0.3 s, with a retransmission after it, let a delayed
    /// answer become a timeout verdict or an extra attempt).
    static func engine() -> QueryEngine {
        var c = EngineConfiguration()
        c.timeout = 2
        c.retries = 0
        c.maxRatePerServer = 0
        return QueryEngine(configuration: c)
    }

    /// For worlds where every server answers, in tests that count the queries a server got:
    /// a late answer is waited for (10 s), never asked for again, so the counts do not depend
    /// on how loaded the machine is (the engine's retransmission timer starts at 0.3 s).
    static func answeringEngine() -> QueryEngine {
        var c = EngineConfiguration()
        c.timeout = 10
        c.retries = 0
        c.maxRatePerServer = 0
        return QueryEngine(configuration: c)
    }

    @Test func verdictsFromTruthEstablishedByIteration() async throws {
        let world = try Hierarchy()
        defer { world.stop() }
        let a: @Sendable (Message, String, UInt32) -> [UInt8] = { m, v, ttl in Answer.to(m, answers: [ResourceRecord(owner: m.questions[0].name, type: .a, ttl: ttl, rdataFields: [v])]) }
        let current = try Self.resolver("127.78.0.1") { m in m.questions[0].type == .a ? a(m, "192.0.2.10", 60) : Answer.to(m, answers: MiniZone(apex: "victim.example.", records: [
            MiniZone.rr("victim.example.", .ns, "NS1.victim.example."), MiniZone.rr("victim.example.", .ns, "ns2.victim.example.")]).records) }
        let stale = try Self.resolver("127.78.0.2") { m in a(m, "192.0.2.99", 1234) }
        let parked = try Self.resolver("127.78.0.3") { m in a(m, "208.91.196.46", 3600) }
        let nx = try Self.resolver("127.78.0.4") { m in
            Answer.to(m, rcode: .nxDomain, authority: [MiniZone.rr("example.", .soa, "ns.nic.example.", "h.example.", "5", "1", "1", "1", "900", ttl: 600)])
        }
        let servfail = try Self.resolver("127.78.0.5") { m in Answer.to(m, rcode: .servFail) }
        let refused = try Self.resolver("127.78.0.6") { m in Answer.to(m, rcode: .refused) }
        let silent = try Self.resolver("127.78.0.7") { _ in nil }
        let all = [current, stale, parked, nx, servfail, refused, silent]
        defer { all.forEach { $0.stop() } }

        let engine = Self.engine()
        defer { engine.shutdown() }
        var plan = try Self.plan(["victim.example"], [.a], all, world: world)
        plan.checkDelegation = false
        let report = await PropagationCheck(plan: plan, engine: engine).run()

        let truth = try #require(report.truths.first)
        #expect(truth.failure == nil)
        #expect(truth.answer == .data([MiniZone.rr("victim.example.", .a, "192.0.2.10")]))
        if case .authoritative(let zone, let servers, let serial) = truth.source {
            #expect(zone == "victim.example.")
            #expect(servers == ["ns1.victim.example.", "ns2.victim.example."])
            #expect(serial == 1)
        } else { Issue.record("truth should be authoritative") }

        let byHost = Dictionary(uniqueKeysWithValues: report.verdicts.map { ($0.resolver.address.ip.description, $0) })
        #expect(byHost["127.78.0.1"]?.status == .current)
        let s = try #require(byHost["127.78.0.2"])
        #expect(s.status == .stale)
        #expect(s.ttl == 1234)
        #expect(abs((s.expiresAt ?? 0) - (s.checkedAt + 1234)) < 0.001)
        let p = try #require(byHost["127.78.0.3"])
        #expect(p.status == .parked)
        #expect(p.parking?.provider == "Skenzo / Confluence Networks")
        #expect(p.reason.contains("208.91.196.46"))
        let n = try #require(byHost["127.78.0.4"])
        #expect(n.status == .nxdomain)
        #expect(n.ttl == 600)           // min(SOA TTL 600, MINIMUM 900)
        let f = try #require(byHost["127.78.0.5"])
        #expect(f.status == .servfail)
        #expect(f.retriedAfterServfail)
        #expect(f.attempts == 2)
        #expect(byHost["127.78.0.6"]?.status == .refused)
        #expect(byHost["127.78.0.7"]?.status == .timeout)

        #expect(report.summary.count(.current) == 1)
        #expect(report.summary.exitStatus(minCurrent: nil) == 1)
        #expect(report.summary.exitStatus(minCurrent: 20) == 0)     // 1 of 5 answering = 20 %
        #expect(report.summary.lastExpiry == p.expiresAt)
    }

    @Test func cnameChainsAndDelegationCheck() async throws {
        let world = try Hierarchy()
        defer { world.stop() }
        let good = try Self.resolver("127.78.1.1") { m in
            let q = m.questions[0]
            if q.type == .ns {
                return Answer.to(m, answers: [MiniZone.rr("victim.example.", .ns, "ns1.victim.example.", ttl: 100),
                                              MiniZone.rr("victim.example.", .ns, "ns2.victim.example.", ttl: 100)])
            }
            return Answer.to(m, answers: [MiniZone.rr("www.victim.example.", .cname, "VICTIM.example.", ttl: 10),
                                          MiniZone.rr("victim.example.", .a, "192.0.2.10", ttl: 10)])
        }
        let parkedNS = try Self.resolver("127.78.1.2") { m in
            let q = m.questions[0]
            if q.type == .ns {
                return Answer.to(m, answers: [MiniZone.rr("victim.example.", .ns, "ns1.pendingrenewaldeletion.com.", ttl: 172000)])
            }
            // The chain's final record differs: stale.
            return Answer.to(m, answers: [MiniZone.rr("www.victim.example.", .cname, "victim.example.", ttl: 10),
                                          MiniZone.rr("victim.example.", .a, "192.0.2.11", ttl: 10)])
        }
        defer { good.stop(); parkedNS.stop() }
        let engine = Self.engine()
        defer { engine.shutdown() }
        let plan = try Self.plan(["www.victim.example"], [.a], [good, parkedNS], world: world)
        let report = await PropagationCheck(plan: plan, engine: engine).run()
        #expect(report.truths.count == 2)
        let www = try #require(report.truths.first { $0.type == .a })
        #expect(www.answer?.records.map(\.type) == [.cname, .a])
        let v = report.verdicts
        #expect(v.filter { $0.resolver.address.ip.description == "127.78.1.1" }.allSatisfy { $0.status == .current })
        let bad = v.filter { $0.resolver.address.ip.description == "127.78.1.2" }
        #expect(bad.first { $0.type == .a }?.status == .stale)
        let ns = try #require(bad.first { $0.type == .ns })
        #expect(ns.isDelegationCheck)
        #expect(ns.status == .parked)
        #expect(ns.parking?.provider == "Network Solutions expiry NS")
        #expect(ns.ttl == 172000)
    }

    @Test func truthFromExpectationsAndParkedDelegationAtTheTLD() async throws {
        let world = try Hierarchy(parked: true)
        defer { world.stop() }
        let r = try Self.resolver("127.78.2.1") { m in Answer.to(m, answers: [MiniZone.rr(m.questions[0].name, .a, "203.0.113.10")]) }
        defer { r.stop() }
        let engine = Self.engine()
        defer { engine.shutdown() }
        // The authoritative side is broken (parked at a server that does not answer): --expect still works.
        var plan = try Self.plan(["victim.example"], [.a], [r], world: world)
        plan.expectations = [.a: ["203.0.113.10"]]
        plan.checkDelegation = false
        let report = await PropagationCheck(plan: plan, engine: engine).run()
        #expect(report.verdicts.first?.status == .current)
        #expect(report.summary.exitStatus(minCurrent: nil) == 0)

        // Without --expect the truth cannot be established: exit status 2.
        var plan2 = try Self.plan(["victim.example"], [.a], [r], world: world)
        plan2.checkDelegation = false
        let report2 = await PropagationCheck(plan: plan2, engine: engine).run()
        #expect(report2.truths.first?.answer == nil)
        #expect(report2.truths.first?.failure?.contains("victim.example") == true)
        #expect(report2.summary.exitStatus(minCurrent: nil) == 2)
        #expect(report2.verdicts.first?.status == .error)
    }
}
