/// What a watch remembers between rounds: every (resolver, question)'s status,
/// when it last changed, which changed in the latest round, and when each
/// resolver became current. Pure bookkeeping, so it can be tested alone.
public struct WatchState: Sendable {
    public struct Key: Hashable, Sendable, Comparable {
        public var resolver: ServerAddress
        public var name: String
        public var type: RecordType
        public var delegation: Bool
        public static func < (a: Key, b: Key) -> Bool {
            (a.resolver, a.name, a.type.rawValue, a.delegation ? 1 : 0) < (b.resolver, b.name, b.type.rawValue, b.delegation ? 1 : 0)
        }
    }

    public struct Entry: Sendable {
        public var verdict: Verdict
        public var since: Double          // when it took this status
        public var changedRound: Int      // the round in which it took it
        public var previous: VerdictStatus?
    }

    /// A status change, for logs and the NDJSON stream.
    public struct Change: Sendable {
        public var key: Key
        public var from: VerdictStatus?
        public var to: VerdictStatus
        public var at: Double
        public var round: Int
        public var verdict: Verdict
    }

    public private(set) var round = 0
    public private(set) var entries: [Key: Entry] = [:]
    public private(set) var lastReport: PropagationCheck.Report?
    public private(set) var started: Double
    /// When each resolver first had every result current after not having had it.
    public private(set) var becameCurrent: [ServerAddress: (at: Double, round: Int)] = [:]
    public private(set) var resolvers: [ServerAddress: Resolver] = [:]
    public private(set) var failedRounds = 0
    public private(set) var roundNote: String?

    public init(started: Double) { self.started = started }

    /// Seconds of grace after an announced expiry before calling an answer overdue
    /// (rounding of TTLs, the time between rounds).
    public static let expirySlack: Double = 2

    static func key(_ v: Verdict) -> Key {
        Key(resolver: v.resolver.address, name: v.name, type: v.type, delegation: v.isDelegationCheck)
    }

    /// Takes a round's report; returns the changes it brought. `lastReport` is the
    /// report with what only history shows added (answers served past their expiry).
    @discardableResult
    public mutating func update(with report: PropagationCheck.Report) -> [Change] {
        round += 1
        var adjusted: [Verdict] = []
        defer {
            var r = report
            r.verdicts = adjusted
            lastReport = r
        }
        var changes: [Change] = []
        let wasCurrent = Set(resolvers.keys.filter { isResolverCurrent($0) })
        for v in report.verdicts {
            let k = Self.key(v)
            resolvers[v.resolver.address] = v.resolver
            if var e = entries[k] {
                var v = v
                // A cache that should have let go by now but serves the same non-current answer:
                // the TTL it announced does not explain it (RFC 8767 serve-stale, or records
                // re-fetched through a delegation that is itself still stale).
                if v.status.isNotConverged, v.status == e.verdict.status, v.answers == e.verdict.answers,
                   let announced = e.verdict.expiresAt, v.checkedAt > announced + Self.expirySlack {
                    let overdue = Int((v.checkedAt - announced).rounded())
                    v.reason += "; still served \(overdue) s after the expiry its TTL announced (serve-stale, RFC 8767, or a stale delegation refreshing it)"
                    v.servedPastExpiry = true
                    // Keep the first announcement, so the overdue time keeps growing.
                    v.expiresAt = announced
                }
                if e.verdict.status != v.status {
                    changes.append(Change(key: k, from: e.verdict.status, to: v.status, at: v.checkedAt, round: round, verdict: v))
                    e.previous = e.verdict.status
                    e.since = v.checkedAt
                    e.changedRound = round
                }
                e.verdict = v
                entries[k] = e
                adjusted.append(v)
            } else {
                entries[k] = Entry(verdict: v, since: v.checkedAt, changedRound: round, previous: nil)
                changes.append(Change(key: k, from: nil, to: v.status, at: v.checkedAt, round: round, verdict: v))
                adjusted.append(v)
            }
        }
        for address in resolvers.keys where !wasCurrent.contains(address) && isResolverCurrent(address) && round > 1 {
            becameCurrent[address] = (report.finishedAt, round)
        }
        let answering = report.verdicts.contains { $0.status.isAnswering }
        if !answering {
            failedRounds += 1
            roundNote = "round \(round): no resolver answered (network down?); watching on"
        } else if !report.summary.truthEstablished {
            roundNote = "round \(round): the truth could not be established; watching on"
        } else {
            roundNote = nil
        }
        if let e = report.remoteError { roundNote = "round \(round): \(e)" }
        return changes
    }

    public func isResolverCurrent(_ address: ServerAddress) -> Bool {
        let mine = entries.filter { $0.key.resolver == address }
        return !mine.isEmpty && mine.values.allSatisfy { $0.verdict.status == .current }
    }

    /// One line per resolver: its worst status and the entry that shows it.
    public func resolverRows() -> [(resolver: Resolver, worst: Entry, flipped: Bool)] {
        var byResolver: [ServerAddress: [Entry]] = [:]
        for (k, e) in entries { byResolver[k.resolver, default: []].append(e) }
        let rank: [VerdictStatus: Int] = [.parked: 0, .stale: 1, .nxdomain: 2, .nodata: 3, .servfail: 4,
                                          .error: 5, .timeout: 6, .refused: 7, .current: 8]
        var rows: [(Resolver, Entry, Bool)] = []
        for (address, list) in byResolver {
            let sorted = list.sorted { (rank[$0.verdict.status] ?? 9, $0.verdict.name) < (rank[$1.verdict.status] ?? 9, $1.verdict.name) }
            let flipped = list.contains { $0.changedRound == round && round > 1 }
            rows.append((resolvers[address] ?? sorted[0].verdict.resolver, sorted[0], flipped))
        }
        return rows.sorted { a, b in
            let ra = rank[a.1.verdict.status] ?? 9, rb = rank[b.1.verdict.status] ?? 9
            return ra != rb ? ra < rb : a.0.address < b.0.address
        }
    }
}
