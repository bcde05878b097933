import Testing
@testable import DNSProp

/// Issue 14, CDN and GeoDNS names: the EDNS Client Subnet option (RFC 7871) on the wire,
/// hostile values included; answers kept by scope; resolvers grouped by network and the
/// bounded queries of `GeoTruthFinder` against an authority in this process; the verdict
/// rule (`VerdictPolicy.geoMatch` through `VerdictClassifier`).
@Suite("Geo truth (ECS, scope cache, verdict rule)", .serialized)
struct GeoTruthTests {
    static func ecs(_ bytes: [UInt8]) -> ClientSubnet? { ClientSubnet.decode(bytes) }

    // MARK: ECS encoding and decoding

    @Test func encodesOnlyTheBytesTheSourcePrefixNeeds() {
        let v4 = ClientSubnet.network(of: IPAddress("192.0.2.77")!)
        #expect(v4.option.code == 8)
        #expect(v4.option.value == [0, 1, 24, 0, 192, 0, 2])
        #expect(v4.networkText == "192.0.2.0/24")
        let v6 = ClientSubnet.network(of: IPAddress("2001:db8:aa:bbcc::1")!)
        #expect(v6.option.value == [0, 2, 56, 0, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0xaa, 0xbb])
        #expect(v6.networkText == "2001:db8:aa:bb00::/56")
        let odd = ClientSubnet(network: IPAddress("10.255.255.255")!, prefix: 12)
        #expect(odd.option.value == [0, 1, 12, 0, 10, 0xF0])
        // Round trips.
        for s in [v4, v6, odd, ClientSubnet(network: IPAddress("10.1.2.3")!, prefix: 0)] {
            #expect(ClientSubnet.decode(s.option.value) == s)
        }
        // A prefix past the family's width is clamped when made here.
        #expect(ClientSubnet(network: IPAddress("10.1.2.3")!, prefix: 99).sourcePrefix == 32)
    }

    @Test func hostileOptionValuesDecodeToNil() {
        #expect(Self.ecs([]) == nil)
        #expect(Self.ecs([0, 1, 24]) == nil)                           // shorter than the fixed part
        #expect(Self.ecs([0, 3, 24, 0, 1, 2, 3]) == nil)               // unknown family
        #expect(Self.ecs([0, 0, 0, 0]) == nil)                         // family 0
        #expect(Self.ecs([0, 1, 33, 0, 1, 2, 3, 4, 5]) == nil)         // source prefix > 32
        #expect(Self.ecs([0, 1, 24, 33, 1, 2, 3]) == nil)              // scope > 32
        #expect(Self.ecs([0, 1, 24, 255, 1, 2, 3]) == nil)             // scope 255
        #expect(Self.ecs([0, 2, 129] + [UInt8](repeating: 0, count: 17)) == nil)   // IPv6 source > 128
        #expect(Self.ecs([0, 2, 56, 129] + [UInt8](repeating: 0, count: 7)) == nil) // IPv6 scope > 128
        #expect(Self.ecs([0, 1, 24, 0, 1, 2, 3, 4]) == nil)            // more address bytes than /24 needs
        #expect(Self.ecs([0, 1, 24, 0, 1, 2]) == nil)                  // fewer
        #expect(Self.ecs([0, 1, 20, 0, 10, 1, 0x1F]) == nil)           // bits set past the source prefix
        #expect(Self.ecs([0, 1, 0, 0]) == ClientSubnet(network: IPAddress("0.0.0.0")!, prefix: 0))
        // A scope longer than the source is legal on the wire (RFC 7871 §7.3.1) …
        #expect(Self.ecs([0, 1, 16, 24, 10, 1])?.scopePrefix == 24)
    }

    static func answer(edns options: [EDNSOption]?) -> Message {
        Message(header: Header(id: 1, opcode: 0, rcode: .noError, flags: [.qr, .aa]), questions: [], answers: [], authority: [],
                additional: [], edns: options.map { EDNS(udpPayloadSize: 1232, version: 0, dnssecOK: false, extendedRcode: 0, options: $0.flatMap(\.wire)) })
    }

