
/// A watch: rounds of the same check, every `interval`, with the history a
/// single check cannot have (who changed, when each resolver became current,
/// answers served past their announced expiry). It runs without a terminal;
/// the terminal view, the NDJSON stream, `--record` and any other consumer
/// subscribe to its events. It decides nothing itself: convergence is
/// `VerdictPolicy`'s, the bookkeeping `WatchState`'s.
public final class WatchSession: Sendable {
    public struct Options: Sendable {
        /// Seconds from the end of one round to the start of the next.
        public var interval: Double = 30
        /// End as soon as a round's outcome is `converged`.
        public var untilPropagated = false
        /// Give up after this many seconds (checked after each round and while waiting).
        public var maxWait: Double?
        /// `--min-current`: a percentage of answering results that counts as converged.
        public var minCurrent: Double?
        /// `--poll-anyway`: ask every question every round, also in the last seconds of a
        /// stale record's TTL (see `PollSchedule`).
        public var pollAnyway = false

        public init(interval: Double = 30, untilPropagated: Bool = false, maxWait: Double? = nil, minCurrent: Double? = nil,
                    pollAnyway: Bool = false) {
            self.interval = interval
            self.untilPropagated = untilPropagated
            self.maxWait = maxWait
            self.minCurrent = minCurrent
            self.pollAnyway = pollAnyway
        }
    }

    /// One finished round, as every subscriber sees it.
    public struct Round: Sendable {
        public var number: Int
        /// The round's report with what only history shows (answers served past their expiry).
        public var report: PropagationReport
        public var changes: [WatchState.Change]
        /// The whole history after this round.
        public var state: WatchState
        public var outcome: VerdictPolicy.Outcome
    }

    public enum Ending: String, Sendable, Hashable {
        /// `untilPropagated` and a round converged.
        case converged
        /// `maxWait` passed first.
        case maxWaitPassed
        /// `stop()` was called.
        case stopped
    }

    public enum Event: Sendable {
        case roundStarted(number: Int)
        case roundFinished(Round)
        case finished(Ending)
    }

    public let plan: PropagationCheck.Plan
    public let engine: QueryEngine
    public let options: Options
    /// Monotonic seconds for `maxWait` and the interval between rounds (a seam for tests:
    /// a round's length on a loaded machine must not decide how many rounds fit).
    let clock: @Sendable () -> Double

    private struct Shared {
        var state: WatchState
        var observers: [@Sendable (Event) -> Void] = []
        var stopped = false
        var nextRoundAt: Double?
        var running = false
    }
    private let shared: Protected<Shared>

    public convenience init(plan: PropagationCheck.Plan, engine: QueryEngine, options: Options) {
        self.init(plan: plan, engine: engine, options: options, clock: { MonotonicTime.now() })
    }

    init(plan: PropagationCheck.Plan, engine: QueryEngine, options: Options, clock: @escaping @Sendable () -> Double) {
        self.plan = plan
        self.engine = engine
        self.options = options
        self.clock = clock
        shared = Protected(Shared(state: WatchState(started: WallClock.now())))
    }

    /// Adds a consumer. Events are delivered in order, one at a time, on the task that runs the session.
    public func subscribe(_ observer: @escaping @Sendable (Event) -> Void) {
        shared.withLock { $0.observers.append(observer) }
    }

    /// The history so far (a copy).
    public var state: WatchState { shared.withLock { $0.state } }
    /// When the next round starts (wall-clock seconds), while waiting for it.
    public var nextRoundAt: Double? { shared.withLock { $0.nextRoundAt } }
    /// Asks the session to end: a round in progress finishes, no other starts.
    public func stop() { shared.withLock { $0.stopped = true } }
    var isStopped: Bool { shared.withLock { $0.stopped } }

    private func emit(_ event: Event) {
        for observer in shared.withLock({ $0.observers }) { observer(event) }
    }

