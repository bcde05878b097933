import Testing
@testable import DNSProp

/// The pure core: every kind of response against every kind of truth, with and
/// without `--expect`, and the TTL arithmetic that gives expiry times.
@Suite("Verdict classifier")
struct VerdictClassifierTests {
    static let name = try! DomainName("victim.example")
    static let resolver = Resolver(address: try! ServerAddress(parsing: "192.0.2.53"), operatorName: "Test")
    static let checkedAt = 1_800_000_000.0

    enum Response: String, CaseIterable {
        case timeout, refusedConnection, servfail, refused, formerr, referral
        case sameA, otherA, parkingA, nxdomain, nodata, nxdomainParkingSOA
    }

    enum TruthKind: String, CaseIterable { case data, nxdomain, nodata, expected, unknown }

    static func soa(_ owner: String = "victim.example.", rname: String = "hostmaster.victim.example.", ttl: UInt32 = 600, minimum: UInt32 = 300) -> ResourceRecord {
        ResourceRecord(owner: owner, type: .soa, ttl: ttl, rdataFields: ["ns1.victim.example.", rname, "7", "3600", "600", "86400", String(minimum)])
    }

    static func a(_ value: String, ttl: UInt32 = 300) -> ResourceRecord {
        ResourceRecord(owner: name.text, type: .a, ttl: ttl, rdataFields: [value])
    }

    static func result(_ response: Response) -> QueryResult {
        let template = try! QueryTemplate(name: name, type: .a)
        func message(_ rcode: ResponseCode, flags: Header.Flags = [.qr, .rd, .ra], answers: [ResourceRecord] = [], authority: [ResourceRecord] = []) -> Result<Message, TransportError> {
            .success(Message(header: Header(id: 1, opcode: 0, rcode: rcode, flags: flags), questions: [template.question],
                             answers: answers, authority: authority, additional: [], edns: nil))
        }
        let outcome: Result<Message, TransportError>
        switch response {
        case .timeout: outcome = .failure(.timeout(attempts: 3))
        case .refusedConnection: outcome = .failure(.connectionRefused(.udp))
        case .servfail: outcome = message(.servFail)
        case .refused: outcome = message(.refused)
        case .formerr: outcome = message(.formErr)
        case .referral: outcome = message(.noError, flags: [.qr], authority: [ResourceRecord(owner: "example.", type: .ns, ttl: 60, rdataFields: ["ns.example."])])
        case .sameA: outcome = message(.noError, answers: [a("192.0.2.10")])
        case .otherA: outcome = message(.noError, answers: [a("192.0.2.99", ttl: 1234)])
        case .parkingA: outcome = message(.noError, answers: [a("208.91.197.46", ttl: 3600)])
        case .nxdomain: outcome = message(.nxDomain, authority: [soa(ttl: 600, minimum: 300)])
        case .nodata: outcome = message(.noError, authority: [soa(ttl: 200, minimum: 900)])
        case .nxdomainParkingSOA: outcome = message(.nxDomain, authority: [soa(rname: "hostmaster.sedo.de.", ttl: 100, minimum: 100)])
        }
        return QueryResult(index: 0, request: QueryRequest(server: resolver.address, query: template), outcome: outcome,
                           attempts: 1, transport: .udp, rtt: 0.01, completedAt: checkedAt, dropped: 0)
    }

    static func truth(_ kind: TruthKind) -> Truth {
        let source = Truth.Source.authoritative(zone: "victim.example.", servers: ["ns1.victim.example."], serial: 7)
        switch kind {
        case .data: return Truth(name: name, type: .a, answer: .data([a("192.0.2.10")]), source: source, notes: [], failure: nil)
        case .nxdomain: return Truth(name: name, type: .a, answer: .nxdomain(soa: soa()), source: source, notes: [], failure: nil)
        case .nodata: return Truth(name: name, type: .a, answer: .nodata(soa: soa()), source: source, notes: [], failure: nil)
        case .expected: return Truth.expected(name: name, type: .a, values: ["192.0.2.10"])
        case .unknown: return Truth(name: name, type: .a, answer: nil, source: source, notes: [], failure: "no server answered")
        }
    }