    @Test func answerScopeNeedsAnEchoOfTheQuestion() {
        let asked = ClientSubnet.network(of: IPAddress("192.0.2.1")!)
        func echo(_ scope: UInt8, prefix: UInt8 = 24, address: [UInt8] = [192, 0, 2]) -> EDNSOption {
            EDNSOption(code: 8, value: [0, 1, prefix, scope] + address)
        }
        #expect(ClientSubnet.answerScope(in: Self.answer(edns: [echo(16)]), asked: asked) == 16)
        #expect(ClientSubnet.answerScope(in: Self.answer(edns: [echo(0)]), asked: asked) == 0)
        // … but holds for the source prefix only.
        #expect(ClientSubnet.answerScope(in: Self.answer(edns: [echo(32)]), asked: asked) == 24)
        #expect(ClientSubnet.answerScope(in: Self.answer(edns: nil), asked: asked) == nil)
        #expect(ClientSubnet.answerScope(in: Self.answer(edns: []), asked: asked) == nil)
        #expect(ClientSubnet.answerScope(in: Self.answer(edns: [echo(24, address: [192, 0, 3])]), asked: asked) == nil)
        #expect(ClientSubnet.answerScope(in: Self.answer(edns: [echo(24, prefix: 16, address: [192, 0])]), asked: asked) == nil)
        #expect(ClientSubnet.answerScope(in: Self.answer(edns: [echo(24), echo(16)]), asked: asked) == nil)
        #expect(ClientSubnet.answerScope(in: Self.answer(edns: [EDNSOption(code: 8, value: [0, 1, 24, 99, 192, 0, 2])]), asked: asked) == nil)
    }

    // MARK: Scope cache

    static func subnet(_ text: String, scope: Int) -> ClientSubnet {
        var s = ClientSubnet.network(of: IPAddress(text)!)
        s.scopePrefix = scope
        return s
    }

    @Test func scopeCacheAnswersNetworksTheScopeCovers() {
        var cache = ScopeCache<String>()
        cache.insert("wide", for: Self.subnet("10.1.7.0", scope: 16))
        #expect(cache.lookup(.network(of: IPAddress("10.1.200.9")!))?.value == "wide")
        #expect(cache.lookup(.network(of: IPAddress("10.2.0.1")!)) == nil)
        // A longer scope that covers the network wins over a shorter one.
        cache.insert("narrow", for: Self.subnet("10.1.200.0", scope: 24))
        #expect(cache.lookup(.network(of: IPAddress("10.1.200.1")!))?.value == "narrow")
        #expect(cache.lookup(.network(of: IPAddress("10.1.201.1")!))?.value == "wide")
        // Scope 0: every network of the family, none of the other.
        cache.insert("all", for: Self.subnet("172.16.0.0", scope: 0))
        #expect(cache.lookup(.network(of: IPAddress("203.0.113.5")!))?.value == "all")
        #expect(cache.lookup(.network(of: IPAddress("2001:db8::1")!)) == nil)
        // A scope longer than the source is kept at the source prefix.
        var c2 = ScopeCache<String>()
        c2.insert("x", for: ClientSubnet(family: .ipv4, sourcePrefix: 24, scopePrefix: 32, address: IPAddress("10.9.9.0")!))
        #expect(c2.entries[0].subnet.scopePrefix == 24)
        #expect(c2.lookup(.network(of: IPAddress("10.9.9.200")!))?.value == "x")
        // The same scope network answered again replaces the first.
        c2.insert("y", for: Self.subnet("10.9.9.0", scope: 24))
        #expect(c2.entries.count == 1 && c2.entries[0].value == "y")
    }

    // MARK: Grouping and bounded queries, against an authority in this process

    /// An authority for `cdn.test.` on 127.0.0.1 (the root itself, so the walk ends at once)
    /// that answers by the ECS network's second and third octets, with `scope`, or ignores
    /// ECS and rotates through `rotation`.
    final class GeoAuthority: @unchecked Sendable {   // `counter` behind the responder's serial queue
        var responder: TestResponder!
        var counter = 0

