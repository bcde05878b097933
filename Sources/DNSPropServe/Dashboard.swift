import Synchronization
import Prometheus
import DNSProp

/// What `watch --listen` serves, kept up to date by the session's events (it subscribes; it never
/// polls the terminal view). Rendering (`DashboardMetrics`, `StatusPage`, `StatusJSON`) takes a
/// `Snapshot`, so it can be tested without a session or a socket.
public final class Dashboard: Sendable {
    /// One finished round on the timeline.
    public struct Point: Sendable, Equatable {
        public var round: Int
        public var at: Double
        public var currentPercent: Double
        public var resolversCurrent: Int
        public var resolvers: Int
        public init(round: Int, at: Double, currentPercent: Double, resolversCurrent: Int, resolvers: Int) {
            self.round = round
            self.at = at
            self.currentPercent = currentPercent
            self.resolversCurrent = resolversCurrent
            self.resolvers = resolvers
        }
    }

    /// Globalping's hourly budget, where remote probes are used.
    public struct Budget: Sendable, Equatable {
        public var rateLimitRemaining: Int?
        public var creditsRemaining: Int?
        public init(rateLimitRemaining: Int?, creditsRemaining: Int?) {
            self.rateLimitRemaining = rateLimitRemaining
            self.creditsRemaining = creditsRemaining
        }
    }

    public struct Snapshot: Sendable {
        public var names: [DomainName]
        public var interval: Double
        public var minCurrent: Double?
        public var state: WatchState
        /// The latest finished round's outcome (nil before the first round ends).
        public var outcome: VerdictPolicy.Outcome?
        public var roundDuration: Double?
        public var history: [Point] = []
        /// The round being asked now, if any.
        public var roundInProgress: Int?
        public var ending: WatchSession.Ending?
        public var budget: Budget?
        /// Bumped on every event, so that a page can tell whether anything changed.
        public var version = 0

        public init(names: [DomainName], interval: Double, minCurrent: Double?, state: WatchState) {
            self.names = names
            self.interval = interval
            self.minCurrent = minCurrent
            self.state = state
        }

        public var report: PropagationReport? { state.lastReport }
    }

    /// The longest timeline kept (a week of 30-second rounds would be 20 160 points).
    public static let historyLimit = 2000

    private let shared: Mutex<Snapshot>
    private let budgetSource: (@Sendable () -> Budget?)?
    /// Metrics that accumulate over the whole session (the query latency histogram); the rest of
    /// `/metrics` is rendered from the snapshot at each scrape.
    let cumulative = PrometheusCollectorRegistry()
    let latency: ValueHistogram

    /// The bucket bounds of `dnsprop_query_latency_seconds`.
    public static let latencyBuckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    public init(names: [DomainName], interval: Double, minCurrent: Double?, started: Double,
                budget: (@Sendable () -> Budget?)? = nil) {
        shared = Mutex(Snapshot(names: names, interval: interval, minCurrent: minCurrent, state: WatchState(started: started)))
        budgetSource = budget
        latency = cumulative.makeValueHistogram(
            descriptor: MetricNameDescriptor(namespace: "dnsprop", metricName: "query_latency", unitName: "seconds",
                                             helpText: "Round-trip time of the answers the resolvers gave, over the whole watch (results held back or without an answer are not counted)."),
            buckets: Self.latencyBuckets)
    }

    /// Follows `session`: every event updates the snapshot.
    public func attach(to session: WatchSession) {
        session.subscribe { [weak self] event in self?.take(event) }
    }

    /// Takes one session event (`attach` calls this).
    public func take(_ event: WatchSession.Event) {
        switch event {
        case .roundStarted(let number):
            update { $0.roundInProgress = number }
        case .roundFinished(let round):
            finishRound(number: round.number, report: round.report, state: round.state, outcome: round.outcome)
        case .finished(let ending):
            update { $0.roundInProgress = nil; $0.ending = ending }
        }
    }

    /// A finished round: its report, the history after it and its outcome (tests call this directly).
    public func finishRound(number: Int, report: PropagationReport, state: WatchState, outcome: VerdictPolicy.Outcome) {
        for v in report.verdicts where v.deferredUntil == nil {
            if let ms = v.rttMs, ms.isFinite, ms >= 0 { latency.record(ms / 1000) }
        }
        update { s in
            s.roundInProgress = nil
            s.state = state
            s.outcome = outcome
            s.roundDuration = max(0, report.finishedAt - report.startedAt)
            let summary = report.summary
            s.history.append(Point(round: number, at: report.finishedAt, currentPercent: summary.currentPercent,
                                   resolversCurrent: summary.resolversCurrent, resolvers: summary.resolverCount))
            if s.history.count > Self.historyLimit { s.history.removeFirst(s.history.count - Self.historyLimit) }
        }
    }

    private func update(_ change: (inout Snapshot) -> Void) {
        let budget = budgetSource?()
        shared.withLock { s in
            s.version += 1
            if let budget { s.budget = budget }
            change(&s)
        }
    }

    public var snapshot: Snapshot { shared.withLock { $0 } }
}
