#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import CDNSPropShims

/// A query in flight, confined to the engine's queue (`@unchecked Sendable`
/// only so that it can sit in deadline tokens handled on that same queue).
final class InFlightQuery: @unchecked Sendable {
    let batch: QueryBatch
    let index: Int
    let request: QueryRequest
    let server: ServerState
    var attempts = 0
    /// When the first attempt went (monotonic ns).
    var firstSentAt: UInt64 = 0
    /// Bumped whenever a deadline is set; older deadlines are then ignored.
    var generation = 0
    /// Every UDP attempt: an answer to an earlier attempt is still accepted.
    var sends: [(socket: UDPSocket, id: UInt16, sentAt: UInt64)] = []
    var tcp: (connection: TCPConnection, id: UInt16, sentAt: UInt64)?
    var tcpRetried = false
    var dropped = 0
    var lastMalformed: WireError?
    var done = false
    /// Queued at its server (new or waiting for a retry), counted in `waitingTotal`.
    var queued = false
    /// The budget whose slot it holds while an attempt is out.
    var lane: QueryEngine.Lane = .none
    /// A socket of its own (authoritative servers), closed when it ends.
    var ownSocket: UDPSocket?

    init(batch: QueryBatch, index: Int, request: QueryRequest, server: ServerState) {
        self.batch = batch
        self.index = index
        self.request = request
        self.server = server
    }
}

/// A submitted batch: its callbacks and how many results are still owed.
final class QueryBatch: @unchecked Sendable {   // confined to the engine's queue
    let onResult: @Sendable (QueryResult) -> Void
    let onComplete: @Sendable () -> Void
    var remaining: Int

    init(count: Int, onResult: @escaping @Sendable (QueryResult) -> Void, onComplete: @escaping @Sendable () -> Void) {
        self.remaining = count
        self.onResult = onResult
        self.onComplete = onComplete
    }
}

/// Asks many servers many questions at once over non-blocking sockets driven by
/// Dispatch sources, and reports for every (server, question) exactly what the
/// server answered, or why it did not.
///
/// - One serial queue owns all mutable state; sockets are read by
///   `DispatchSourceRead`s on it; one repeating timer drives every timeout,
///   retry and rate limit (a deadline heap, not a timer per query).
/// - A response is accepted only from the address and port the query went to,
///   on the socket it left from, with the same ID, QR set and the same question
///   (name case-insensitive, type, class). Anything else is counted and dropped.
/// - TC=1 sends the same question over TCP (RFC 7766), reusing one connection
///   per server while the server keeps it open.
///
/// **ICMP errors.** Linux reports an ICMP error for an unconnected UDP socket
/// on the socket's *next* `sendto` (or `recvfrom`), whichever query that is for,
/// and queues the details (the datagram's destination and first bytes) on the
/// error queue (IP_RECVERR). The engine never takes the errno of a call as the
/// verdict of the query making it: it reads the error queue and gives each
/// error to the query with that socket, destination and ID; a `sendto` that
/// failed that way is made again (the datagram was not sent).
///
/// **Timeouts follow the network.** Each attempt waits a retransmission timeout
/// (RTO) from the server's measured round trips (RFC 6298: SRTT + 4·RTTVAR), or,
/// for a server not measured yet, from the same estimator fed with every answer
/// the engine has had (re-read while the attempt waits, so it tightens as the
/// batch's answers come in). The RTO is at least `minimumRetransmissionTimeout`
/// and at most `timeout`; attempt k waits RTO·backoff^(k−1) (at most
/// timeout·backoff^(k−1)). With no answer yet from anyone, it is `timeout`.
/// The last attempt waits at least until the query has listened `timeout` in
/// all (answers to earlier attempts count): short round trips bring the retries
/// forward, not the give-up, so a silent server costs `timeout`, not
/// timeout × attempts, and a slow one still has `timeout` to answer.
///
/// **Dead servers cost nothing.** A server whose last attempt timed out with no
/// answer since is *unresponsive*: its queries (retries and new ones) draw on a
/// budget of their own (`maxInFlight` again), so queries to servers that answer
/// never wait behind them.
///
/// **Loss-aware pacing (AIMD).** Each server has a window of queries in flight
/// (at most `maxInFlightPerServer`), and queries to answering servers share a
/// batch window (at most `maxInFlight`). A timeout of an attempt to a server that
/// has answered before is loss: that server's window and the batch window halve
/// (once per loss event: timeouts of attempts sent before the last halving do not
/// count again; the batch window stays ≥ `minimumBatchWindow`). Each answer grows
/// them back: a server's by 1/window (one query per window's worth of answers),
/// the batch's by one (it doubles each round trip: its losses come from many
/// servers, and one lossy server must not throttle the whole list for long).
/// Retries wait for room in the window too, ahead of new queries. Timeouts from
/// servers that never answered are not loss (they are dead, not congested).
/// `statistics` counts the halvings and the smallest batch window.
///
/// `@unchecked Sendable`: every stored property after `init` is read and
/// written only on `queue` (public methods hop onto it).
public final class QueryEngine: @unchecked Sendable {
    public let configuration: EngineConfiguration
    private let queue = DispatchQueue(label: "dnsprop.engine")
    private var timer: DispatchSourceTimer?
    private var timerArmed = false