        init(scope: UInt8?, rotation: [String] = []) throws {
            responder = try TestResponder(tcp: false) { [unowned self] q in
                let m = q.message
                guard let question = m.questions.first else { return [] }
                if question.type != .a {
                    let reply = Message(header: Header(id: m.header.id, opcode: 0, rcode: .noError, flags: [.qr, .aa]), questions: m.questions,
                                        answers: [], authority: [], additional: [], edns: nil)
                    return [.reply(try! MessageEncoder.encode(reply))]
                }
                let asked = m.edns?.parsedOptions.first { $0.code == 8 }.flatMap { ClientSubnet.decode($0.value) }
                var value = "192.0.2.1"
                var options: [EDNSOption]? = nil
                if let scope, let asked, case .v4(let bits) = asked.address {
                    value = "10.\(bits >> 16 & 0xFF).\(bits >> 8 & 0xFF).1"
                    if !rotation.isEmpty {
                        // A random pick that still claims a scope (PowerDNS LUA pickrandom does).
                        value = rotation[self.counter % rotation.count]
                        self.counter += 1
                    }
                    var echo = asked
                    echo.scopePrefix = Int(scope)
                    options = [echo.option]
                } else if !rotation.isEmpty {
                    value = rotation[self.counter % rotation.count]
                    self.counter += 1
                }
                let reply = Message(header: Header(id: m.header.id, opcode: 0, rcode: .noError, flags: [.qr, .aa]), questions: m.questions,
                                    answers: [ResourceRecord(owner: question.name, type: .a, ttl: 60, rdataFields: [value])], authority: [], additional: [],
                                    edns: options.map { EDNS(udpPayloadSize: 1232, version: 0, dnssecOK: false, extendedRcode: 0, options: $0.flatMap(\.wire)) })
                return [.reply(try! MessageEncoder.encode(reply))]
            }
        }

        func finder() -> (GeoTruthFinder, QueryEngine) {
            // The authority always answers and the tests count its queries (and its rotation
            // advances per query): no retransmission of an answer a loaded machine delays.
            var c = EngineConfiguration()
            c.timeout = 10
            c.retries = 0
            c.maxRatePerServer = 0
            let engine = QueryEngine(configuration: c)
            var o = IterativeResolver.Options()
            o.rootHints = RootHints(servers: [.init(name: "a.root.test.", addresses: [responder.address.ip])])
            o.port = responder.address.port
            o.maxSecondsPerTruth = 600     // the 30-s budget counts time spent behind other tests
            return (GeoTruthFinder(resolver: IterativeResolver(engine: engine, options: o)), engine)
        }

        var ecsQueries: Int { responder.received.filter { $0.message.edns?.parsedOptions.contains { $0.code == 8 } == true }.count }
        var plainAQueries: Int { responder.received.filter { $0.message.questions.first?.type == .a && $0.message.edns?.parsedOptions.contains { $0.code == 8 } != true }.count }
    }

    static let cdn = try! DomainName("cdn.test")
    static func truth(_ value: String = "192.0.2.1") -> Truth {
        Truth(name: cdn, type: .a, answer: .data([ResourceRecord(owner: "cdn.test.", type: .a, ttl: 60, rdataFields: [value])]),
              source: .authoritative(zone: ".", servers: ["a.root.test."], serial: nil), notes: [], failure: nil)
    }

    @Test func resolversAreGroupedByNetworkAndScopeSavesQueries() async throws {
        let authority = try GeoAuthority(scope: 16)
        defer { authority.responder.stop() }
        let (finder, _) = authority.finder()
        // Six resolvers in three /24s; 10.1.1/24 and 10.1.2/24 share the /16 the scope names.
        let addresses = ["10.1.1.5", "10.1.1.9", "10.1.2.3", "10.1.2.4", "10.2.0.1", "10.2.0.2"].map { IPAddress($0)! }
        let (geo, stats) = await finder.geo(for: Self.truth(), addresses: addresses)
        let g = try #require(geo)
        #expect(stats.networks == 3)
        // The first network three times (a per-query pick would show), then the one the scope does not cover.
        #expect(stats.clientSubnetQueries == 4)
        #expect(stats.fromScopeCache == 1)
        #expect(stats.repeatedQueries == 0)
        #expect(authority.ecsQueries == 4)
        #expect(!g.rotates)
        #expect(!g.ignoresClientSubnet)
        #expect(g.byNetwork.lookup(.network(of: IPAddress("10.1.2.3")!))?.value == ["10.1.1.1"])
        #expect(g.byNetwork.lookup(.network(of: IPAddress("10.2.0.2")!))?.value == ["10.2.0.1"])
        #expect(g.varies)
    }

