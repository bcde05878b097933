import Testing
@testable import DNSProp

@Suite("Watch bookkeeping and screen")
struct WatchTests {
    static let r1 = Resolver(address: try! ServerAddress(parsing: "192.0.2.1"), operatorName: "One")
    static let r2 = Resolver(address: try! ServerAddress(parsing: "192.0.2.2"), operatorName: "Two\u{1B}[2J")

    static func verdict(_ r: Resolver, _ status: VerdictStatus, at: Double, ttl: UInt32? = nil) -> Verdict {
        Verdict(resolver: r, question: CheckQuestion(name: try! DomainName("victim.com"), type: .a), status: status,
                reason: "because \u{1B}]0;x\u{07}",
                answers: [status == .current ? "192.0.2.10" : "208.91.197.46"], ttl: ttl,
                expiresAt: ttl.map { at + Double($0) }, rcode: .noError, rttMs: 1, attempts: 1, transport: .udp,
                retriedAfterServfail: false, parking: nil, checkedAt: at)
    }

    static func report(_ verdicts: [Verdict], at: Double) -> PropagationReport {
        let truth = Truth(name: try! DomainName("victim.com"), type: .a, answer: .data([]), source: .expected, notes: [], failure: nil)
        return PropagationReport(startedAt: at, finishedAt: at, names: [try! DomainName("victim.com")],
                                 questions: [QuestionReport(question: CheckQuestion(name: truth.name, type: .a), truth: truth, verdicts: verdicts)],
                                 resolverCount: 2)
    }

    @Test func currentResolversAreThoseWithEveryResultCurrent() {
        // r1 current for A, stale for AAAA; r2 current for both; r3 parked; r4 never seen.
        let r3 = Resolver(address: try! ServerAddress(parsing: "192.0.2.3"), operatorName: nil)
        let r4 = try! ServerAddress(parsing: "192.0.2.4")
        var aaaa = Self.verdict(Self.r1, .stale, at: 1000)
        aaaa.question = CheckQuestion(name: try! DomainName("victim.com"), type: .aaaa)
        var aaaaCurrent = Self.verdict(Self.r2, .current, at: 1000)
        aaaaCurrent.question = aaaa.question
        var state = WatchState(started: 1000)
        state.update(with: Self.report([Self.verdict(Self.r1, .current, at: 1000), aaaa, Self.verdict(Self.r2, .current, at: 1000),
                                        aaaaCurrent, Self.verdict(r3, .parked, at: 1000)], at: 1000))
        #expect(state.currentResolvers() == [Self.r2.address])
        for address in [Self.r1.address, Self.r2.address, r3.address, r4] {
            #expect(state.isResolverCurrent(address) == state.currentResolvers().contains(address), "\(address)")
        }
        #expect(!state.isResolverCurrent(r4))   // no results: not current
    }

    @Test func changesFlipsAndTimeline() {
        var state = WatchState(started: 1000)
        let first = state.update(with: Self.report([Self.verdict(Self.r1, .parked, at: 1000, ttl: 30), Self.verdict(Self.r2, .current, at: 1000)], at: 1000))
        #expect(first.count == 2 && first.allSatisfy { $0.from == nil })
        #expect(state.becameCurrent.isEmpty)

        let second = state.update(with: Self.report([Self.verdict(Self.r1, .parked, at: 1010, ttl: 20), Self.verdict(Self.r2, .current, at: 1010)], at: 1010))
        #expect(second.isEmpty)

        let third = state.update(with: Self.report([Self.verdict(Self.r1, .current, at: 1031), Self.verdict(Self.r2, .current, at: 1031)], at: 1031))
        #expect(third.count == 1)
        #expect(third[0].from == .parked && third[0].to == .current && third[0].round == 3)
        #expect(state.becameCurrent[Self.r1.address]?.round == 3)
        #expect(state.becameCurrent[Self.r2.address] == nil)   // it was current from the start
        let rows = state.resolverRows()
        #expect(rows.count == 2)
        #expect(rows.first { $0.resolver.address == Self.r1.address }?.flipped == true)
        #expect(rows.first { $0.resolver.address == Self.r1.address }?.worst.since == 1031)

        let timeline = WatchScreen.timeline(state, now: 1040)
        #expect(timeline.contains { $0.contains("192.0.2.1 (One): current since") && $0.contains("(round 3)") })
        #expect(timeline.allSatisfy { !$0.unicodeScalars.contains("\u{1B}") })
    }