    /// The expected status of every (response, truth) pair.
    static let table: [Response: [TruthKind: VerdictStatus]] = [
        // Transport failures and failing rcodes do not depend on the truth.
        .timeout: [.data: .timeout, .nxdomain: .timeout, .nodata: .timeout, .expected: .timeout, .unknown: .timeout],
        .refusedConnection: [.data: .error, .nxdomain: .error, .nodata: .error, .expected: .error, .unknown: .error],
        .servfail: [.data: .servfail, .nxdomain: .servfail, .nodata: .servfail, .expected: .servfail, .unknown: .servfail],
        .refused: [.data: .refused, .nxdomain: .refused, .nodata: .refused, .expected: .refused, .unknown: .refused],
        .formerr: [.data: .error, .nxdomain: .error, .nodata: .error, .expected: .error, .unknown: .error],
        .referral: [.data: .error, .nxdomain: .error, .nodata: .error, .expected: .error, .unknown: .error],
        // Data.
        .sameA: [.data: .current, .nxdomain: .stale, .nodata: .stale, .expected: .current, .unknown: .error],
        .otherA: [.data: .stale, .nxdomain: .stale, .nodata: .stale, .expected: .stale, .unknown: .error],
        .parkingA: [.data: .parked, .nxdomain: .parked, .nodata: .parked, .expected: .parked, .unknown: .error],
        // Negative answers.
        .nxdomain: [.data: .nxdomain, .nxdomain: .current, .nodata: .nxdomain, .expected: .nxdomain, .unknown: .error],
        .nodata: [.data: .nodata, .nxdomain: .stale, .nodata: .current, .expected: .nodata, .unknown: .error],
        .nxdomainParkingSOA: [.data: .parked, .nxdomain: .current, .nodata: .parked, .expected: .parked, .unknown: .error],
    ]