    @Test func networksPastTheLimitAreNotAsked() async throws {
        let authority = try GeoAuthority(scope: 24)
        defer { authority.responder.stop() }
        let (base, _) = authority.finder()
        var limits = GeoTruthFinder.Limits()
        limits.maxNetworks = 4
        let finder = GeoTruthFinder(resolver: base.resolver, limits: limits)
        let addresses = (0..<10).map { IPAddress("10.0.\($0).1")! }
        let (geo, stats) = await finder.geo(for: Self.truth(), addresses: addresses)
        #expect(stats.networks == 10 && stats.skipped == 6 && stats.clientSubnetQueries == 6)
        #expect(authority.ecsQueries == 6)
        #expect(geo?.networksSkipped == 6)
    }

    @Test func anAuthorityIgnoringECSIsAskedAgainForItsAnswerSet() async throws {
        let authority = try GeoAuthority(scope: nil, rotation: ["192.0.2.1", "192.0.2.2", "192.0.2.3"])
        defer { authority.responder.stop() }
        let (finder, _) = authority.finder()
        let (geo, stats) = await finder.geo(for: Self.truth(), addresses: [IPAddress("10.1.1.1")!, IPAddress("10.9.9.9")!])
        let g = try #require(geo)
        #expect(g.ignoresClientSubnet)
        #expect(stats.clientSubnetQueries == 1)   // the first answer said ECS is ignored: the second network is not asked
        #expect(stats.repeatedQueries == GeoTruthFinder.Limits().repeats)
        #expect(Set(g.answerSet) == [["192.0.2.1"], ["192.0.2.2"], ["192.0.2.3"]])
    }

    @Test func anAuthorityPickingPerQueryIsSeenAndItsSetLearnt() async throws {
        let authority = try GeoAuthority(scope: 24, rotation: ["192.0.2.7", "192.0.2.8"])
        defer { authority.responder.stop() }
        let (finder, _) = authority.finder()
        let (geo, stats) = await finder.geo(for: Self.truth(), addresses: [IPAddress("10.1.1.1")!])
        let g = try #require(geo)
        #expect(g.rotates && !g.ignoresClientSubnet)
        #expect(stats.clientSubnetQueries == 2 && stats.repeatedQueries == GeoTruthFinder.Limits().repeats)
        #expect(Set(g.answerSet) == [["192.0.2.1"], ["192.0.2.7"], ["192.0.2.8"]])
        // Either pick is current, on that basis, for any resolver.
        var truth = Self.truth()
        truth.geo = g
        // Even in the network first asked: its scoped answer was one pick, not its region's answer.
        for (resolver, value) in [("10.77.0.53", "192.0.2.7"), ("10.77.0.53", "192.0.2.8"), ("10.1.1.53", "192.0.2.7"), ("10.1.1.53", "192.0.2.8")] {
            let v = classify(Self.resolver(resolver), [Self.a(value)], truth: truth)
            #expect(v.status == .current && v.geo?.basis == .answerSet)
        }
    }

    @Test func noGeoTruthForNegativeOrExpectedTruths() async throws {
        let authority = try GeoAuthority(scope: 24)
        defer { authority.responder.stop() }
        let (finder, _) = authority.finder()
        let negative = Truth(name: Self.cdn, type: .a, answer: .nxdomain(soa: nil), source: .authoritative(zone: ".", servers: [], serial: nil), notes: [], failure: nil)
        #expect(await finder.geo(for: negative, addresses: [IPAddress("10.0.0.1")!]).0 == nil)
        #expect(await finder.geo(for: Truth.expected(name: Self.cdn, type: .a, values: ["192.0.2.1"]), addresses: [IPAddress("10.0.0.1")!]).0 == nil)
        #expect(authority.responder.received.isEmpty)
    }

