/// What the engine knows about one server, kept for the engine's lifetime (not
/// dropped when the server has nothing queued): its rate-limit clock, its measured
/// round trip, whether it answers, and its congestion window. Queries waiting for
/// it, new ones and retries, queue here.
///
/// `@unchecked Sendable`: confined to the engine's queue like everything it holds.
final class ServerState: @unchecked Sendable {
    let address: ServerAddress
    /// New queries, in submission order.
    var waiting: [InFlightQuery] = []
    var waitingHead = 0
    /// Queries whose attempt timed out, waiting for the window to let their next attempt go.
    /// They go before new ones.
    var retries: [InFlightQuery] = []
    var retriesHead = 0
    var inFlight = 0
    /// Earliest time (monotonic ns) the next new query may go (--rate); survives idle periods.
    var nextAllowed: UInt64 = 0
    /// On a ready ring (the engine's round-robin of servers with work that may be sendable).
    var inReadyRing = false
    /// A deadline will put it back on a ring when `nextAllowed` comes.
    var rateWaiting = false

    var rtt = RTTEstimator()
    /// Answers accepted from this server, ever.
    var answered = 0
    /// Attempts that timed out since its last answer: > 0 means it is not answering now.
    var consecutiveTimeouts = 0

    /// Congestion window (queries in flight), AIMD: halved on loss, grown on answers.
    var window: Double
    var threshold: Double
    /// When the window last shrank; a timeout of an attempt sent before then is the same loss event.
    var lastShrink: UInt64 = 0

    init(address: ServerAddress, window: Int) {
        self.address = address
        self.window = Double(window)
        self.threshold = Double(window)
    }

    var hasWork: Bool { retriesHead < retries.count || waitingHead < waiting.count }
    /// Not answering: its queries use the engine's separate budget for unresponsive servers.
    var isUnresponsive: Bool { consecutiveTimeouts > 0 }

    /// The next query to send (retries first), skipping queries already finished
    /// (a late answer may settle one while it waits for its retry).
    /// `isRetry` says which queue it came from: retries do not count against --rate.
    func peekNext() -> (InFlightQuery, isRetry: Bool)? {
        while retriesHead < retries.count {
            if !retries[retriesHead].done { return (retries[retriesHead], true) }
            retriesHead += 1
        }
        while waitingHead < waiting.count {
            if !waiting[waitingHead].done { return (waiting[waitingHead], false) }
            waitingHead += 1
        }
        compact()
        return nil
    }

    func popNext(isRetry: Bool) {
        if isRetry { retriesHead += 1 } else { waitingHead += 1 }
        compact()
    }

    private func compact() {
        if retriesHead == retries.count { retries.removeAll(keepingCapacity: true); retriesHead = 0 }
        if waitingHead == waiting.count {
            waiting.removeAll(keepingCapacity: false)
            waitingHead = 0
        } else if waitingHead > 64 && waitingHead * 2 > waiting.count {
            waiting.removeFirst(waitingHead)
            waitingHead = 0
        }
    }
}