    @Test(arguments: Response.allCases, TruthKind.allCases)
    func statusOfEveryResponseAgainstEveryTruth(_ response: Response, _ truthKind: TruthKind) throws {
        let expected = try #require(Self.table[response]?[truthKind])
        let v = VerdictClassifier().classify(.init(resolver: Self.resolver, result: Self.result(response), truth: Self.truth(truthKind)))
        #expect(v.status == expected, "\(response) against \(truthKind): \(v.status) (\(v.reason))")
        #expect(!v.reason.isEmpty)
        #expect(v.question == CheckQuestion(name: Self.name, type: .a))
        #expect(v.checkedAt == Self.checkedAt)
        // An expiry time belongs to a cached, non-current answer only.
        if v.status == .current || !v.status.isAnswering { #expect(v.expiresAt == nil) }
        if v.status == .parked { #expect(v.parking != nil) } else { #expect(v.parking == nil) }
        switch response {
        case .timeout, .refusedConnection: #expect(v.rcode == nil)
        case .servfail: #expect(v.rcode == .servFail)
        case .nxdomain, .nxdomainParkingSOA: #expect(v.rcode == .nxDomain)
        default: #expect(v.rcode == .noError || response == .refused || response == .formerr)
        }
    }

    @Test func expiryTimesFollowTheTTLs() {
        let c = VerdictClassifier()
        func verdict(_ r: Response, _ t: TruthKind = .data) -> Verdict {
            c.classify(.init(resolver: Self.resolver, result: Self.result(r), truth: Self.truth(t)))
        }
        // Positive: the answer's own TTL.
        #expect(verdict(.otherA).ttl == 1234)
        #expect(verdict(.otherA).expiresAt == Self.checkedAt + 1234)
        #expect(verdict(.parkingA).expiresAt == Self.checkedAt + 3600)
        // Negative: min(SOA TTL, SOA MINIMUM), RFC 2308 §5.
        #expect(verdict(.nxdomain).ttl == 300)
        #expect(verdict(.nodata).ttl == 200)
        #expect(verdict(.nodata).expiresAt == Self.checkedAt + 200)
        // Current answers carry the TTL but no expiry.
        #expect(verdict(.sameA).ttl == 300 && verdict(.sameA).expiresAt == nil)
    }

    @Test func ttlWithTheTopBitSetCountsAsZero() {
        let template = try! QueryTemplate(name: Self.name, type: .a)
        let m = Message(header: Header(id: 1, opcode: 0, rcode: .noError, flags: [.qr, .rd, .ra]), questions: [template.question],
                        answers: [Self.a("192.0.2.99", ttl: 3_000_000_000)], authority: [], additional: [], edns: nil)
        let r = QueryResult(index: 0, request: QueryRequest(server: Self.resolver.address, query: template), outcome: .success(m),
                            attempts: 1, transport: .udp, rtt: nil, completedAt: Self.checkedAt, dropped: 0)
        let v = VerdictClassifier().classify(.init(resolver: Self.resolver, result: r, truth: Self.truth(.data)))
        #expect(v.status == .stale && v.ttl == 0 && v.expiresAt == Self.checkedAt)
        #expect(v.reason.contains("serve-stale"))
    }

    @Test func theKindOfQuestionIsCarriedAndNamedInTheReason() {
        let v = VerdictClassifier().classify(.init(resolver: Self.resolver, result: Self.result(.otherA), truth: Self.truth(.data), kind: .delegation))
        #expect(v.isDelegationCheck && v.question.kind == .delegation)
        #expect(v.reason.contains("records fetched through this delegation"))
    }

    /// A lame delegation: com. delegates to ns1 and ns2, the zone lists ns1 only. A resolver that
    /// serves the parent's set (from the referral) follows the TLD's delegation as it stands: current,
    /// said why, not a stale cache that would expire into the zone's set. Any other set stays stale,
    /// and a stated --expect NS is the only truth.
    @Test func theParentsNSSetOfAMismatchedDelegationIsCurrent() throws {
        let template = try QueryTemplate(name: Self.name, type: .ns)
        func ns(_ names: [String]) -> QueryResult {
            let m = Message(header: Header(id: 1, opcode: 0, rcode: .noError, flags: [.qr, .rd, .ra]), questions: [template.question],
                            answers: names.map { ResourceRecord(owner: "victim.example.", type: .ns, ttl: 3600, rdataFields: [$0]) },
                            authority: [], additional: [], edns: nil)
            return QueryResult(index: 0, request: QueryRequest(server: Self.resolver.address, query: template), outcome: .success(m),
                               attempts: 1, transport: .udp, rtt: nil, completedAt: Self.checkedAt, dropped: 0)
        }
        let source = Truth.Source.authoritative(zone: "victim.example.", servers: ["ns1.victim.example."], serial: 7)
        var truth = Truth(name: Self.name, type: .ns, answer: .data([ResourceRecord(owner: "victim.example.", type: .ns, ttl: 3600, rdataFields: ["ns1.victim.example."])]),
                          source: source, notes: [], failure: nil)
        truth.parentNS = ["ns1.victim.example.", "ns2.victim.example."]
        let classifier = VerdictClassifier()
        func verdict(_ names: [String], _ t: Truth) -> Verdict { classifier.classify(.init(resolver: Self.resolver, result: ns(names), truth: t, kind: .delegation)) }

        let parentSide = verdict(["NS2.victim.example.", "ns1.victim.example."], truth)
        #expect(parentSide.status == .current && parentSide.expiresAt == nil && parentSide.ttl == 3600)
        #expect(parentSide.reason.hasPrefix("the parent's NS set"), "\(parentSide.reason)")
        #expect(verdict(["ns1.victim.example."], truth).status == .current)
        #expect(verdict(["ns1.old-host.example."], truth).status == .stale)
        #expect(verdict(["ns2.victim.example."], truth).status == .stale)       // a part of the parent's set is neither
        var none = truth
        none.parentNS = nil
        #expect(verdict(["ns1.victim.example.", "ns2.victim.example."], none).status == .stale)
        var expected = Truth.expected(name: Self.name, type: .ns, values: ["ns1.victim.example."])
        expected.parentNS = truth.parentNS
        #expect(verdict(["ns1.victim.example.", "ns2.victim.example."], expected).status == .stale)
    }

    @Test func aSecondSERVFAILSaysSo() {
        let v = VerdictClassifier().classify(.init(resolver: Self.resolver, result: Self.result(.servfail), truth: Self.truth(.data), retriedAfterServfail: true))
        #expect(v.retriedAfterServfail && v.reason.contains("also when asked again"))
    }
}

/// The decisions drawn from verdicts: answering, convergence, exit status, order.
@Suite("Verdict policy")
struct VerdictPolicyTests {
    static func verdict(_ resolver: String, _ status: VerdictStatus, type: RecordType = .a, expiresAt: Double? = nil) -> Verdict {
        Verdict(resolver: Resolver(address: try! ServerAddress(parsing: resolver)),
                question: CheckQuestion(name: VerdictClassifierTests.name, type: type), status: status, reason: "r",
                expiresAt: expiresAt, checkedAt: 0)
    }

    static func summary(_ verdicts: [Verdict], truthKnown: Bool = true) -> Summary {
        let truth = truthKnown ? VerdictClassifierTests.truth(.data) : VerdictClassifierTests.truth(.unknown)
        return Summary(verdicts: verdicts, truths: [truth], resolverCount: 0)
    }

    /// The one-pass tally of the summary against the rule written out over standings:
    /// a resolver answers when one of its verdicts is an answer and is current when all are;
    /// a service answers when one of its addresses does and is current when all are.
    @Test func summaryCountsAgreeWithStandingsOnRandomReports() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            var lists: [[Verdict]] = [[], [], []]
            for _ in 0..<Int.random(in: 0...40, using: &rng) {
                let host = "192.0.2.\(Int.random(in: 1...12, using: &rng))"
                let service = ["a", "b", "c", nil].randomElement(using: &rng)!
                var v = Self.verdict(host, VerdictStatus.allCases.randomElement(using: &rng)!,
                                     type: [.a, .aaaa, .mx].randomElement(using: &rng)!)
                // One service per address, as in a resolver list.
                v.resolver = Resolver(address: v.resolver.address, service: service.map { $0 + String(host.last!.wholeNumberValue! % 3) })
                lists[Int.random(in: 0..<3, using: &rng)].append(v)
            }
            let all = lists.flatMap { $0 }
            let standings = VerdictPolicy.standings(all)
            var byService: [String: [VerdictPolicy.Standing]] = [:]
            for st in standings { byService[VerdictPolicy.serviceKey(st.resolver), default: []].append(st) }
            let summary = Summary(verdictLists: lists, truths: [VerdictClassifierTests.truth(.data)], resolverCount: 0)
            #expect(summary.resolverCount == standings.count)
            #expect(summary.resolversAnswering == standings.filter(\.isAnswering).count)
            #expect(summary.resolversCurrent == standings.filter(\.isCurrent).count)
            #expect(summary.serviceCount == byService.count)
            #expect(summary.servicesAnswering == byService.values.filter { $0.contains(where: \.isAnswering) }.count)
            #expect(summary.servicesCurrent == byService.values.filter { $0.allSatisfy(\.isCurrent) }.count)
            #expect(summary.counts == Dictionary(grouping: all, by: \.status).mapValues(\.count))
            let rank = { (a: VerdictStatus, b: VerdictStatus) in VerdictPolicy.severityRank(a) < VerdictPolicy.severityRank(b) }
            #expect(VerdictPolicy.worstStatuses(lists).sorted(by: rank) == standings.map(\.worst.status).sorted(by: rank))
        }
    }

