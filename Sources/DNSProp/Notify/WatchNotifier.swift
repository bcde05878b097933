#if canImport(Glibc)
import Glibc
#endif
import Dispatch

/// Delivers a watch's notifications (`--on-change`, `--on-converged`, `--webhook`).
///
/// It subscribes to a `WatchSession`; the subscriber only asks `NotificationDetector`
/// what the round brings and queues the deliveries, so a slow command or webhook never
/// delays a round. Deliveries run one at a time, in order, on the notifier's own serial
/// queue: each with a timeout and, when it fails, one retry after `retryDelay`. A failure
/// (after the retry) is reported on `report` once per target; later failures of the same
/// target are only counted and summed up by `drain`. At most `backlogLimit` events wait;
/// past that an event is dropped (and that is reported, once).
public final class WatchNotifier: Sendable {
    public struct Configuration: Sendable {
        public var onChange: NotificationCommand?
        public var onConverged: NotificationCommand?
        public var webhook: WebhookSender?
        /// Seconds one attempt may take.
        public var timeout: Double = 10
        public var retryDelay: Double = 1
        public var backlogLimit = 64

        public init(onChange: NotificationCommand? = nil, onConverged: NotificationCommand? = nil, webhook: WebhookSender? = nil,
                    timeout: Double = 10, retryDelay: Double = 1) {
            self.onChange = onChange
            self.onConverged = onConverged
            self.webhook = webhook
            self.timeout = timeout
            self.retryDelay = retryDelay
        }

        public var isEmpty: Bool { onChange == nil && onConverged == nil && webhook == nil }
    }

    public let configuration: Configuration
    /// Names of the watched domains, for the events.
    public let names: [DomainName]
    /// A line for stderr; the text may carry network text (a webhook's reply, a command's
    /// stderr): the receiver must escape it (the CLI's `Console.diagnostic` does).
    private let report: @Sendable (String) -> Void
    private let queue = DispatchQueue(label: "dnsprop.notify")
    private let group = DispatchGroup()

    private struct State {
        var detector = NotificationDetector()
        var waiting = 0
        var reported: Set<String> = []
        var suppressed: [String: Int] = [:]
        var delivered = 0
    }
    private let state = Protected(State())

    public init(configuration: Configuration, names: [DomainName], report: @escaping @Sendable (String) -> Void) {
        self.configuration = configuration
        self.names = names
        self.report = report
    }

    public func attach(to session: WatchSession) {
        session.subscribe { [self] event in
            if case .roundFinished(let round) = event { self.handle(round) }
        }
    }

    /// Queues the round's notifications; returns at once.
    public func handle(_ round: WatchSession.Round) {
        let events = state.withLock { $0.detector.events(for: round, names: names) }
        for event in events { enqueue(event) }
    }

    func enqueue(_ event: WatchNotification) {
        let targets = self.targets(for: event)
        guard !targets.isEmpty else { return }
        let accepted = state.withLock { s -> Bool in
            guard s.waiting < configuration.backlogLimit else { return false }
            s.waiting += 1
            return true
        }
        guard accepted else {
            fail("backlog", "more than \(configuration.backlogLimit) notifications waiting; round \(event.round)'s \(event.kind.rawValue) event dropped")
            return
        }
        queue.async(group: group) { [self] in
            defer { state.withLock { $0.waiting -= 1 } }
            for target in targets { deliver(event, to: target) }
        }
    }

    enum Target {
        case command(String, NotificationCommand)
        case webhook(WebhookSender)
        var label: String {
            switch self {
            case .command(let option, _): return option
            case .webhook(let w): return "--webhook \(w.redacted)"
            }
        }
    }

    func targets(for event: WatchNotification) -> [Target] {
        var out: [Target] = []
        switch event.kind {
        case .change: if let c = configuration.onChange { out.append(.command("--on-change", c)) }
        case .converged: if let c = configuration.onConverged { out.append(.command("--on-converged", c)) }
        }
        if let w = configuration.webhook { out.append(.webhook(w)) }
        return out
    }

    private func deliver(_ event: WatchNotification, to target: Target) {
        var failure = ""
        for attempt in 0..<2 {
            if attempt > 0 { usleepSeconds(configuration.retryDelay) }
            switch target {
            case .command(_, let command):
                let run = command.run(input: event.json().serialized() + "\n", environment: event.environment(), timeout: configuration.timeout)
                if run.succeeded { delivered(); return }
                switch run.outcome {
                case .exited(let code): failure = "exited with status \(code)"
                case .signalled(let sig): failure = "killed by signal \(sig)"
                case .timedOut: failure = "did not finish within \(Timestamp.duration(configuration.timeout)); its process group was killed"
                case .couldNotStart(let why): failure = "could not start: \(why)"
                }
                let tail = run.stderrTail.split(separator: "\n").last.map(String.init) ?? ""
                if !tail.isEmpty { failure += " (stderr: \(tail))" }
            case .webhook(let sender):
                guard let f = sender.post(event, timeout: configuration.timeout) else { delivered(); return }
                failure = f.description
            }
        }
        fail(target.label, "round \(event.round) \(event.kind.rawValue) event not delivered after a retry: \(failure)")
    }

    private func delivered() { state.withLock { $0.delivered += 1 } }

    private func fail(_ target: String, _ message: String) {
        let first = state.withLock { s -> Bool in
            if s.reported.insert(target).inserted { return true }
            s.suppressed[target, default: 0] += 1
            return false
        }
        if first { report("\(target): \(message) (further failures of this target are counted, not repeated)") }
    }

    /// Waits up to `timeout` seconds for queued deliveries (call before exiting), then
    /// reports the failures that were only counted. Returns false when some were still running.
    @discardableResult
    public func drain(timeout: Double) -> Bool {
        let finished = group.wait(timeout: .now() + timeout) == .success
        let suppressed = state.withLock { s -> [String: Int] in defer { s.suppressed = [:] }; return s.suppressed }
        for (target, n) in suppressed.sorted(by: { $0.key < $1.key }) {
            report("\(target): \(n) more notification\(n == 1 ? "" : "s") \(target == "backlog" ? "dropped" : "failed")")
        }
        if !finished { report("notifications still running after \(Timestamp.duration(timeout)) were abandoned at exit") }
        return finished
    }

    /// Deliveries that succeeded so far.
    public var deliveredCount: Int { state.withLock { $0.delivered } }
}

private func usleepSeconds(_ s: Double) {
    guard s > 0 else { return }
    usleep(UInt32(min(s, 60) * 1_000_000))
}
