import Testing
@testable import DNSProp

/// What a check learns about DNSSEC from each resolver (issue #14): the AD bit, the
/// Extended DNS Errors, and a SERVFAIL asked again with CD=1 so that a validation
/// failure is told apart from a failure to resolve. In-process resolvers on loopback.
@Suite("DNSSEC signals of resolvers", .serialized)
struct DNSSECResolverTests {
    static func ede(_ code: UInt16, _ text: String) -> EDNS {
        EDNS(udpPayloadSize: 1232, version: 0, dnssecOK: false, extendedRcode: 0,
             options: EDNSOption(code: EDNSOption.extendedErrorCode, value: [UInt8(code >> 8), UInt8(code & 0xFF)] + Array(text.utf8)).wire)
    }

    static func a(_ m: Message, flags: Header.Flags = [.qr, .rd, .ra]) -> [UInt8] {
        Answer.to(m, flags: flags, answers: [ResourceRecord(owner: m.questions[0].name, type: .a, ttl: 60, rdataFields: ["192.0.2.1"])])
    }

    func check(_ resolvers: [TestResponder]) async throws -> PropagationReport {
        var plan = PropagationCheck.Plan(names: [try DomainName("victim.example")], types: [.a],
                                         resolvers: resolvers.map { Resolver(address: $0.address, operatorName: nil) })
        plan.expectations = [.a: ["192.0.2.1"]]
        plan.checkDelegation = false
        plan.trustAnchor = nil
        plan.servfailPause = 0.05
        // Every resolver answers, and the tests list each query a resolver got: no retransmission.
        let engine = PropagationCheckTests.answeringEngine()
        defer { engine.shutdown() }
        return await PropagationCheck(plan: plan, engine: engine).run()
    }