    private var sockets: [Int32: [UDPSocket]] = [:]
    private var socketsByIndex: [Int: UDPSocket] = [:]
    private var nextSocketIndex = 1
    private var freshSocketsOpen = 0
    /// An epoll set that reports sockets with queued ICMP errors (see CDNSPropShims).
    private var errorWatch: Int32 = -1
    private var errorWatchSource: DispatchSourceRead?
    private var socketFailure: [Int32: TransportError] = [:]
    private var nextSocket = 0
    private var ids = QueryIDSource()
    /// recvmmsg slots: `receiveSlots` datagrams of up to 64 KiB each, their sources and lengths.
    private static let receiveSlots = 32
    private static let slotSize = 65536
    private var receiveBuffer: UnsafeMutableRawBufferPointer
    private var receiveSources: UnsafeMutablePointer<sockaddr_storage>
    private var receiveLengths: UnsafeMutablePointer<UInt32>
    private var receiveTruncated: UnsafeMutablePointer<UInt8>
    /// The first bytes of a datagram an ICMP error is about (its ID is all the engine needs).
    private var errorBuffer: UnsafeMutableRawBufferPointer
    /// Where each outgoing query is assembled (the template with its ID).
    private var sendBuffer: UnsafeMutableRawBufferPointer

    private struct UDPKey: Hashable {
        var socket: Int
        var server: ServerAddress
        var id: UInt16
    }
    private var pendingUDP: [UDPKey: InFlightQuery] = [:]

    /// Which budget a query's in-flight slot counts against.
    enum Lane { case none, main, unresponsive }

    private var servers: [ServerAddress: ServerState] = [:]
    /// Round-robins of servers with work: one per budget.
    private var ready: [ServerState] = []
    private var readyHead = 0
    private var readyUnresponsive: [ServerState] = []
    private var readyUnresponsiveHead = 0
    private var inFlightMain = 0
    private var inFlightUnresponsive = 0
    private var waitingTotal = 0
    private var batchWindow: Double
    private var batchLastShrink: UInt64 = 0
    /// Every answer's round trip: the RTO for servers not measured yet.
    private var allRTT = RTTEstimator()

    private enum Deadline {
        case udp(InFlightQuery, Int)
        case tcp(InFlightQuery, Int)
        case tcpIdle(TCPConnection, Int)
        /// A server held back by --rate may send its next new query.
        case rate(ServerState)
    }
    private var deadlines = DeadlineQueue<Deadline>()
    private var tcpConnections: [ServerAddress: TCPConnection] = [:]
    private var stats = EngineStatistics()
    private var isShutDown = false

    public init(configuration: EngineConfiguration = EngineConfiguration()) {
        self.configuration = configuration
        batchWindow = Double(max(1, configuration.maxInFlight))
        receiveBuffer = .allocate(byteCount: Self.receiveSlots * Self.slotSize, alignment: 16)
        receiveSources = .allocate(capacity: Self.receiveSlots)
        receiveLengths = .allocate(capacity: Self.receiveSlots)
        receiveTruncated = .allocate(capacity: Self.receiveSlots)
        errorBuffer = .allocate(byteCount: 512, alignment: 16)
        sendBuffer = .allocate(byteCount: 65536, alignment: 16)
        let timer = DispatchSource.makeTimerSource(queue: queue)
        timer.setEventHandler { [weak self] in self?.tick() }
        timer.schedule(deadline: .distantFuture, repeating: .never)
        timer.activate()
        self.timer = timer
        errorWatch = CDNSPropShims_error_watch_create()
        if errorWatch >= 0 {
            let source = DispatchSource.makeReadSource(fileDescriptor: errorWatch, queue: queue)
            source.setEventHandler { [weak self] in self?.drainErrors() }
            let fd = errorWatch
            source.setCancelHandler { Glibc.close(fd) }
            source.activate()
            errorWatchSource = source
        }
    }

    deinit {
        // Sources hold only weak references to the engine, so they may outlive it briefly;
        // cancel them so that their descriptors close.
        timer?.cancel()
        errorWatchSource?.cancel()
        for s in socketsByIndex.values { s.invalidate() }
        for c in tcpConnections.values { c.close() }
        releaseQueries()
        receiveBuffer.deallocate()
        receiveSources.deallocate()
        receiveLengths.deallocate()
        receiveTruncated.deallocate()
        errorBuffer.deallocate()
        sendBuffer.deallocate()
    }

    /// Counters since the engine was made.
    public var statistics: EngineStatistics { queue.sync { stats } }

