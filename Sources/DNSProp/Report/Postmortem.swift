/// What `dnsprop report` says about a recorded watch: when the fix landed, the curve
/// of current resolvers, each resolver's predicted and observed flip, and which ones
/// outlived their TTL and on what recorded basis. Computed from a `RecordedRun`
/// alone; `PostmortemMarkdown` and `PostmortemHTML` only render it.
///
/// Definitions (docs/report.md):
/// - a resolver *holds out* in a round when some result of it has a status that keeps the
///   world from converging (`VerdictStatus.isNotConverged`: stale, parked, nxdomain, nodata,
///   servfail); refusals and timeouts are not old answers;
/// - its *observed flip* is the first later round in which it holds out no more and answers
///   something current; the flip happened in the window (last check holding out, that check];
/// - *predicted*: in the first round it was seen not current, the largest `expiresAt` of its
///   non-current results (the TTLs' word) and the largest `latestAt` (the latest bound);
/// - it *outlived its TTL* when a non-current answer was still seen after that `expiresAt`
///   (one second of slack: TTLs are whole seconds).
public struct Postmortem: Sendable {
    public struct Point: Sendable {
        public var round: Int
        public var at: Double
        public var current: Int
        public var resolvers: Int
        public var percent: Double
        public var outcome: String
    }

    public struct TruthChange: Sendable {
        public var round: Int
        public var at: Double
        public var previousRoundAt: Double
        public var before: [RecordedRun.TruthLine]
        public var after: [RecordedRun.TruthLine]
    }

    public struct ResolverFlip: Sendable {
        public var resolver: String
        public var operatorName: String?
        /// Status when first seen not current (worst first, as recorded).
        public var firstStatus: String
        public var firstSeenRound: Int
        public var predictedExpiry: Double?
        public var predictedLatest: Double?
        /// nil: still not current when the recording ends.
        public var flipRound: Int?
        public var flipAt: Double?
        public var lastNotCurrentAt: Double
        public var outlivedTTL: Bool
        /// The recorded basis for an answer served past its TTL (or, without that, the last reason).
        public var why: [String]
        /// Rounds after the flip in which it held out again (a SERVFAIL, an old answer back), with the status.
        public var relapses: [(round: Int, status: String)]
    }

    public var names: [String]
    public var firstAt: Double?
    public var lastAt: Double?
    public var curve: [Point]
    public var truthChanges: [TruthChange]
    /// The truth of the first round (what the authority served then).
    public var initialTruth: [RecordedRun.TruthLine]
    /// The first round, from the (last) truth change on, in which some resolver answered current.
    public var firstCurrentRound: (round: Int, at: Double)?
    /// The first round, from the (last) truth change on, whose outcome was converged.
    public var convergedRound: (round: Int, at: Double)?
    /// Converged on the old truth, before the fix landed (nil when the truth never changed).
    public var convergedBeforeFix: (round: Int, at: Double)?
    public var flips: [ResolverFlip]
    /// Resolvers current in every round they were seen.
    public var alwaysCurrent: [String]
    /// Resolvers that never served an old answer but failed some question (refused, timeout, …).
    public var onlyFailing: [String]
    public var problems: [String]

