import Testing
@testable import DNSProp

/// The watch screen at world scale: 150 resolvers, 30 stale, 10 parked, 20 silent.
@Suite("Watch screen at world scale")
struct WatchViewTests {
    static let countries = ["US", "DE", "JP", "BR", "ZA", "AU", "IN", "FR", "CA", "NG"]

    static func world() -> WatchState {
        var verdicts: [Verdict] = []
        for i in 0..<150 {
            let r = Resolver(address: try! ServerAddress(parsing: "198.51.\(i / 200).\(i % 200 + 1)"), operatorName: "Op\(i % 7)",
                             countryCode: countries[i % countries.count])
            let status: VerdictStatus = i < 30 ? .stale : i < 40 ? .parked : i < 60 ? .timeout : .current
            let answers = status == .current ? ["203.0.113.10"] : status == .stale ? ["192.0.2.\(i)"] : status == .parked ? ["208.91.197.46"] : []
            var v = Verdict(resolver: r, question: CheckQuestion(name: try! DomainName("victim.example"), type: .a), status: status,
                            reason: status == .timeout ? "no answer after 3 attempts \u{1B}[2J" : "r", answers: answers,
                            ttl: status.isNotConverged ? UInt32(100 + i) : 60, expiresAt: status.isNotConverged ? 1000 + Double(100 + i) : nil,
                            rcode: status.isAnswering ? .noError : nil, checkedAt: 1000)
            if status.isNotConverged { v.latestAt = 1000 + Double(1000 + i) }
            verdicts.append(v)
        }
        var state = WatchState(started: 1000)
        let name = try! DomainName("victim.example")
        state.update(with: PropagationReport(startedAt: 1000, finishedAt: 1000, names: [name],
                                             questions: [QuestionReport(question: CheckQuestion(name: name, type: .a),
                                                                        truth: Truth.expected(name: name, type: .a, values: ["203.0.113.10"]),
                                                                        verdicts: verdicts)], resolverCount: 150))
        return state
    }

    /// Every resolver address the screen shows while paging from top to bottom.
    static func reachable(_ state: WatchState, width: Int, height: Int, view: WatchView = WatchView()) -> (seen: Set<String>, groups: [String]) {
        var view = view
        var seen = Set<String>(), groups: [String] = []
        let screen = WatchScreen(width: width, height: height, colour: false)
        for _ in 0..<200 {
            let frame = screen.frame(state, names: [], now: 1010, nextRound: nil, interval: 30, view: view)
            #expect(frame.lines.count <= height)
            for line in frame.lines {
                #expect(line.count <= width, "\(width)x\(height): \(line)")
                #expect(!line.unicodeScalars.contains("\u{1B}"))
                if let match = line.firstMatch(of: /198\.51\.\d+\.\d+/) { seen.insert(String(match.0)) }
                if line.contains("resolvers ·") && line.hasPrefix("  current") { groups.append(line) }
            }
            let before = frame.scroll
            _ = view.handle(.pageDown, page: frame.page)
            let after = screen.frame(state, names: [], now: 1010, nextRound: nil, interval: 30, view: view).scroll
            if after == before { break }
            view.scroll = after
        }
        return (seen, Set(groups).sorted())
    }

    @Test(arguments: [(60, 20), (90, 28), (200, 60)])
    func everyNonCurrentResolverCanBeReachedAndCurrentOnesTakeOneLine(_ size: (Int, Int)) {
        let state = Self.world()
        let (seen, groups) = Self.reachable(state, width: size.0, height: size.1)
        let notCurrent = state.resolverRows().filter { $0.worst.verdict.status != .current }.map { $0.resolver.address.description }
        #expect(notCurrent.count == 60)
        #expect(Set(notCurrent).isSubset(of: seen), "\(size): unreachable \(Set(notCurrent).subtracting(seen).sorted().prefix(5))")
        // The 90 current resolvers with one answer are one line, with where they are.
        #expect(groups.count == 1)
        #expect(groups.first?.contains("current · 90 resolvers · 203.0.113.10") == true)
        #expect(groups.first?.contains("AF 18") == true || size.0 < 90)
    }