    /// Submits a batch. `onResult` is called once per request, in completion
    /// order, on the engine's queue (keep it short, or hop elsewhere);
    /// `onComplete` follows the last result.
    public func submit(_ requests: [QueryRequest],
                       onResult: @escaping @Sendable (QueryResult) -> Void,
                       onComplete: @escaping @Sendable () -> Void) {
        queue.async { [self] in
            let batch = QueryBatch(count: requests.count, onResult: onResult, onComplete: onComplete)
            guard !requests.isEmpty else { onComplete(); return }
            for (i, request) in requests.enumerated() {
                let st = serverState(request.server)
                let q = InFlightQuery(batch: batch, index: i, request: request, server: st)
                if isShutDown {
                    finish(q, .failure(.system(call: "submit", errno: ECANCELED, message: "engine shut down")),
                           transport: .udp, rtt: nil)
                    continue
                }
                st.waiting.append(q)
                q.queued = true
                waitingTotal += 1
                makeReady(st)
            }
            armTimer()
            pump()
        }
    }

    /// Runs a batch and returns its results in request order.
    public func results(for requests: [QueryRequest]) async -> [QueryResult] {
        let collector = ResultCollector(count: requests.count)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            submit(requests, onResult: { collector.store($0) }, onComplete: { continuation.resume() })
        }
        return collector.ordered()
    }

    /// Stops: queries still waiting or in flight finish as cancelled, sockets close.
    public func shutdown() {
        queue.sync {
            isShutDown = true
            let cancelled = TransportError.system(call: "query", errno: ECANCELED, message: "engine shut down")
            for (_, st) in servers {
                for q in st.retries[st.retriesHead...] where !q.done { finish(q, .failure(cancelled), transport: .udp, rtt: nil) }
                for q in st.waiting[st.waitingHead...] where !q.done { finish(q, .failure(cancelled), transport: .udp, rtt: nil) }
            }
            // Iterates a snapshot; a query listed under several IDs finishes once (`finish` checks `done`).
            for q in pendingUDP.values where !q.done {
                finish(q, .failure(cancelled), transport: .udp, rtt: nil)
            }
            for c in tcpConnections.values {
                for q in c.waiting.values where !q.done { finish(q, .failure(cancelled), transport: .tcp, rtt: nil) }
                c.close()
            }
            tcpConnections.removeAll()
            releaseQueries()
            for s in socketsByIndex.values { s.invalidate() }
            sockets.removeAll()
            socketsByIndex.removeAll()
            timer?.schedule(deadline: .distantFuture, repeating: .never)
            timerArmed = false
        }
    }

    /// Drops every reference to queries held by server states, rings and the pending
    /// table: a query refers to its server state, so finished queries left in a server's
    /// queues would keep both alive after the engine is gone (found by LeakSanitizer).
    private func releaseQueries() {
        for (_, st) in servers {
            st.waiting.removeAll(); st.waitingHead = 0
            st.retries.removeAll(); st.retriesHead = 0
        }
        pendingUDP.removeAll()
        ready.removeAll(); readyHead = 0
        readyUnresponsive.removeAll(); readyUnresponsiveHead = 0
    }

    // MARK: - Scheduling

    private func serverState(_ address: ServerAddress) -> ServerState {
        if let st = servers[address] { return st }
        let st = ServerState(address: address, window: max(1, configuration.maxInFlightPerServer))
        servers[address] = st
        return st
    }

    /// Puts a server with work on the ring of the budget it draws on.
    private func makeReady(_ st: ServerState) {
        guard !st.inReadyRing, st.hasWork else { return }
        st.inReadyRing = true
        if st.isUnresponsive { readyUnresponsive.append(st) } else { ready.append(st) }
    }

    private func armTimer() {
        guard !timerArmed else { return }
        timerArmed = true
        let tick = DispatchTimeInterval.nanoseconds(Int(MonotonicClock.nanoseconds(configuration.tick)))
        timer?.schedule(deadline: .now() + tick, repeating: tick, leeway: .milliseconds(1))
    }

    private func tick() {
        let now = MonotonicClock.now()
        for deadline in deadlines.popExpired(now: now) {
            switch deadline {
            case .udp(let q, let generation):
                guard !q.done, generation == q.generation, q.tcp == nil, q.lane != .none else { continue }
                udpDeadline(q, now: now)
            case .tcp(let q, let generation):
                guard !q.done, generation == q.generation, let tcp = q.tcp else { continue }
                tcp.connection.waiting[tcp.id] = nil
                finish(q, .failure(.tcpTimeout), transport: .tcp, rtt: nil)
                scheduleIdleClose(tcp.connection)
            case .tcpIdle(let connection, let generation):
                if connection.waiting.isEmpty && generation == connection.idleGeneration {
                    connection.close()
                    if tcpConnections[connection.server] === connection { tcpConnections[connection.server] = nil }
                }
            case .rate(let st):
                st.rateWaiting = false
                makeReady(st)
            }
        }
        pump()
        if inFlightMain == 0 && inFlightUnresponsive == 0 && waitingTotal == 0 && deadlines.isEmpty && timerArmed {
            timer?.schedule(deadline: .distantFuture, repeating: .never)
            timerArmed = false
        }
    }

    /// The retransmission timeout for the next attempt to `st` (seconds), before backoff,
    /// and whether it may still change (the server is not measured yet).
    private func baseTimeout(_ st: ServerState) -> (Double, provisional: Bool) {
        let granularity = configuration.tick
        if let rto = st.rtt.timeout(granularity: granularity) {
            return (min(configuration.timeout, max(configuration.minimumRetransmissionTimeout, rto)), false)
        }
        if let rto = allRTT.timeout(granularity: granularity) {
            return (min(configuration.timeout, max(configuration.minimumRetransmissionTimeout, rto)), true)
        }
        return (configuration.timeout, true)
    }

    /// How long attempt number `attempt` (1-based) waits, in nanoseconds.
    private func attemptWait(_ q: InFlightQuery) -> (UInt64, provisional: Bool) {
        let (base, provisional) = baseTimeout(q.server)
        var wait = base
        for _ in 1..<max(1, q.attempts) { wait *= configuration.backoff }
        var ns = MonotonicClock.nanoseconds(wait)
        if q.attempts > configuration.retries, let last = q.sends.last {
            // The last attempt listens until the query has waited --timeout in all: retries
            // come early when round trips are short, but a slow server still has that long.
            let listened = last.sentAt - q.firstSentAt
            let total = MonotonicClock.nanoseconds(configuration.timeout)
            if total > listened { ns = max(ns, total - listened) }
        }
        return (ns, provisional)
    }

    /// Re-reads how long a provisional timeout should be at most this often.
    private static let recheck: UInt64 = 50_000_000

    private func scheduleUDPDeadline(_ q: InFlightQuery, sentAt: UInt64, now: UInt64) {
        deadlines.insert(nextDeadline(q, sentAt: sentAt, now: now), .udp(q, q.generation))
    }

    /// When to look at an attempt next: when its timeout expires, sooner while that timeout
    /// is provisional, and, for a server that has never answered, when the batch's answers
    /// say it is overdue (its slot then moves to the unresponsive budget).
    private func nextDeadline(_ q: InFlightQuery, sentAt: UInt64, now: UInt64) -> UInt64 {
        let (wait, provisional) = attemptWait(q)
        var due = sentAt + wait
        if provisional {
            due = min(due, max(now + Self.recheck, sentAt + MonotonicClock.nanoseconds(configuration.minimumRetransmissionTimeout)))
        }
        if q.lane == .main && q.server.answered == 0 {
            if let after = overdueAfter() {
                let overdue = sentAt + after
                if overdue > now { due = min(due, overdue) }
            } else {
                due = min(due, now + Self.recheck)   // look again once answers may have come
            }
        }
        return due
    }

    /// How long an attempt to a server that has never answered may hold a slot of the main
    /// budget: the batch's RTO without the floor (answers from the living come within it).
    /// nil before any answer: with no evidence, nobody is overdue.
    private func overdueAfter() -> UInt64? {
        guard let rto = allRTT.timeout(granularity: configuration.tick) else { return nil }
        return max(MonotonicClock.nanoseconds(configuration.tick), MonotonicClock.nanoseconds(rto))
    }

    private func udpDeadline(_ q: InFlightQuery, now: UInt64) {
        guard let last = q.sends.last else { return }
        if q.lane == .main && q.server.answered == 0, let after = overdueAfter(), now - last.sentAt >= after {
            // Not timed out yet, but later than the others' answers: stop holding back the main budget.
            inFlightMain -= 1
            inFlightUnresponsive += 1
            q.lane = .unresponsive
            stats.overdueMovedToUnresponsiveBudget += 1
        }
        let (wait, _) = attemptWait(q)
        if last.sentAt + wait > now {
            deadlines.insert(nextDeadline(q, sentAt: last.sentAt, now: now), .udp(q, q.generation))
            return
        }
        stats.attemptTimeouts += 1
        let st = q.server
        if st.answered > 0 { lossEvent(st, attemptSentAt: last.sentAt, now: now) }
        if st.consecutiveTimeouts == 0 { stats.unresponsiveServers += 1 }
        st.consecutiveTimeouts += 1
        releaseSlot(q)
        if q.attempts <= configuration.retries {
            st.retries.append(q)
            q.queued = true
            waitingTotal += 1
            makeReady(st)
        } else {
            finish(q, .failure(q.lastMalformed.map { .malformed($0) } ?? .timeout(attempts: q.attempts)),
                   transport: .udp, rtt: nil)
        }
    }

    /// A server that answers did not answer an attempt: halve its window and the batch's,
    /// once per loss event.
    private func lossEvent(_ st: ServerState, attemptSentAt: UInt64, now: UInt64) {
        if attemptSentAt >= st.lastShrink {
            st.threshold = max(1, st.window / 2)
            st.window = st.threshold
            st.lastShrink = now
            stats.serverWindowShrinks += 1
        }
        if attemptSentAt >= batchLastShrink {
            let floor = Double(max(1, min(configuration.minimumBatchWindow, configuration.maxInFlight)))
            batchWindow = max(floor, batchWindow / 2)
            batchLastShrink = now
            stats.batchWindowShrinks += 1
            let w = Int(batchWindow)
            stats.smallestBatchWindow = min(stats.smallestBatchWindow ?? w, w)
        }
    }

    private func grow(_ window: inout Double, threshold: Double, limit: Int) {
        window += window < threshold ? 1 : 1 / window
        window = min(window, Double(limit))
    }

    /// Gives back the in-flight slot a query held while its attempt was out.
    private func releaseSlot(_ q: InFlightQuery) {
        switch q.lane {
        case .none: return
        case .main: inFlightMain -= 1
        case .unresponsive: inFlightUnresponsive -= 1
        }
        q.lane = .none
        q.server.inFlight -= 1
        makeReady(q.server)
    }

    /// Starts as many waiting queries as the budgets, windows and rates allow.
    private func pump() {
        guard waitingTotal > 0 else { return }
        let now = MonotonicClock.now()
        let mainLimit = min(configuration.maxInFlight, max(1, Int(batchWindow)))
        pumpRing(lane: .main, limit: mainLimit, now: now)
        pumpRing(lane: .unresponsive, limit: max(1, configuration.maxInFlight), now: now)
    }

    // The rings are read and written through these short accesses only: sending can finish
    // other queries (an ICMP error read on the way) and put their servers back in line, so
    // no access to a ring may span a send.
    private func popReady(_ lane: Lane) -> ServerState? {
        if lane == .main {
            guard readyHead < ready.count else { return nil }
            readyHead += 1
            return ready[readyHead - 1]
        }
        guard readyUnresponsiveHead < readyUnresponsive.count else { return nil }
        readyUnresponsiveHead += 1
        return readyUnresponsive[readyUnresponsiveHead - 1]
    }

    private func pushReady(_ st: ServerState, _ lane: Lane) {
        if lane == .main { ready.append(st) } else { readyUnresponsive.append(st) }
    }

    private func compactRings() {
        if readyHead > 1024 && readyHead * 2 > ready.count {
            ready.removeFirst(readyHead)
            readyHead = 0
        }
        if readyUnresponsiveHead > 1024 && readyUnresponsiveHead * 2 > readyUnresponsive.count {
            readyUnresponsive.removeFirst(readyUnresponsiveHead)
            readyUnresponsiveHead = 0
        }
    }

    private func pumpRing(lane: Lane, limit: Int, now: UInt64) {
        let interval = configuration.rateInterval
        while (lane == .main ? inFlightMain : inFlightUnresponsive) < limit, let st = popReady(lane) {
            guard let next = st.peekNext(), st.inFlight < max(1, Int(st.window)) else {
                // Back on a ring when a query to it ends or new work arrives.
                st.inReadyRing = false
                continue
            }
            if st.isUnresponsive != (lane == .unresponsive) {
                // Its state changed while it waited: move it to the other ring.
                st.inReadyRing = false
                makeReady(st)
                continue
            }
            if !next.isRetry && st.nextAllowed > now {
                // Off the ring until its rate clock allows (a deadline puts it back): a long
                // list of rate-limited servers is not scanned on every pass.
                st.inReadyRing = false
                if !st.rateWaiting {
                    st.rateWaiting = true
                    deadlines.insert(st.nextAllowed, .rate(st))
                }
                continue
            }
            let (q, isRetry) = next
            st.popNext(isRetry: isRetry)
            q.queued = false
            waitingTotal -= 1
            if !isRetry { st.nextAllowed = max(st.nextAllowed, now) + interval }
            st.inFlight += 1
            q.lane = lane
            if lane == .main { inFlightMain += 1 } else { inFlightUnresponsive += 1 }
            if st.hasWork { pushReady(st, lane) } else { st.inReadyRing = false }
            sendAttempt(q)
        }
        compactRings()
    }

    // MARK: - UDP

    private func makeSocket(family: Int32) throws(TransportError) -> UDPSocket {
        let index = nextSocketIndex
        nextSocketIndex += 1
        let socket = try UDPSocket(family: family, index: index)
        socket.startReading(on: queue) { [weak self, weak socket] in
            guard let self, let socket else { return }
            self.drain(socket)
        }
        socketsByIndex[index] = socket
        if errorWatch >= 0 { _ = CDNSPropShims_error_watch_add(errorWatch, socket.fd, UInt64(index)) }
        return socket
    }

    private func closeSocket(_ socket: UDPSocket) {
        if socket.isFresh {
            socket.isFresh = false
            freshSocketsOpen -= 1
        }
        socket.invalidate()
        socketsByIndex[socket.index] = nil
    }

    private func socketsFor(family: Int32) -> Result<[UDPSocket], TransportError> {
        if let list = sockets[family] { return .success(list) }
        if let failure = socketFailure[family] { return .failure(failure) }
        var list: [UDPSocket] = []
        do {
            for _ in 0..<max(1, configuration.socketsPerFamily) { list.append(try makeSocket(family: family)) }
        } catch {
            for s in list { closeSocket(s) }
            let failure: TransportError = error.isAddressFamilyUnsupported
                ? .unreachable("IPv\(family == AF_INET6 ? 6 : 4) is not available on this host") : error
            socketFailure[family] = failure
            return .failure(failure)
        }
        sockets[family] = list
        return .success(list)
    }

    /// The socket for the next attempt of `q`: its own for an authoritative query, else one
    /// from the pool (renewed after `renewSocketAfter` queries).
    private func socketForAttempt(_ q: InFlightQuery) -> Result<UDPSocket, TransportError> {
        let family = q.request.server.family
        if let own = q.ownSocket { return .success(own) }
        if configuration.freshSocketForAuthoritative && !q.request.query.options.recursionDesired
            && freshSocketsOpen < configuration.maxFreshSockets && socketFailure[family] == nil {
            // Beyond the cap (or without descriptors to spare) the query falls back to the
            // pool, whose ports are renewed too.
            if let own = try? makeSocket(family: family) {
                own.retired = true   // never shared; closed when the query lets go of it
                own.isFresh = true
                freshSocketsOpen += 1
                q.ownSocket = own
                stats.freshSockets += 1
                return .success(own)
            }
        }
        let list: [UDPSocket]
        switch socketsFor(family: family) {
        case .success(let l): list = l
        case .failure(let e): return .failure(e)
        }
        let slot = nextSocket % list.count
        nextSocket &+= 1
        var socket = list[slot]
        if configuration.renewSocketAfter > 0 && socket.queriesSent >= configuration.renewSocketAfter,
           let fresh = try? makeSocket(family: family) {
            socket.retired = true
            if socket.pending == 0 { closeSocket(socket) }
            sockets[family]![slot] = fresh
            stats.socketRenewals += 1
            socket = fresh
        }
        return .success(socket)
    }

    private func sendAttempt(_ q: InFlightQuery) {
        let server = q.request.server
        let socket: UDPSocket
        switch socketForAttempt(q) {
        case .success(let s): socket = s
        case .failure(let e): finish(q, .failure(e), transport: .udp, rtt: nil); return
        }
        var id = ids.nextID()
        while pendingUDP[UDPKey(socket: socket.index, server: server, id: id)] != nil { id = ids.nextID() }
        var repeats = 0
        while true {
            let error = socket.send(template: q.request.query.wire, id: id, to: server, scratch: sendBuffer)
            switch error {
            case 0, EAGAIN, EWOULDBLOCK, ENOBUFS, EINTR:
                // A datagram the kernel could not queue is a lost datagram: the retry covers it.
                break
            case ECONNREFUSED, EHOSTUNREACH, ENETUNREACH, EHOSTDOWN, ENETDOWN, EPROTO, EMSGSIZE, ECONNRESET:
                // Possibly an error pending from an earlier datagram of this socket (Linux gives
                // it to the next call, and does not send this one). Give every queued error to its
                // own query, then try again; the same error twice with nothing queued is ours.
                let queued = drainErrorQueue(socket)
                if q.done { return }   // the pending error was this query's own (an earlier attempt)
                if repeats < 4 && (error == ECONNREFUSED || error == ECONNRESET || queued > 0 || repeats == 0) {
                    repeats += 1
                    stats.sendsRepeatedAfterPendingError += 1
                    continue
                }
                let failure: TransportError = error == ECONNREFUSED ? .connectionRefused(.udp) : .unreachable(errnoText(error))
                finish(q, .failure(failure), transport: .udp, rtt: nil)
                return
            default:
                finish(q, .failure(.unreachable(errnoText(error))), transport: .udp, rtt: nil)
                return
            }
            break
        }
        let now = MonotonicClock.now()
        q.attempts += 1
        if q.attempts == 1 { q.firstSentAt = now }
        q.sends.append((socket, id, now))
        socket.queriesSent += 1
        socket.pending += 1
        pendingUDP[UDPKey(socket: socket.index, server: server, id: id)] = q
        stats.queriesSent += 1
        if q.attempts > 1 { stats.retransmissions += 1 }
        q.generation += 1
        scheduleUDPDeadline(q, sentAt: now, now: now)
    }

    private func drain(_ socket: UDPSocket) {
        // Bounded per event so that one flooded socket cannot starve the others.
        for _ in 0..<16 {
            let n = CDNSPropShims_recv_many(socket.fd, receiveBuffer.baseAddress, Self.slotSize, UInt32(Self.receiveSlots),
                                            receiveSources, receiveLengths, receiveTruncated)
            if n < 0 {
                let e = errno
                if e == EINTR { continue }
                if e == EAGAIN || e == EWOULDBLOCK { pump(); return }
                // A pending ICMP error surfaced here; its details are on the error queue.
                drainErrorQueue(socket)
                continue
            }
            for i in 0..<Int(n) {
                guard let from = ServerAddress(storage: receiveSources + i) else { stats.unsolicited += 1; continue }
                let start = i * Self.slotSize
                // A datagram larger than 64 KiB cannot be UDP over IPv4/6 without jumbograms:
                // whatever it is, the slot holds its first 64 KiB and decoding will judge it.
                let length = receiveTruncated[i] != 0 ? Self.slotSize : Int(receiveLengths[i])
                handleDatagram(from: from, bytes: UnsafeRawBufferPointer(rebasing: receiveBuffer[start..<(start + length)]), socket: socket)
            }
            if Int(n) < Self.receiveSlots { pump(); return }
        }
        pump()
        // Data may remain, and a read source need not fire again for it (no new arrival):
        // come back after whatever else is queued.
        queue.async { [weak self, weak socket] in
            guard let self, let socket, self.socketsByIndex[socket.index] === socket else { return }
            self.drain(socket)
        }
    }

    /// Reads the socket's error queue to the end, giving each error to the query it
    /// belongs to (same socket, destination and ID). Returns how many entries it read.
    @discardableResult
    private func drainErrorQueue(_ socket: UDPSocket) -> Int {
        var count = 0
        while let entry = socket.receiveError(into: errorBuffer) {
            count += 1
            stats.icmpErrors += 1
            guard let destination = entry.destination, entry.length >= 2 else { stats.icmpErrorsUnmatched += 1; continue }
            let id = UInt16(errorBuffer[0]) << 8 | UInt16(errorBuffer[1])
            guard let q = pendingUDP[UDPKey(socket: socket.index, server: destination, id: id)], !q.done else {
                stats.icmpErrorsUnmatched += 1
                continue
            }
            let code = entry.errno
            let error: TransportError = code == ECONNREFUSED ? .connectionRefused(.udp) : .unreachable(errnoText(code))
            finish(q, .failure(error), transport: .udp, rtt: nil)
        }
        if count == 0 { socket.clearPendingError() }
        return count
    }

    /// Sockets with ICMP errors queued: read their error queues.
    private func drainErrors() {
        var tokens = [UInt64](repeating: 0, count: 64)
        let n = CDNSPropShims_error_watch_ready(errorWatch, &tokens, Int32(tokens.count))
        guard n > 0 else { return }
        for token in tokens[0..<Int(n)] {
            if let socket = socketsByIndex[Int(token)] { drainErrorQueue(socket) }
        }
        pump()
    }

    private func handleDatagram(from: ServerAddress, bytes: UnsafeRawBufferPointer, socket: UDPSocket) {
        guard bytes.count >= 2 else { stats.unsolicited += 1; return }
        let id = UInt16(bytes[0]) << 8 | UInt16(bytes[1])
        guard let q = pendingUDP[UDPKey(socket: socket.index, server: from, id: id)], !q.done else {
            stats.unsolicited += 1
            return
        }
        let message: Message
        do {
            message = try MessageDecoder.decode(bytes)
        } catch {
            // Keep waiting: a forged or garbled packet must not cut short a real answer.
            stats.malformed += 1
            q.dropped += 1
            q.lastMalformed = error
            return
        }
        guard accepts(message, for: q) else {
            stats.mismatched += 1
            q.dropped += 1
            return
        }
        let now = MonotonicClock.now()
        var sentAt = now
        for send in q.sends where send.socket === socket && send.id == id { sentAt = send.sentAt }
        if q.sends.count > 1 && q.sends.last!.id != id { stats.lateAnswers += 1 }
        let rtt = Double(now - sentAt) / 1e9
        answered(q.server, rtt: rtt)
        stats.responsesAccepted += 1
        if message.header.flags.contains(.tc) {
            stats.tcpFallbacks += 1
            forgetUDP(q)
            releaseSlot(q)
            sendTCP(q)
            return
        }
        finish(q, .success(message), transport: .udp, rtt: rtt)
    }

    /// An answer came from `st`: measure, mark it answering, grow the windows.
    private func answered(_ st: ServerState, rtt: Double) {
        st.rtt.add(rtt)
        allRTT.add(rtt)
        st.answered += 1
        if st.consecutiveTimeouts > 0 {
            st.consecutiveTimeouts = 0
            // Queued work moves to the main ring when next popped.
        }
        grow(&st.window, threshold: st.threshold, limit: max(1, configuration.maxInFlightPerServer))
        // The batch window regrows faster than a server's (one per answer: it doubles each
        // round trip): its losses come from many servers, and one slow server must not
        // throttle the whole list for long.
        batchWindow = min(batchWindow + 1, Double(max(1, configuration.maxInFlight)))
    }

    /// QR set and the same question. An error answer (FORMERR, NOTIMP, REFUSED,
    /// SERVFAIL) without a question section is accepted too: servers send those,
    /// and the ID, address, port and socket already matched.
    private func accepts(_ message: Message, for q: InFlightQuery) -> Bool {
        guard message.header.flags.contains(.qr) else { return false }
        if message.questions.count == 1 { return message.questions[0].matches(q.request.query.question) }
        if message.questions.isEmpty {
            switch message.rcode {
            case .formErr, .notImp, .refused, .servFail: return true
            default: return false
            }
        }
        return false
    }

    private func forgetUDP(_ q: InFlightQuery) {
        for send in q.sends {
            if pendingUDP.removeValue(forKey: UDPKey(socket: send.socket.index, server: q.request.server, id: send.id)) != nil {
                send.socket.pending -= 1
                if send.socket.retired && send.socket.pending == 0 { closeSocket(send.socket) }
            }
        }
        q.sends.removeAll()
        if let own = q.ownSocket, own.pending == 0 {
            closeSocket(own)
            q.ownSocket = nil
        }
    }

    // MARK: - TCP

    private func sendTCP(_ q: InFlightQuery) {
        let server = q.request.server
        let connection: TCPConnection
        if let existing = tcpConnections[server], !existing.isClosed {
            connection = existing
        } else {
            do {
                connection = try TCPConnection(server: server, queue: queue) { [weak self] c, event in
                    self?.handleTCP(event, on: c)
                }
            } catch {
                finish(q, .failure(error), transport: .tcp, rtt: nil)
                return
            }
            tcpConnections[server] = connection
        }
        var id = ids.nextID()
        while connection.waiting[id] != nil { id = ids.nextID() }
        connection.waiting[id] = q
        connection.idleGeneration += 1
        let now = MonotonicClock.now()
        q.tcp = (connection, id, now)
        q.generation += 1
        deadlines.insert(now + MonotonicClock.nanoseconds(configuration.tcpTimeout), .tcp(q, q.generation))
        connection.send(q.request.query.wire(id: id))
    }

    private func handleTCP(_ event: TCPConnection.Event, on connection: TCPConnection) {
        switch event {
        case .connected:
            break
        case .yielded:
            stats.tcpReadYields += 1
        case .message(let bytes):
            guard bytes.count >= 2 else { stats.unsolicited += 1; return }
            let id = UInt16(bytes[0]) << 8 | UInt16(bytes[1])
            guard let q = connection.waiting[id], !q.done, let tcp = q.tcp else {
                stats.unsolicited += 1
                return
            }
            let rtt = Double(MonotonicClock.now() - tcp.sentAt) / 1e9
            do {
                let message = try MessageDecoder.decode(bytes)
                guard accepts(message, for: q) else {
                    stats.mismatched += 1
                    q.dropped += 1
                    return
                }
                connection.waiting[id] = nil
                stats.responsesAccepted += 1
                // A truncated TCP answer is final: there is nowhere further to go.
                finish(q, .success(message), transport: .tcp, rtt: rtt)
            } catch {
                stats.malformed += 1
                connection.waiting[id] = nil
                finish(q, .failure(.malformed(error)), transport: .tcp, rtt: rtt)
            }
            scheduleIdleClose(connection)
        case .closed(let error):
            if tcpConnections[connection.server] === connection { tcpConnections[connection.server] = nil }
            let orphans = connection.waiting.values
            connection.waiting.removeAll()
            let wasReused = connection.answered > 0
            for q in orphans where !q.done {
                // A server may close an idle connection just as we reuse it: one fresh try.
                if wasReused && !q.tcpRetried {
                    q.tcpRetried = true
                    q.tcp = nil
                    sendTCP(q)
                } else {
                    finish(q, .failure(error), transport: .tcp, rtt: nil)
                }
            }
        }
    }

    private func scheduleIdleClose(_ connection: TCPConnection) {
        guard connection.waiting.isEmpty, !connection.isClosed else { return }
        connection.idleGeneration += 1
        deadlines.insert(MonotonicClock.now() + 1_000_000_000, .tcpIdle(connection, connection.idleGeneration))
        armTimer()
    }

    // MARK: - Completion

    private func finish(_ q: InFlightQuery, _ outcome: Result<Message, TransportError>, transport: Transport, rtt: Double?) {
        guard !q.done else { return }
        q.done = true
        forgetUDP(q)
        if let tcp = q.tcp, tcp.connection.waiting[tcp.id] === q { tcp.connection.waiting[tcp.id] = nil }
        if q.queued {
            q.queued = false
            waitingTotal -= 1
        }
        releaseSlot(q)
        let result = QueryResult(index: q.index, request: q.request, outcome: outcome, attempts: q.attempts,
                                 transport: transport, rtt: rtt, completedAt: MonotonicClock.wallSeconds(),
                                 dropped: q.dropped)
        q.batch.onResult(result)
        q.batch.remaining -= 1
        if q.batch.remaining == 0 { q.batch.onComplete() }
    }
}

private extension TransportError {
    var isAddressFamilyUnsupported: Bool {
        if case .system(_, let e, _) = self { return e == EAFNOSUPPORT || e == EADDRNOTAVAIL }
        return false
    }
}

/// Gathers results from the engine's queue for the async API.
final class ResultCollector: @unchecked Sendable {   // guarded by `lock`
    private var results: [QueryResult?]
    private let lock = NSLockLike()

    init(count: Int) { results = Array(repeating: nil, count: count) }

    func store(_ r: QueryResult) { lock.withLock { results[r.index] = r } }
    /// The results in request order, moved out (the collector is empty afterwards).
    func ordered() -> [QueryResult] {
        lock.withLock {
            var out: [QueryResult] = []
            out.reserveCapacity(results.count)
            for i in results.indices { if let r = results[i].take() { out.append(r) } }
            return out
        }
    }
}