    /// The questions not to ask in a round that starts at `start` and takes about `duration`.
    func holdBack(state: WatchState, start: Double, duration: Double) -> [ResolverQuestion: Verdict] {
        var out: [ResolverQuestion: Verdict] = [:]
        // A resolver whose stale delegation of a zone is in its last seconds: any query about a name
        // in that zone can make it re-fetch from the stale servers and re-arm the delegation with
        // their NS set (Knot Resolver), so none is asked until the delegation has expired.
        var zoneHold: [ServerAddress: [(zone: DomainName, until: Double)]] = [:]
        for (key, entry) in state.entries where entry.verdict.isDelegationCheck && entry.verdict.resolver.vantage == nil {
            if let until = PollSchedule.holdBack(entry.verdict, originalTTL: entry.largestTTL, start: start, duration: duration) {
                zoneHold[key.resolver, default: []].append((key.question.name, until))
            }
        }
        for (key, entry) in state.entries where entry.verdict.resolver.vantage == nil {
            let own = PollSchedule.holdBack(entry.verdict, originalTTL: entry.largestTTL, start: start, duration: duration)
            let zone = zoneHold[key.resolver]?.filter { key.question.name.isSubdomain(of: $0.zone) }.map(\.until).max()
            guard let until = [own, zone].compactMap({ $0 }).max() else { continue }
            var v = entry.verdict
            if v.deferredUntil == nil {
                v.reason += "; not asked again until \(Timestamp.clock(until, reference: until)): a query this close to its expiry could make the resolver refresh it"
            }
            v.deferredUntil = until
            out[ResolverQuestion(resolver: key.resolver, question: key.question)] = v
        }
        return out
    }

    /// Runs rounds until the session converges (with `untilPropagated`), `maxWait`
    /// passes, or `stop()` is called. Runs once per session.
    public func run() async -> Ending {
        let alreadyRunning = shared.withLock { s -> Bool in defer { s.running = true }; return s.running }
        precondition(!alreadyRunning, "a WatchSession runs once")
        let deadline = options.maxWait.map { clock() + $0 }
        func end(_ ending: Ending) -> Ending {
            shared.withLock { $0.nextRoundAt = nil }
            emit(.finished(ending))
            return ending
        }
        var lastDuration = 1.0
        while true {
            if isStopped { return end(.stopped) }
            let number = shared.withLock { s -> Int in s.nextRoundAt = nil; return s.state.round + 1 }
            emit(.roundStarted(number: number))
            var roundPlan = plan
            if !options.pollAnyway { roundPlan.deferred = holdBack(state: state, start: WallClock.now(), duration: lastDuration + 0.5) }
            if let remote = plan.remote {
                // Globalping's hourly budget: skip the probes this round (keep asking locally) when it would run out.
                let types = plan.types + (plan.checkDelegation && !plan.types.contains(.ns) ? [RecordType.ns] : [])
                let templates = plan.names.flatMap { n in types.compactMap { try? QueryTemplate(name: n, type: $0) } }
                if case .wait(_, let reason) = remote.roundDecision(questions: GlobalpingVantage.remoteQuestionCount(templates)) {
                    roundPlan.remote = nil
                    roundPlan.remoteSkipped = "Globalping: " + reason
                }
            }
            let fresh = await PropagationCheck(plan: roundPlan, engine: engine).run()
            lastDuration = max(0.1, fresh.finishedAt - fresh.startedAt)
            let round = shared.withLock { s -> Round in
                let changes = s.state.update(with: fresh)
                let report = s.state.lastReport!
                s.nextRoundAt = WallClock.now() + options.interval
                return Round(number: s.state.round, report: report, changes: changes, state: s.state,
                             outcome: report.outcome(minCurrent: options.minCurrent))
            }
            emit(.roundFinished(round))
            if options.untilPropagated && round.outcome == .converged { return end(.converged) }
            if let deadline, clock() >= deadline { return end(.maxWaitPassed) }
            // Wait for the next round in short steps, so that stop() and maxWait are seen promptly.
            let next = clock() + options.interval
            while true {
                let now = clock()
                if isStopped { return end(.stopped) }
                if let deadline, now >= deadline { return end(.maxWaitPassed) }
                if now >= next { break }
                let step = min(0.25, next - now, deadline.map { $0 - now } ?? .infinity)
                try? await Task.sleep(nanoseconds: UInt64(max(0.001, step) * 1e9))
            }
        }
    }
}