    @Test func nonCurrentOnesComeFirstLongestHoldingFirstThenFailing() {
        let rows = Self.world().resolverRows()
        let lines = WatchView().lines(rows)
        let byAddress = Dictionary(uniqueKeysWithValues: rows.map { ($0.resolver.address, $0) })
        var statuses: [VerdictStatus] = [], latest: [Double] = []
        for case .resolver(let a) in lines {
            statuses.append(byAddress[a]!.worst.verdict.status)
            if let l = byAddress[a]!.worst.verdict.latestAt { latest.append(l) }
        }
        #expect(statuses.prefix(40).allSatisfy { $0 == .stale || $0 == .parked })
        #expect(statuses.dropFirst(40).allSatisfy { $0 == .timeout })
        #expect(latest == latest.sorted(by: >))
        if case .group(let status, _, let count, _) = lines.last { #expect(status == .current && count == 90) } else { Issue.record("no group last") }
    }

    @Test func keysFilterShowAndGroup() {
        let state = Self.world()
        var view = WatchView()
        // "/" then text filters; Enter keeps it.
        for key: WatchView.Key in [.character("/"), .character("2"), .character("0"), .character("8"), .character("."), .character("9"), .character("1"), .enter] {
            let goesOn = view.handle(key, page: 10)
            #expect(goesOn)
        }
        #expect(view.filter == "208.91" && !view.editingFilter)
        var lines = view.lines(state.resolverRows())
        #expect(lines.count == 10)                               // the ten parked ones
        // Esc in the filter clears it.
        _ = view.handle(.character("/"), page: 10); _ = view.handle(.character("x"), page: 10); _ = view.handle(.escape, page: 10)
        #expect(view.filter.isEmpty)
        // f: all → not current → failing.
        _ = view.handle(.character("f"), page: 10)
        #expect(view.show == .notCurrent && view.lines(state.resolverRows()).count == 60)
        _ = view.handle(.character("f"), page: 10)
        lines = view.lines(state.resolverRows())
        #expect(view.show == .failing && lines.count == 20)
        // g: by continent, with headings.
        _ = view.handle(.character("f"), page: 10)
        _ = view.handle(.character("g"), page: 10)
        #expect(view.grouping == .continent)
        let headings = view.lines(state.resolverRows()).compactMap { if case .heading(let h) = $0 { return h } else { return nil } }
        #expect(headings.contains { $0.hasPrefix("Europe · 30 resolvers") })
        // q quits; ? shows the help.
        _ = view.handle(.character("?"), page: 10)
        let help = WatchScreen(width: 90, height: 28, colour: false).render(state, names: [], now: 1010, nextRound: nil, interval: 30, view: view)
        #expect(help.contains { $0.contains("filter by text") })
        let goesOn = view.handle(.character("q"), page: 10)
        #expect(!goesOn)
        // Control characters never enter the filter.
        var v2 = WatchView()
        _ = v2.handle(.character("/"), page: 10); _ = v2.handle(.character("\u{1B}"), page: 10)
        #expect(v2.filter.isEmpty)
    }

    @Test func terminalKeys() {
        var keys = TerminalKeys()
        let all = keys.feed(Array("\u{1B}[A\u{1B}[B\u{1B}[5~\u{1B}[6~\u{1B}[H\u{1B}[F\u{1B}OH\u{1B}[4~/ab\u{7F}\r".utf8))
        #expect(all == [.up, .down, .pageUp, .pageDown, .home, .end, .home, .end, .character("/"), .character("a"), .character("b"), .backspace, .enter])
        // A sequence split across reads, a lone Esc, UTF-8, and an unknown sequence dropped whole.
        let first = keys.feed(Array("\u{1B}[".utf8))
        #expect(first == [])
        let rest = keys.feed(Array("6~".utf8))
        #expect(rest == [.pageDown])
        let esc = keys.feed([0x1B])
        #expect(esc == [.escape])
        let text = keys.feed(Array("é\u{1B}[99zq".utf8))
        #expect(text == [.character("é"), .character("q")])
    }

    /// The ticking redraw and a key can overlap: the frame is made from the view as it was,
    /// the key moves the view meanwhile. Settling the older frame must not undo the key.
    @Test func aKeyDuringARedrawIsNotUndoneByIt() {
        let state = Self.world()
        let screen = WatchScreen(width: 60, height: 20, colour: false)
        var view = WatchView()
        view.scroll = 28
        let drawn = view                                                   // the tick takes its copy
        let frame = screen.frame(state, names: [], now: 1010, nextRound: nil, interval: 30, view: drawn)
        #expect(frame.scroll == 28)
        _ = view.handle(.pageDown, page: frame.page)                       // PageDown arrives meanwhile
        let moved = view.scroll
        #expect(moved > 28)
        view.settle(drawn: drawn, shownScroll: frame.scroll)               // the tick's frame is written
        #expect(view.scroll == moved)
        // Without a key in between, the frame's clamped position is kept (End → the last page).
        _ = view.handle(.end, page: frame.page)
        let atEnd = screen.frame(state, names: [], now: 1010, nextRound: nil, interval: 30, view: view)
        view.settle(drawn: view, shownScroll: atEnd.scroll)
        #expect(view.scroll == atEnd.scroll && atEnd.scroll < 1000)
    }
}