    // MARK: The verdict rule

    static func result(from resolver: Resolver, records: [ResourceRecord]) -> QueryResult {
        let template = try! QueryTemplate(name: cdn, type: .a)
        let m = Message(header: Header(id: 1, opcode: 0, rcode: .noError, flags: [.qr, .rd, .ra]), questions: [template.question],
                        answers: records, authority: [], additional: [], edns: nil)
        return QueryResult(index: 0, request: QueryRequest(server: resolver.address, query: template), outcome: .success(m),
                           attempts: 1, transport: .udp, rtt: 0.01, completedAt: 1_800_000_000, dropped: 0)
    }

    static func resolver(_ ip: String) -> Resolver { Resolver(address: try! ServerAddress(parsing: ip), operatorName: "Test") }
    static func a(_ v: String, owner: String = "cdn.test.") -> ResourceRecord { ResourceRecord(owner: owner, type: .a, ttl: 60, rdataFields: [v]) }

    static func geo(ignores: Bool = false, answerSet: [Set<String>] = []) -> GeoTruth {
        var g = GeoTruth(name: cdn, type: .a, ignoresClientSubnet: ignores, answerSet: [["192.0.2.1"]] + answerSet)
        if !ignores {
            g.byNetwork.insert(["10.1.1.1"], for: subnet("10.1.1.0", scope: 24))
            g.byNetwork.insert(["10.2.2.1"], for: subnet("10.2.2.0", scope: 24))
        }
        return g
    }

    func classify(_ resolver: Resolver, _ records: [ResourceRecord], truth: Truth) -> Verdict {
        VerdictClassifier().classify(.init(resolver: resolver, result: Self.result(from: resolver, records: records), truth: truth))
    }

    @Test func ownRegionsAnswerIsCurrentAndSaysItVaries() {
        var truth = Self.truth()
        // Without the geo truth the region's answer is stale (the bug of issue 14) …
        #expect(classify(Self.resolver("10.1.1.53"), [Self.a("10.1.1.1")], truth: truth).status == .stale)
        truth.geo = Self.geo()
        // … with it, current, and the verdict says why.
        let v = classify(Self.resolver("10.1.1.53"), [Self.a("10.1.1.1")], truth: truth)
        #expect(v.status == .current)
        #expect(v.geo?.basis == .ownNetwork && v.geo?.network == "10.1.1.0/24" && v.geo?.scope == 24)
        #expect(v.reason.hasPrefix("current — varies by location"))
        // Another region's answer: still given by the authority, so current, on that basis.
        let other = classify(Self.resolver("10.1.1.53"), [Self.a("10.2.2.1")], truth: truth)
        #expect(other.status == .current && other.geo?.basis == .otherNetwork)
        // The truth's own answer needs no geo basis.
        let same = classify(Self.resolver("10.1.1.53"), [Self.a("192.0.2.1")], truth: truth)
        #expect(same.status == .current && same.geo == nil)
    }

    @Test func anAnswerTheAuthorityGivesNobodyIsStale() {
        var truth = Self.truth()
        truth.geo = Self.geo()
        let v = classify(Self.resolver("10.1.1.53"), [Self.a("10.9.9.9")], truth: truth)
        #expect(v.status == .stale && v.geo == nil)
        #expect(v.reason.contains("none of them this one"))
        // Part of a region's answer (one record of two) is not that answer.
        var truth2 = Self.truth()
        var g = GeoTruth(name: Self.cdn, type: .a, answerSet: [["192.0.2.1"]])
        g.byNetwork.insert(["10.1.1.1", "10.1.1.2"], for: Self.subnet("10.1.1.0", scope: 24))
        truth2.geo = g
        #expect(classify(Self.resolver("10.1.1.53"), [Self.a("10.1.1.1")], truth: truth2).status == .stale)
        // An expected value (--expect) is never widened by a geo truth.
        var expected = Truth.expected(name: Self.cdn, type: .a, values: ["192.0.2.1"])
        expected.geo = Self.geo()
        #expect(classify(Self.resolver("10.1.1.53"), [Self.a("10.1.1.1")], truth: expected).status == .stale)
    }