    @Test func roundWithoutAnswersIsNotedAndTheWatchGoesOn() {
        var state = WatchState(started: 0)
        state.update(with: Self.report([Self.verdict(Self.r1, .timeout, at: 5), Self.verdict(Self.r2, .timeout, at: 5)], at: 5))
        #expect(state.failedRounds == 1)
        #expect(state.roundNote?.contains("no resolver answered") == true)
        state.update(with: Self.report([Self.verdict(Self.r1, .current, at: 9), Self.verdict(Self.r2, .current, at: 9)], at: 9))
        #expect(state.roundNote == nil)
    }

    @Test func screenFitsTheTerminalCountsDownAndEscapes() {
        var state = WatchState(started: 1000)
        state.update(with: Self.report([Self.verdict(Self.r1, .parked, at: 1000, ttl: 30), Self.verdict(Self.r2, .current, at: 1000)], at: 1000))
        for (w, h) in [(80, 24), (40, 8), (160, 50)] {
            let lines = WatchScreen(width: w, height: h, colour: false).render(state, names: [try! DomainName("victim.com")], now: 1010, nextRound: 1030, interval: 30)
            #expect(lines.count <= h)
            for line in lines { #expect(line.count <= max(40, w), "\(w)x\(h): \(line)") }
            #expect(lines.allSatisfy { !$0.unicodeScalars.contains("\u{1B}") })
        }
        let lines = WatchScreen(width: 100, height: 24, colour: false).render(state, names: [try! DomainName("victim.com")], now: 1010, nextRound: 1030, interval: 30)
        #expect(lines[0].contains("round 1") && lines[0].contains("next in 20s"))
        #expect(lines[1].hasPrefix("1/2 current · 50%"))
        #expect(lines[1].contains("last stale cache expires in 20s"))
        let parkedRow = lines.first { $0.contains("parked") }!
        #expect(parkedRow.contains(" 20 "))           // 30 s TTL, 10 s later
        // Many resolvers on a small screen: a footer says where the view is, instead of overflow (issue 21 replaced
        // the old "… N more resolvers (enlarge the terminal)" line, which left them unreachable).
        var big = WatchState(started: 0)
        let many = (1...60).map { i in Self.verdict(Resolver(address: try! ServerAddress(parsing: "198.51.100.\(i)")), .stale, at: 0, ttl: 5) }
        big.update(with: Self.report(many, at: 0))
        let small = WatchScreen(width: 80, height: 12, colour: false).render(big, names: [], now: 1, nextRound: nil, interval: 30)
        #expect(small.count <= 12)
        #expect(small.last?.hasPrefix("  1–") == true && small.last?.contains(" of 60 ") == true, "\(small.last ?? "")")
    }

    @Test func durations() {
        #expect(DurationText.parse("90") == 90)
        #expect(DurationText.parse("90s") == 90)
        #expect(DurationText.parse("10m") == 600)
        #expect(DurationText.parse("1h30m") == 5400)
        #expect(DurationText.parse("2d") == 172800)
        for bad in ["", "0", "-5", "m", "10x", "1h30", "abc"] { #expect(DurationText.parse(bad) == nil, "\(bad)") }
        #expect(Timestamp.duration(45) == "45s")
        #expect(Timestamp.duration(754) == "12m34s")
        #expect(Timestamp.rfc3339(0) == "1970-01-01T00:00:00Z")
        #expect(Timestamp.rfc3339(1795910400) == "2026-11-29T00:00:00Z")
        #expect(Timestamp.rfc3339(951782400) == "2000-02-29T00:00:00Z")
    }
}

@Suite("Watch: answers served past their expiry")
struct ServedPastExpiryTests {
    @Test func sameStaleAnswerAfterItsAnnouncedExpiryIsFlagged() {
        var state = WatchState(started: 0)
        let r = WatchTests.r1
        state.update(with: WatchTests.report([WatchTests.verdict(r, .parked, at: 100, ttl: 10)], at: 100))
        // Round 2, before the announced expiry (110): nothing to say.
        state.update(with: WatchTests.report([WatchTests.verdict(r, .parked, at: 105, ttl: 5)], at: 105))
        #expect(state.lastReport?.verdicts.first?.servedPastExpiry == false)
        // Round 3, 20 s after it: a fresh full TTL for the same parked answer.
        state.update(with: WatchTests.report([WatchTests.verdict(r, .parked, at: 130, ttl: 10)], at: 130))
        let v = state.lastReport?.verdicts.first
        #expect(v?.servedPastExpiry == true)
        #expect(v?.reason.contains("still served 20 s after the expiry") == true)
        #expect(v?.expiresAt == 110)
        // Once current, no flag.
        state.update(with: WatchTests.report([WatchTests.verdict(r, .current, at: 140)], at: 140))
        #expect(state.lastReport?.verdicts.first?.servedPastExpiry == false)
    }
}
