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
    var attempts = 0
    /// Bumped whenever a deadline is set; older deadlines are then ignored.
    var generation = 0
    /// Every UDP attempt: an answer to an earlier attempt is still accepted.
    var sends: [(socket: Int, id: UInt16, sentAt: UInt64)] = []
    var tcp: (connection: TCPConnection, id: UInt16, sentAt: UInt64)?
    var tcpRetried = false
    var dropped = 0
    var lastMalformed: WireError?
    var done = false

    init(batch: QueryBatch, index: Int, request: QueryRequest) {
        self.batch = batch
        self.index = index
        self.request = request
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
/// `@unchecked Sendable`: every stored property after `init` is read and
/// written only on `queue` (public methods hop onto it).
public final class QueryEngine: @unchecked Sendable {
    public let configuration: EngineConfiguration
    private let queue = DispatchQueue(label: "dnsprop.engine")
    private var timer: DispatchSourceTimer?
    private var timerArmed = false

    private var sockets: [Int32: [UDPSocket]] = [:]
    private var socketsByIndex: [Int: UDPSocket] = [:]
    /// An epoll set that reports sockets with queued ICMP errors (see CDNSPropShims).
    private var errorWatch: Int32 = -1
    private var errorWatchSource: DispatchSourceRead?
    private var socketFailure: [Int32: TransportError] = [:]
    private var nextSocket = 0
    private var ids = QueryIDSource()
    private var receiveBuffer: UnsafeMutableRawBufferPointer

    private struct UDPKey: Hashable {
        var socket: Int
        var server: ServerAddress
        var id: UInt16
    }
    private var pendingUDP: [UDPKey: InFlightQuery] = [:]

    private struct ServerState {
        var waiting: [InFlightQuery] = []
        var waitingHead = 0
        var inFlight = 0
        var nextAllowed: UInt64 = 0
        var inReadyRing = false
        var hasWaiting: Bool { waitingHead < waiting.count }
    }
    private var servers: [ServerAddress: ServerState] = [:]
    private var ready: [ServerAddress] = []
    private var readyHead = 0
    private var inFlight = 0
    private var waitingTotal = 0

    private enum Deadline {
        case udp(InFlightQuery, Int)
        case tcp(InFlightQuery, Int)
        case tcpIdle(TCPConnection, Int)
    }
    private var deadlines = DeadlineQueue<Deadline>()
    private var tcpConnections: [ServerAddress: TCPConnection] = [:]
    private var stats = EngineStatistics()
    private var isShutDown = false

    public init(configuration: EngineConfiguration = EngineConfiguration()) {
        self.configuration = configuration
        receiveBuffer = .allocate(byteCount: 65536, alignment: 16)
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
        for list in sockets.values { for s in list { s.invalidate() } }
        for c in tcpConnections.values { c.close() }
        receiveBuffer.deallocate()
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
                let q = InFlightQuery(batch: batch, index: i, request: request)
                if isShutDown {
                    finish(q, .failure(.system(call: "submit", errno: ECANCELED, message: "engine shut down")),
                           transport: .udp, rtt: nil)
                    continue
                }
                var st = servers[request.server] ?? ServerState()
                st.waiting.append(q)
                if !st.inReadyRing {
                    st.inReadyRing = true
                    ready.append(request.server)
                }
                servers[request.server] = st
                waitingTotal += 1
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
            for list in sockets.values { for s in list { s.invalidate() } }
            sockets.removeAll()
            socketsByIndex.removeAll()
            timer?.schedule(deadline: .distantFuture, repeating: .never)
            timerArmed = false
        }
    }

    // MARK: - Scheduling

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
                guard !q.done, generation == q.generation, q.tcp == nil else { continue }
                if q.attempts <= configuration.retries {
                    sendAttempt(q)
                } else {
                    finish(q, .failure(q.lastMalformed.map { .malformed($0) } ?? .timeout(attempts: q.attempts)),
                           transport: .udp, rtt: nil)
                }
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
            }
        }
        pump()
        if inFlight == 0 && waitingTotal == 0 && deadlines.isEmpty && timerArmed {
            timer?.schedule(deadline: .distantFuture, repeating: .never)
            timerArmed = false
        }
    }

    /// Starts as many waiting queries as the global and per-server limits allow.
    private func pump() {
        guard waitingTotal > 0 else { return }
        let now = MonotonicClock.now()
        let interval = configuration.maxRatePerServer > 0 ? UInt64(1e9 / configuration.maxRatePerServer) : 0
        var skippedInARow = 0
        while inFlight < configuration.maxInFlight && readyHead < ready.count {
            let server = ready[readyHead]
            readyHead += 1
            guard var st = servers[server] else { continue }
            if !st.hasWaiting || st.inFlight >= configuration.maxInFlightPerServer {
                // Put back into the ring when a query to it completes (or new work arrives).
                st.inReadyRing = false
                servers[server] = st
                continue
            }
            if st.nextAllowed > now {
                ready.append(server)
                skippedInARow += 1
                if skippedInARow >= ready.count - readyHead { break }
                continue
            }
            skippedInARow = 0
            let q = st.waiting[st.waitingHead]
            st.waitingHead += 1
            if st.waitingHead > 64 && st.waitingHead * 2 > st.waiting.count {
                st.waiting.removeFirst(st.waitingHead)
                st.waitingHead = 0
            }
            st.inFlight += 1
            st.nextAllowed = max(st.nextAllowed, now) + interval
            if st.hasWaiting { ready.append(server) } else { st.inReadyRing = false }
            servers[server] = st
            waitingTotal -= 1
            inFlight += 1
            sendAttempt(q)
        }
        if readyHead > 1024 && readyHead * 2 > ready.count {
            ready.removeFirst(readyHead)
            readyHead = 0
        }
    }

    // MARK: - UDP

    private func socketsFor(family: Int32) -> Result<[UDPSocket], TransportError> {
        if let list = sockets[family] { return .success(list) }
        if let failure = socketFailure[family] { return .failure(failure) }
        var list: [UDPSocket] = []
        do {
            for i in 0..<max(1, configuration.socketsPerFamily) {
                let index = Int(family) * 1000 + i
                let socket = try UDPSocket(family: family, index: index)
                socket.startReading(on: queue) { [weak self, weak socket] in
                    guard let self, let socket else { return }
                    self.drain(socket)
                }
                list.append(socket)
                socketsByIndex[index] = socket
                if errorWatch >= 0 { _ = CDNSPropShims_error_watch_add(errorWatch, socket.fd, UInt64(index)) }
            }
        } catch {
            for s in list { s.invalidate() }
            let failure: TransportError = error.isAddressFamilyUnsupported
                ? .unreachable("IPv\(family == AF_INET6 ? 6 : 4) is not available on this host") : error
            socketFailure[family] = failure
            return .failure(failure)
        }
        sockets[family] = list
        return .success(list)
    }

    private func sendAttempt(_ q: InFlightQuery) {
        let server = q.request.server
        let list: [UDPSocket]
        switch socketsFor(family: server.family) {
        case .success(let l): list = l
        case .failure(let e): finish(q, .failure(e), transport: .udp, rtt: nil); return
        }
        let socket = list[nextSocket % list.count]
        nextSocket &+= 1
        var id = ids.nextID()
        while pendingUDP[UDPKey(socket: socket.index, server: server, id: id)] != nil { id = ids.nextID() }
        let error = socket.send(q.request.query.wire(id: id), to: server)
        switch error {
        case 0, EAGAIN, EWOULDBLOCK, ENOBUFS, EINTR:
            // A datagram the kernel could not queue is a lost datagram: the retry covers it.
            break
        case ECONNREFUSED:
            finish(q, .failure(.connectionRefused(.udp)), transport: .udp, rtt: nil)
            return
        default:
            finish(q, .failure(.unreachable(errnoText(error))), transport: .udp, rtt: nil)
            return
        }
        let now = MonotonicClock.now()
        q.attempts += 1
        q.sends.append((socket.index, id, now))
        pendingUDP[UDPKey(socket: socket.index, server: server, id: id)] = q
        stats.queriesSent += 1
        if q.attempts > 1 { stats.retransmissions += 1 }
        var wait = configuration.timeout
        for _ in 1..<q.attempts { wait *= configuration.backoff }
        q.generation += 1
        deadlines.insert(now + MonotonicClock.nanoseconds(wait), .udp(q, q.generation))
    }

    private func drain(_ socket: UDPSocket) {
        // Bounded per event so that one flooded socket cannot starve the others;
        // the source fires again while data remains.
        for _ in 0..<512 {
            switch socket.receive(into: receiveBuffer) {
            case .wouldBlock:
                return
            case .other(let e):
                if e == EINTR { continue }
                return
            case .datagram(let from, let length):
                handleDatagram(from: from, length: length, socket: socket)
            case .icmpError(let destination, let length, let code):
                stats.icmpErrors += 1
                guard length >= 2 else { continue }
                let id = UInt16(receiveBuffer[0]) << 8 | UInt16(receiveBuffer[1])
                guard let q = pendingUDP[UDPKey(socket: socket.index, server: destination, id: id)], !q.done else { continue }
                let error: TransportError = code == ECONNREFUSED ? .connectionRefused(.udp) : .unreachable(errnoText(code))
                finish(q, .failure(error), transport: .udp, rtt: nil)
            }
        }
    }

    /// Sockets with ICMP errors queued: drain them (recvfrom reports the error, the queue gives details).
    private func drainErrors() {
        var tokens = [UInt64](repeating: 0, count: 64)
        let n = CDNSPropShims_error_watch_ready(errorWatch, &tokens, Int32(tokens.count))
        guard n > 0 else { return }
        for token in tokens[0..<Int(n)] {
            if let socket = socketsByIndex[Int(token)] { drain(socket) }
        }
    }

    private func handleDatagram(from: ServerAddress, length: Int, socket: UDPSocket) {
        guard length >= 2 else { stats.unsolicited += 1; return }
        let id = UInt16(receiveBuffer[0]) << 8 | UInt16(receiveBuffer[1])
        guard let q = pendingUDP[UDPKey(socket: socket.index, server: from, id: id)], !q.done else {
            stats.unsolicited += 1
            return
        }
        let message: Message
        do {
            message = try MessageDecoder.decode(UnsafeRawBufferPointer(rebasing: receiveBuffer[0..<length]))
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
        let sentAt = q.sends.first { $0.socket == socket.index && $0.id == id }?.sentAt ?? now
        stats.responsesAccepted += 1
        if message.header.flags.contains(.tc) {
            stats.tcpFallbacks += 1
            forgetUDP(q)
            sendTCP(q)
            return
        }
        finish(q, .success(message), transport: .udp, rtt: Double(now - sentAt) / 1e9)
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
        for send in q.sends { pendingUDP[UDPKey(socket: send.socket, server: q.request.server, id: send.id)] = nil }
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
        case .message(let bytes):
            guard bytes.count >= 2 else { return }
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
        if q.attempts > 0 || q.tcp != nil {
            // It held an in-flight slot.
            inFlight -= 1
            if var st = servers[q.request.server] {
                st.inFlight -= 1
                if st.hasWaiting && !st.inReadyRing {
                    st.inReadyRing = true
                    ready.append(q.request.server)
                }
                servers[q.request.server] = st
                if !st.hasWaiting && st.inFlight == 0 { servers[q.request.server] = nil }
            }
        }
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
    func ordered() -> [QueryResult] { lock.withLock { results.compactMap { $0 } } }
}

/// A pthread mutex, to avoid importing Foundation for NSLock.
final class NSLockLike: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    init() { pthread_mutex_init(&mutex, nil) }
    deinit { pthread_mutex_destroy(&mutex) }
    func withLock<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return try body()
    }
}