    @Test func answerSetOfAnAuthorityIgnoringECS() {
        var truth = Self.truth()
        truth.geo = Self.geo(ignores: true, answerSet: [["192.0.2.2"]])
        let v = classify(Self.resolver("10.1.1.53"), [Self.a("192.0.2.2")], truth: truth)
        #expect(v.status == .current && v.geo?.basis == .answerSet)
        #expect(classify(Self.resolver("10.1.1.53"), [Self.a("192.0.2.3")], truth: truth).status == .stale)
    }

    @Test func cnameChainMustMatchBeforeTheFinalAnswersAreJudged() {
        let www = try! DomainName("www.shop.test")
        let cname = ResourceRecord(owner: "www.shop.test.", type: .cname, ttl: 60, rdataFields: ["cdn.test."])
        var truth = Truth(name: www, type: .a, answer: .data([cname, Self.a("192.0.2.1")]),
                          source: .authoritative(zone: "shop.test.", servers: [], serial: nil), notes: [], failure: nil)
        truth.geo = Self.geo()
        let template = try! QueryTemplate(name: www, type: .a)
        func verdict(_ records: [ResourceRecord]) -> Verdict {
            let r = Self.resolver("10.1.1.53")
            let m = Message(header: Header(id: 1, opcode: 0, rcode: .noError, flags: [.qr, .rd, .ra]), questions: [template.question],
                            answers: records, authority: [], additional: [], edns: nil)
            let result = QueryResult(index: 0, request: QueryRequest(server: r.address, query: template), outcome: .success(m),
                                     attempts: 1, transport: .udp, rtt: 0.01, completedAt: 1_800_000_000, dropped: 0)
            return VerdictClassifier().classify(.init(resolver: r, result: result, truth: truth))
        }
        #expect(verdict([cname, Self.a("10.1.1.1")]).status == .current)
        // The same final address through an old CNAME target is stale.
        let oldCNAME = ResourceRecord(owner: "www.shop.test.", type: .cname, ttl: 60, rdataFields: ["old-cdn.test."])
        #expect(verdict([oldCNAME, Self.a("10.1.1.1", owner: "old-cdn.test.")]).status == .stale)
    }

    // MARK: Rendering: the table, JSON and the watch say "varies by location"

    @Test func tableJSONAndWatchSayItVariesByLocation() throws {
        var truth = Self.truth()
        truth.geo = Self.geo()
        let r = Self.resolver("10.1.1.53")
        let v = classify(r, [Self.a("10.1.1.1")], truth: truth)
        let q = QuestionReport(question: CheckQuestion(name: Self.cdn, type: .a), truth: truth, verdicts: [v])
        let report = PropagationReport(startedAt: 1_800_000_000, finishedAt: 1_800_000_001, names: [Self.cdn], questions: [q], resolverCount: 1)
        #expect(report.outcome(minCurrent: nil) == .converged)
        let table = CheckReportTable(colour: false, now: 1_800_000_001).render(report)
        #expect(table.contains("current — varies by location"), "\(table)")
        let json = CheckReportJSON.verdict(v).serialized(pretty: false)
        #expect(json.contains("\"basis\":\"own-network\""), "\(json)")
        let truthJSON = CheckReportJSON.truth(truth).serialized(pretty: false)
        #expect(truthJSON.contains("\"varies\":true") && truthJSON.contains("10.1.1.0/24"), "\(truthJSON)")
        var state = WatchState(started: 1_800_000_000)
        state.update(with: report)
        let screen = WatchScreen(width: 120, height: 20, colour: false).render(state, names: [Self.cdn], now: 1_800_000_002, nextRound: nil, interval: 30)
        #expect(screen.contains { $0.contains("10.1.1.1") && $0.contains("(varies by location)") }, "\(screen.joined(separator: "\n"))")
    }
}