    public init(_ run: RecordedRun) {
        let rounds = run.rounds.sorted { $0.number < $1.number }
        problems = run.problems
        names = rounds.first?.names ?? []
        firstAt = rounds.first.map { $0.startedAt ?? $0.finishedAt }
        lastAt = rounds.last?.finishedAt
        curve = rounds.map { Point(round: $0.number, at: $0.finishedAt, current: $0.resolversCurrent, resolvers: $0.resolvers,
                                   percent: $0.currentPercent, outcome: $0.outcome) }
        initialTruth = rounds.first?.truth ?? []
        truthChanges = []
        for (a, b) in zip(rounds, rounds.dropFirst()) where Self.truthKey(a.truth) != Self.truthKey(b.truth) && !b.truth.isEmpty
            && b.truth.allSatisfy({ $0.error == nil }) {
            truthChanges.append(TruthChange(round: b.number, at: b.finishedAt, previousRoundAt: a.finishedAt, before: a.truth, after: b.truth))
        }
        // Judged against the final truth: a world converged on the old answer before the fix
        // landed is not the convergence a postmortem asks about.
        let fixRound = truthChanges.last?.round ?? rounds.first?.number ?? 0
        let afterFix = rounds.filter { $0.number >= fixRound }
        firstCurrentRound = afterFix.first { r in r.results.contains(where: \.isCurrent) }.map { ($0.number, $0.finishedAt) }
        convergedRound = afterFix.first { $0.outcome == "converged" }.map { ($0.number, $0.finishedAt) }
        let firstFix = truthChanges.first?.round
        convergedBeforeFix = firstFix.flatMap { fix in
            rounds.first { $0.number < fix && $0.outcome == "converged" }.map { ($0.number, $0.finishedAt) }
        }

        // Per resolver, per round: its results.
        var order: [String] = []
        var byResolver: [String: [(round: RecordedRun.Round, results: [RecordedRun.Result])]] = [:]
        for r in rounds {
            var mine: [String: [RecordedRun.Result]] = [:]
            for x in r.results {
                if mine[x.resolver] == nil && byResolver[x.resolver] == nil { order.append(x.resolver) }
                mine[x.resolver, default: []].append(x)
            }
            for (k, v) in mine { byResolver[k, default: []].append((r, v)) }
        }
        flips = []
        alwaysCurrent = []
        onlyFailing = []
        for address in order {
            let seen = byResolver[address]!.sorted { $0.round.number < $1.round.number }
            guard let firstBad = seen.firstIndex(where: { $0.results.contains(where: Self.holdsOut) }) else {
                if seen.allSatisfy({ $0.results.allSatisfy(\.isCurrent) }) { alwaysCurrent.append(address) } else { onlyFailing.append(address) }
                continue
            }
            let open = seen[firstBad].results.filter(Self.holdsOut)
            let worst = open.first!
            let predictedExpiry = open.compactMap(\.expiresAt).max()
            let predictedLatest = open.compactMap { $0.latestAt ?? $0.expiresAt }.max()
            let flipIndex = seen[(firstBad + 1)...].firstIndex { !$0.results.contains(where: Self.holdsOut) && $0.results.contains(where: \.isCurrent) }
            let before = seen[firstBad..<(flipIndex ?? seen.endIndex)]
            let notCurrent = before.flatMap { $0.results.filter(Self.holdsOut) }
            // A held-back question (deferredUntil) repeats the last answer seen: its checkedAt is that earlier check.
            let lastNotCurrent = notCurrent.map(\.checkedAt).max() ?? seen[firstBad].round.finishedAt
            let outlived = predictedExpiry.map { e in notCurrent.contains { $0.checkedAt > e + 1 } } ?? false
            var why: [String] = []
            if outlived, let e = predictedExpiry {
                let late = notCurrent.filter { $0.checkedAt > e + 1 }
                if late.contains(where: \.servedPastExpiry) {
                    why.append("served the same answer past its announced expiry (serve-stale, RFC 8767, or re-fetched through a stale delegation)")
                }
                let ns = Array(Set(late.flatMap(\.followsStaleDelegation))).sorted()
                if !ns.isEmpty { why.append("its cached delegation still pointed to " + ns.joined(separator: ", ")) }
                for basis in Set(late.compactMap(\.latestBasis)).sorted() { why.append("latest bound: " + basis) }
                if let last = late.max(by: { $0.checkedAt < $1.checkedAt }) { why.append("last verdict (\(last.status)): " + last.reason) }
            }
            flips.append(ResolverFlip(resolver: address, operatorName: worst.operatorName, firstStatus: worst.status,
                                      firstSeenRound: seen[firstBad].round.number,
                                      predictedExpiry: predictedExpiry, predictedLatest: predictedLatest,
                                      flipRound: flipIndex.map { seen[$0].round.number },
                                      flipAt: flipIndex.map { i in seen[i].results.filter(\.isCurrent).map(\.checkedAt).max() ?? seen[i].round.finishedAt },
                                      lastNotCurrentAt: lastNotCurrent, outlivedTTL: outlived, why: why,
                                      relapses: flipIndex.map { i in
                                          seen[(i + 1)...].compactMap { r in r.results.first(where: Self.holdsOut).map { (r.round.number, $0.status) } }
                                      } ?? []))
        }
        flips.sort { a, b in
            switch (a.flipAt, b.flipAt) {
            case let (x?, y?): return x != y ? x < y : a.resolver < b.resolver
            case (nil, nil): return a.resolver < b.resolver
            case (.some, nil): return true
            case (nil, .some): return false
            }
        }
    }

    /// A result that keeps the world from having converged (`VerdictPolicy`'s statuses:
    /// stale, parked, negative, servfail); a refusal or timeout is not an old answer.
    static func holdsOut(_ r: RecordedRun.Result) -> Bool { VerdictStatus(rawValue: r.status)?.isNotConverged ?? false }

    static func truthKey(_ t: [RecordedRun.TruthLine]) -> [String] {
        t.map { "\($0.name) \($0.type) \($0.negative ?? "") \($0.answers.sorted().joined(separator: ","))" }.sorted()
    }

    /// ▁▂▃▄▅▆▇█ per round: the share of current resolvers.
    public var sparkline: String {
        let bars = Array("▁▂▃▄▅▆▇█")
        return String(curve.map { p in
            guard p.resolvers > 0 else { return bars[0] }
            return bars[min(7, Int((Double(p.current) / Double(p.resolvers) * 7).rounded()))]
        })
    }
}