    // The time limits only catch a hang: they also count the time a test waits behind the others
    // in a parallel sanitizer run on a loaded machine (180 s seen under ThreadSanitizer), so they are minutes.
    @Test(.timeLimit(.minutes(10)))
    func servfailThatAnswersWithCheckingDisabledIsDNSSEC() async throws {
        // A validating resolver: SERVFAIL with EDE 6 unless CD=1; AD on nothing.
        let bogus = try PropagationCheckTests.resolver("127.79.0.1") { m in
            m.header.flags.contains(.cd) ? Self.a(m) : Answer.to(m, rcode: .servFail, edns: Self.ede(6, "signature by key 4711 does not verify"))
        }
        // A resolver that cannot resolve at all: SERVFAIL with CD=1 too.
        let broken = try PropagationCheckTests.resolver("127.79.0.2") { m in
            Answer.to(m, rcode: .servFail, edns: Self.ede(22, "no reachable authority"))
        }
        // A validating resolver with a good chain: AD in its answer (it was asked with AD=1).
        let validated = try PropagationCheckTests.resolver("127.79.0.3") { m in
            m.header.flags.contains(.ad) ? Self.a(m, flags: [.qr, .rd, .ra, .ad]) : Self.a(m)
        }
        // Knot Resolver on a zone whose keys it has not cached: SERVFAIL (no EDE) three times, then the answer.
        let plainQueries = Protected(0)
        let transient = try PropagationCheckTests.resolver("127.79.0.4") { m in
            if m.header.flags.contains(.cd) { return Self.a(m) }
            let n = plainQueries.withLock { n -> Int in n += 1; return n }
            return n <= 2 ? Answer.to(m, rcode: .servFail) : Self.a(m)
        }
        let all = [bogus, broken, validated, transient]
        defer { all.forEach { $0.stop() } }
        let report = try await check(all)
        func verdict(_ r: TestResponder) throws -> Verdict { try #require(report.verdicts.first { $0.resolver.address == r.address }) }

        let b = try verdict(bogus)
        #expect(b.status == .servfail)
        #expect(b.dnssecFailure?.evidence == .checkingDisabled)
        #expect(b.dnssecFailure?.checkingDisabledAnswer == "192.0.2.1")
        #expect(b.reason.hasPrefix("SERVFAIL — DNSSEC bogus (EDE 6 (DNSSEC Bogus): signature by key 4711 does not verify)"), "\(b.reason)")
        #expect(b.extendedErrors == [ExtendedDNSError(infoCode: 6, extraText: "signature by key 4711 does not verify")])
        // Asked: once, again after the pause, once with CD=1, and once more without to confirm.
        let flags = bogus.received.map { $0.message.header.flags.contains(.cd) }
        #expect(flags == [false, false, true, false], "\(flags)")

        let f = try verdict(broken)
        #expect(f.status == .servfail)
        #expect(f.dnssecFailure == nil)
        #expect(f.reason.contains("EDE 22 (No Reachable Authority)"), "\(f.reason)")
        #expect(f.reason.contains("SERVFAIL with checking disabled too, so not a DNSSEC failure"), "\(f.reason)")

        // Transient: the confirming question was answered, so no DNSSEC failure, and current.
        let t = try verdict(transient)
        #expect(t.status == .current, "\(t.reason)")
        #expect(t.dnssecFailure == nil)
        #expect(transient.received.map { $0.message.header.flags.contains(.cd) } == [false, false, true, false])

        let v = try verdict(validated)
        #expect(v.status == .current)
        #expect(v.authenticatedData)
        #expect(b.authenticatedData == false)

        // JSON and table render what the classifier decided.
        let json = CheckReportJSON.verdict(b).serialized()
        #expect(json.contains("\"dnssecFailure\":{\"evidence\":\"checking-disabled\""), "\(json)")
        #expect(json.contains("\"extendedErrors\":[{\"code\":6,\"name\":\"DNSSEC Bogus\""), "\(json)")
        let table = CheckReportTable(colour: false).render(report)
        #expect(table.contains("SERVFAIL — DNSSEC bogus (EDE 6"), "\(table)")
        #expect(table.contains("AD bit (validated with DNSSEC) from 1 of 4 answering resolvers: \(validated.address)"), "\(table)")
    }

    /// A remote probe's SERVFAIL is not asked again with CD=1: its DNSSEC Extended Error is the evidence.
    @Test func extendedErrorAloneMarksDNSSECAndOtherCodesDoNot() throws {
        let q = try QueryTemplate(name: try DomainName("victim.example"), type: .a)
        func result(_ edns: EDNS) throws -> QueryResult {
            let query = try MessageDecoder.decode(q.wire(id: 1))
            let m = try MessageDecoder.decode(Answer.to(query, rcode: .servFail, edns: edns))
            return QueryResult(index: 0, request: QueryRequest(server: ServerAddress(ip: IPAddress("192.0.2.53")!, port: 53), query: q),
                               outcome: .success(m), attempts: 1, transport: .udp, rtt: 0.01, completedAt: 1000, dropped: 0)
        }
        let classifier = VerdictClassifier()
        let truth = Truth.expected(name: try DomainName("victim.example"), type: .a, values: ["192.0.2.1"])
        let resolver = Resolver(address: ServerAddress(ip: IPAddress("192.0.2.53")!, port: 53), operatorName: nil)
        let expired = classifier.classify(.init(resolver: resolver, result: try result(Self.ede(7, "")), truth: truth))
        #expect(expired.dnssecFailure?.evidence == .extendedError)
        #expect(expired.reason.hasPrefix("SERVFAIL — DNSSEC bogus (EDE 7 (Signature Expired))"), "\(expired.reason)")
        let blocked = classifier.classify(.init(resolver: resolver, result: try result(Self.ede(15, "policy")), truth: truth))
        #expect(blocked.dnssecFailure == nil)
        #expect(blocked.reason == "SERVFAIL (EDE 15 (Blocked): policy)")
    }
}

/// The watch screen renders what the classifier and the chain of trust decided.
@Suite("DNSSEC in watch")
struct DNSSECWatchTests {
    @Test func screenShowsTheBrokenChainAndTheDNSSECServfail() throws {
        let resolver = Resolver(address: try ServerAddress(parsing: "192.0.2.1"), operatorName: "One")
        var v = Verdict(resolver: resolver, question: CheckQuestion(name: try DomainName("victim.com"), type: .a), status: .servfail,
                        reason: "", rcode: .servFail, checkedAt: 1000)
        v.dnssecFailure = DNSSECFailure(evidence: .checkingDisabled, extendedErrors: [ExtendedDNSError(infoCode: 9, extraText: "\u{1B}[2J")],
                                        checkingDisabledAnswer: "192.0.2.10")
        v.reason = v.dnssecFailure!.reason
        var truth = Truth(name: try DomainName("victim.com"), type: .a, answer: .data([]),
                          source: .authoritative(zone: "victim.com.", servers: [], serial: 1), notes: [], failure: nil)
        truth.dnssec = DNSSECValidation(state: .bogus, finding: "DS at com. matches no DNSKEY of victim.com. (DS key tag 1; victim.com. has DNSKEY 2 (KSK))", trail: [])
        let report = PropagationReport(startedAt: 1000, finishedAt: 1000, names: [truth.name],
                                       questions: [QuestionReport(question: CheckQuestion(name: truth.name, type: .a), truth: truth, verdicts: [v])],
                                       resolverCount: 1)
        var state = WatchState(started: 1000)
        state.update(with: report)
        let lines = WatchScreen(width: 160, height: 24, colour: false).render(state, names: [truth.name], now: 1001, nextRound: nil, interval: 30)
        #expect(lines.contains { $0.hasPrefix("DNSSEC: bogus — DS at com. matches no DNSKEY of victim.com.") }, "\(lines)")
        #expect(lines.contains { $0.contains("SERVFAIL — DNSSEC bogus (EDE 9 (DNSKEY Missing): \\x1B[2J)") }, "\(lines)")
        #expect(lines.allSatisfy { !$0.unicodeScalars.contains("\u{1B}") })
    }
}
