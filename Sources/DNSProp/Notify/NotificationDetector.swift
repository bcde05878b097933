/// Decides which notifications a finished watch round brings. Pure, so that the
/// rules can be tested over a sequence of rounds:
///
/// - **change**: from round 2 on, some (resolver, question) has a status other than
///   in the round before (`WatchState.Change` with a previous status: a resolver's
///   first appearance is not a change), or the round's outcome differs from the
///   previous round's. Answers that change while the status stays (a new stale
///   address) are not a change. At most one change event per round.
/// - **converged**: the round's outcome is `converged` and the previous round's was
///   not (or there was none): exactly once per convergence. A world that falls out
///   of convergence and comes back fires again: that is a second convergence.
///
/// In a round that converges, the change event (if any) comes first.
public struct NotificationDetector: Sendable {
    public private(set) var previousOutcome: VerdictPolicy.Outcome?

    public init() {}

    public mutating func events(for round: WatchSession.Round, names: [DomainName]) -> [WatchNotification] {
        let previous = previousOutcome
        previousOutcome = round.outcome
        let flips = round.changes.compactMap { c -> WatchNotification.StatusChange? in
            guard let from = c.from, from != c.to else { return nil }
            return WatchNotification.StatusChange(resolver: c.key.resolver, operatorName: c.verdict.resolver.operatorName,
                                                  question: c.key.question, from: from, to: c.to, at: c.at, reason: c.verdict.reason)
        }.sorted { ($0.resolver, $0.question) < ($1.resolver, $1.question) }
        let summary = round.report.summary
        func event(_ kind: WatchNotification.Kind) -> WatchNotification {
            WatchNotification(kind: kind, round: round.number, at: round.report.finishedAt, names: names,
                              outcome: round.outcome, previousOutcome: previous,
                              resolversCurrent: summary.resolversCurrent, resolvers: summary.resolverCount,
                              currentPercent: summary.currentPercent,
                              changes: Array(flips.prefix(WatchNotification.changeLimit)),
                              changesOmitted: max(0, flips.count - WatchNotification.changeLimit),
                              lastLatestExpiry: summary.lastLatestExpiry)
        }
        var out: [WatchNotification] = []
        if !flips.isEmpty || (previous != nil && previous != round.outcome) { out.append(event(.change)) }
        if round.outcome == .converged && previous != .converged { out.append(event(.converged)) }
        return out
    }
}
