/// What a watch remembers between rounds: every (resolver, question)'s status,
/// when it last changed, which changed in the latest round, and when each
/// resolver became current. Pure bookkeeping, so it can be tested alone; every
/// judgement it needs comes from `VerdictPolicy`.
public struct WatchState: Sendable {
    public struct Key: Hashable, Sendable, Comparable {
        public var resolver: ServerAddress
        public var question: CheckQuestion
        public static func < (a: Key, b: Key) -> Bool {
            a.resolver != b.resolver ? a.resolver < b.resolver : a.question < b.question
        }
    }

    public struct Entry: Sendable {
        public var verdict: Verdict
        public var since: Double          // when it took this status
        public var changedRound: Int      // the round in which it took it
        public var previous: VerdictStatus?
        /// The largest TTL seen for the current answer (the resolver's original TTL is at least this).
        public var largestTTL: UInt32?
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
    /// The latest round's report, with what only history shows added (answers served past their expiry).
    public private(set) var lastReport: PropagationReport?
    public private(set) var started: Double
    /// When each resolver first had every result current after not having had it.
    public private(set) var becameCurrent: [ServerAddress: (at: Double, round: Int)] = [:]
    public private(set) var resolvers: [ServerAddress: Resolver] = [:]
    /// For each resolver that was not current when first seen: when its caches were
    /// predicted to let go then (the earliest by the TTLs, the latest bound), to set
    /// against when it became current.
    public private(set) var predicted: [ServerAddress: (earliest: Double?, latest: Double?)] = [:]
    public private(set) var failedRounds = 0
    public private(set) var roundNote: String?

    public init(started: Double) { self.started = started }

    static func key(_ v: Verdict) -> Key { Key(resolver: v.resolver.address, question: v.question) }

    /// Takes a round's report; returns the changes it brought.
    @discardableResult
    public mutating func update(with report: PropagationReport) -> [Change] {
        round += 1
        var changes: [Change] = []
        let wasCurrent = currentResolvers()
        let adjusted = report.mapVerdicts { VerdictPolicy.carryingHistory($0, previous: entries[Self.key($0)]?.verdict) }
        for v in adjusted.verdicts {
            let k = Self.key(v)
            resolvers[v.resolver.address] = v.resolver
            if var e = entries[k] {
                if e.verdict.status != v.status || e.verdict.answers != v.answers {
                    e.largestTTL = v.ttl
                } else if let t = v.ttl, v.deferredUntil == nil {
                    e.largestTTL = max(e.largestTTL ?? 0, t)
                }
                if e.verdict.status != v.status {
                    changes.append(Change(key: k, from: e.verdict.status, to: v.status, at: v.checkedAt, round: round, verdict: v))
                    e.previous = e.verdict.status
                    e.since = v.checkedAt
                    e.changedRound = round
                }
                e.verdict = v
                entries[k] = e
            } else {
                entries[k] = Entry(verdict: v, since: v.checkedAt, changedRound: round, previous: nil, largestTTL: v.ttl)
                changes.append(Change(key: k, from: nil, to: v.status, at: v.checkedAt, round: round, verdict: v))
            }
        }
        lastReport = adjusted
        for standing in VerdictPolicy.standings(adjusted.verdicts) where !standing.isCurrent && predicted[standing.resolver.address] == nil {
            let open = standing.verdicts.filter { $0.status.isNotConverged }
            guard !open.isEmpty else { continue }
            predicted[standing.resolver.address] = (open.compactMap(\.expiresAt).max(), open.compactMap { $0.latestAt ?? $0.expiresAt }.max())
        }
        if round > 1 {
            for address in currentResolvers() where !wasCurrent.contains(address) {
                becameCurrent[address] = (report.finishedAt, round)
            }
        }
        switch adjusted.outcome(minCurrent: nil) {
        case .cannotTell where adjusted.summary.answeringVerdicts == 0:
            failedRounds += 1
            roundNote = "round \(round): no resolver answered (network down?); watching on"
        case .cannotTell:
            roundNote = "round \(round): the truth could not be established; watching on"
        default:
            roundNote = nil
        }
        let held = adjusted.verdicts.filter { $0.deferredUntil != nil }
        if roundNote == nil, let until = held.compactMap(\.deferredUntil).max() {
            roundNote = "holding back \(held.count) question\(held.count == 1 ? "" : "s") near their expiry, so that the poll does not make a resolver refresh a stale record (BIND prefetch, Knot Resolver predict), until \(Timestamp.clock(until, reference: until))"
        }
        if let note = report.notes.last(where: { $0.hasPrefix("Globalping: ") }), roundNote == nil { roundNote = note }
        if let e = report.remoteError { roundNote = "round \(round): \(e)" }
        return changes
    }

    /// Every result of the resolver is current (and it has some). A pass over all entries:
    /// to ask this of every resolver, use `currentResolvers()` once.
    public func isResolverCurrent(_ address: ServerAddress) -> Bool {
        currentResolvers().contains(address)
    }

    /// The resolvers whose every result is current, in one pass over the entries (asking
    /// `isResolverCurrent` of each resolver took a pass per resolver: with 3,000 resolvers,
    /// a quarter of a watch round's CPU).
    public func currentResolvers() -> Set<ServerAddress> {
        var seen = Set<ServerAddress>(minimumCapacity: resolvers.count)
        var notCurrent = Set<ServerAddress>()
        for (key, entry) in entries {
            seen.insert(key.resolver)
            if entry.verdict.status != .current { notCurrent.insert(key.resolver) }
        }
        return seen.subtracting(notCurrent)
    }

    public struct Row: Sendable {
        public var resolver: Resolver
        /// The entry that shows the resolver's worst status.
        public var worst: Entry
        /// Some result of it changed in the latest round (after the first).
        public var flipped: Bool
    }

    /// One row per resolver: its worst status and the entry that shows it, worst first
    /// (`VerdictPolicy`'s order), then by address.
    public func resolverRows() -> [Row] {
        var byResolver: [ServerAddress: [Entry]] = [:]
        for (_, e) in entries { byResolver[e.verdict.resolver.address, default: []].append(e) }
        var rows: [Row] = []
        for (address, list) in byResolver {
            let worst = list.min { VerdictPolicy.worstFirst($0.verdict, $1.verdict) }!
            let flipped = list.contains { $0.changedRound == round && round > 1 }
            rows.append(Row(resolver: resolvers[address] ?? worst.verdict.resolver, worst: worst, flipped: flipped))
        }
        return rows.sorted { a, b in
            let ra = VerdictPolicy.severityRank(a.worst.verdict.status), rb = VerdictPolicy.severityRank(b.worst.verdict.status)
            return ra != rb ? ra < rb : a.resolver.address < b.resolver.address
        }
    }
}