    @Test func everyStatusIsEitherAnsweringOrNotAndOnlyAnsweringOnesBlockConvergence() {
        for s in VerdictStatus.allCases {
            if s.isNotConverged { #expect(s.isAnswering, "\(s)") }
        }
        #expect(VerdictStatus.allCases.filter(\.isNotConverged) == [.stale, .parked, .nxdomain, .nodata, .servfail])
        #expect(VerdictStatus.allCases.filter { !$0.isAnswering } == [.refused, .timeout, .error])
        #expect(Set(VerdictPolicy.severityOrder) == Set(VerdictStatus.allCases))
        for (i, s) in VerdictPolicy.severityOrder.enumerated() { #expect(VerdictPolicy.severityRank(s) == i) }
    }

    @Test func outcomes() {
        #expect(VerdictPolicy.outcome(Self.summary([Self.verdict("192.0.2.1", .current), Self.verdict("192.0.2.2", .timeout)]), minCurrent: nil) == .converged)
        #expect(VerdictPolicy.outcome(Self.summary([Self.verdict("192.0.2.1", .current), Self.verdict("192.0.2.2", .stale)]), minCurrent: nil) == .notConverged)
        #expect(VerdictPolicy.outcome(Self.summary([Self.verdict("192.0.2.1", .current), Self.verdict("192.0.2.2", .stale)]), minCurrent: 50) == .converged)
        #expect(VerdictPolicy.outcome(Self.summary([Self.verdict("192.0.2.1", .current), Self.verdict("192.0.2.2", .stale)]), minCurrent: 51) == .notConverged)
        #expect(VerdictPolicy.outcome(Self.summary([Self.verdict("192.0.2.1", .timeout), Self.verdict("192.0.2.2", .refused)]), minCurrent: nil) == .cannotTell)
        #expect(VerdictPolicy.outcome(Self.summary([Self.verdict("192.0.2.1", .current)], truthKnown: false), minCurrent: nil) == .cannotTell)
        #expect(VerdictPolicy.outcome(Self.summary([]), minCurrent: nil) == .cannotTell)
        #expect([VerdictPolicy.Outcome.converged, .notConverged, .cannotTell].map(\.exitStatus) == [0, 1, 2])
    }

    @Test func aResolverAnswersWhenAnyOfItsVerdictsIsAnAnswerAndIsCurrentWhenAllAre() {
        let s = Self.summary([
            Self.verdict("192.0.2.1", .current), Self.verdict("192.0.2.1", .timeout, type: .aaaa),   // answering, not current
            Self.verdict("192.0.2.2", .current), Self.verdict("192.0.2.2", .current, type: .aaaa),   // current
            Self.verdict("192.0.2.3", .timeout), Self.verdict("192.0.2.3", .error, type: .aaaa),     // silent
            Self.verdict("192.0.2.4", .stale, expiresAt: 50), Self.verdict("192.0.2.4", .parked, type: .aaaa, expiresAt: 70),
        ])
        #expect(s.resolverCount == 4)
        #expect(s.resolversAnswering == 3)
        #expect(s.resolversCurrent == 1)
        #expect(s.count(.current) == 3 && s.count(.timeout) == 2)
        #expect(s.lastExpiry == 70)
        let standings = VerdictPolicy.standings([Self.verdict("192.0.2.9", .current), Self.verdict("192.0.2.9", .parked, type: .mx),
                                                 Self.verdict("192.0.2.8", .stale)])
        #expect(standings.map(\.worst.status) == [.parked, .stale])
    }

    @Test func historyFlagsOnlyTheSameNonCurrentAnswerPastItsExpiry() {
        var earlier = Self.verdict("192.0.2.1", .stale, expiresAt: 100)
        earlier.answers = ["192.0.2.99"]
        var later = earlier
        later.checkedAt = 100 + VerdictPolicy.expirySlack + 1
        later.expiresAt = 400
        let flagged = VerdictPolicy.carryingHistory(later, previous: earlier)
        #expect(flagged.servedPastExpiry && flagged.expiresAt == 100)
        // Not past the slack, a different answer, a different status, or current: untouched.
        var early = later; early.checkedAt = 101
        #expect(!VerdictPolicy.carryingHistory(early, previous: earlier).servedPastExpiry)
        var other = later; other.answers = ["192.0.2.98"]
        #expect(!VerdictPolicy.carryingHistory(other, previous: earlier).servedPastExpiry)
        var parked = later; parked.status = .parked
        #expect(!VerdictPolicy.carryingHistory(parked, previous: earlier).servedPastExpiry)
        var current = later; current.status = .current
        #expect(!VerdictPolicy.carryingHistory(current, previous: earlier).servedPastExpiry)
        #expect(!VerdictPolicy.carryingHistory(later, previous: nil).servedPastExpiry)
    }
}
