/// What the operator chose to see on the watch screen: scroll position, a text
/// filter, which resolvers (all, not current, failing) and how they are grouped.
/// Pure state with pure key handling, so the screen can be tested without a terminal.
public struct WatchView: Sendable, Equatable {
    public enum Show: String, Sendable, CaseIterable {
        case all, notCurrent = "not current", failing
    }
    public enum Grouping: String, Sendable, CaseIterable {
        /// Current resolvers with the same answer on one line; the rest one by one.
        case statusAnswer = "status+answer"
        case continent, `operator`, none
    }
    public enum Key: Sendable, Equatable {
        case up, down, pageUp, pageDown, home, end, enter, escape, backspace
        case character(Character)
    }

    public var scroll = 0
    public var filter = ""
    /// Typing a filter after `/`.
    public var editingFilter = false
    public var show: Show = .all
    public var grouping: Grouping = .statusAnswer
    public var showHelp = false
    /// The world map above the list (`m`).
    public var showMap = false

    public init() {}

    /// What a key does; `page` is the number of body lines on screen. Returns false for `q`.
    public mutating func handle(_ key: Key, page: Int) -> Bool {
        if editingFilter {
            switch key {
            case .enter: editingFilter = false
            case .escape: editingFilter = false; filter = ""
            case .backspace: if !filter.isEmpty { filter.removeLast() }
            case .character(let c) where !c.isNewline && c.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F }):
                if filter.count < 64 { filter.append(c) }
            default: break
            }
            scroll = 0
            return true
        }
        let step = max(1, page - 1)
        switch key {
        case .up: scroll -= 1
        case .down: scroll += 1
        case .pageUp: scroll -= step
        case .pageDown: scroll += step
        case .home: scroll = 0
        case .end: scroll = Int.max / 2
        case .escape: showHelp = false
        case .character("q"), .character("Q"): return false
        case .character("/"): editingFilter = true; filter = ""; scroll = 0
        case .character("f"):
            show = Show.allCases[(Show.allCases.firstIndex(of: show)! + 1) % Show.allCases.count]; scroll = 0
        case .character("g"):
            grouping = Grouping.allCases[(Grouping.allCases.firstIndex(of: grouping)! + 1) % Grouping.allCases.count]; scroll = 0
        case .character("m"): showMap.toggle(); scroll = 0
        case .character("?"): showHelp.toggle()
        default: break
        }
        scroll = max(0, scroll)
        return true
    }

    /// After a frame drawn from the view `drawn` showed the body from `shownScroll` (the
    /// scroll clamped to the body): keep that position, unless a key changed the view while
    /// the frame was being made. Then the key's own frame, drawn next, clamps; taking the older
    /// frame's position would undo the key (seen in tmux: a PageDown lost to the ticking redraw).
    public mutating func settle(drawn: WatchView, shownScroll: Int) {
        if self == drawn { scroll = shownScroll }
    }

    /// One line of the screen's body.
    public enum Line: Sendable, Equatable {
        /// Resolvers collapsed into one line: same status and answer.
        case group(status: VerdictStatus, answer: String, count: Int, regions: String)
        /// A heading (a continent, an operator).
        case heading(String)
        case resolver(address: ServerAddress)
    }

    /// The rows that the filter and `show` let through (the list's and the map's).
    public func chosen(_ rows: [WatchState.Row]) -> [WatchState.Row] {
        let needle = filter.lowercased()
        return rows.filter { row in
            let v = row.worst.verdict
            switch show {
            case .all: break
            case .notCurrent: if v.status == .current { return false }
            case .failing: if v.status.isAnswering { return false }
            }
            guard !needle.isEmpty else { return true }
            let r = row.resolver
            let haystack = [r.address.description, r.operatorName ?? "", r.countryCode ?? "", r.location ?? "", r.service,
                            v.status.rawValue, v.answers.joined(separator: " "), r.vantage.map { "\($0.city ?? "") \($0.network)" } ?? ""]
                .joined(separator: " ").lowercased()
            return haystack.contains(needle)
        }
    }

    /// The body's lines, in order, for these rows.
    public func lines(_ rows: [WatchState.Row]) -> [Line] {
        let chosen = self.chosen(rows)
        func answer(_ row: WatchState.Row) -> String {
            row.worst.verdict.answers.joined(separator: " ") + (row.worst.verdict.geo != nil ? " (varies by location)" : "")
        }
        // Within a block: non-current ones that will hold out longest first, then failing ones, then current.
        func order(_ a: WatchState.Row, _ b: WatchState.Row) -> Bool {
            let va = a.worst.verdict, vb = b.worst.verdict
            let ka = Self.block(va.status), kb = Self.block(vb.status)
            if ka != kb { return ka < kb }
            let la = va.latestAt ?? va.expiresAt ?? -1, lb = vb.latestAt ?? vb.expiresAt ?? -1
            if la != lb { return la > lb }
            return a.resolver.address < b.resolver.address
        }
        switch grouping {
        case .none:
            return chosen.sorted(by: order).map { .resolver(address: $0.resolver.address) }
        case .statusAnswer:
            var out: [Line] = chosen.filter { $0.worst.verdict.status != .current }.sorted(by: order).map { .resolver(address: $0.resolver.address) }
            var groups: [String: [WatchState.Row]] = [:]
            for row in chosen where row.worst.verdict.status == .current { groups[answer(row), default: []].append(row) }
            for (text, members) in groups.sorted(by: { $0.value.count != $1.value.count ? $0.value.count > $1.value.count : $0.key < $1.key }) {
                out.append(.group(status: .current, answer: text, count: members.count, regions: Self.regions(members)))
            }
            return out
        case .continent, .operator:
            var blocks: [String: [WatchState.Row]] = [:]
            for row in chosen {
                let r = row.resolver
                let key = grouping == .continent
                    ? (r.vantage?.continent.flatMap { Continent(rawValue: $0)?.name } ?? r.continent?.name ?? "unknown continent")
                    : (r.operatorName ?? r.service)
                blocks[key, default: []].append(row)
            }
            var out: [Line] = []
            for (key, members) in blocks.sorted(by: { $0.key < $1.key }) {
                let notCurrent = members.filter { $0.worst.verdict.status != .current }.count
                out.append(.heading("\(key) · \(members.count) resolver\(members.count == 1 ? "" : "s")" + (notCurrent > 0 ? " · \(notCurrent) not current" : "")))
                out += members.sorted(by: order).map { .resolver(address: $0.resolver.address) }
            }
            return out
        }
    }

    static func block(_ s: VerdictStatus) -> Int {
        if s == .current { return 2 }
        return s.isAnswering ? 0 : 1
    }

    /// "NA 31, EU 40, AS 28": where a group's resolvers are, by continent code.
    static func regions(_ rows: [WatchState.Row]) -> String {
        var counts: [String: Int] = [:]
        for row in rows {
            let code = row.resolver.vantage?.continent ?? row.resolver.continent?.rawValue ?? "?"
            counts[code, default: 0] += 1
        }
        return counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
    }

    public static let helpLines = [
        "keys:",
        "  ↑ ↓  PgUp PgDn  Home End   scroll",
        "  /    filter by text (address, operator, country, answer); Enter keeps it, Esc clears it",
        "  f    show all / not current / failing",
        "  g    group by status+answer / continent / operator / none",
        "  m    world map of the resolvers shown (on top of the list when there is room)",
        "  ?    this help (Esc closes)",
        "  q    quit with the timeline (Ctrl-C too)",
    ]
}
