#if canImport(Glibc)
import Glibc
#endif
import Dispatch

/// One TCP connection to one server (RFC 7766): 2-byte length framing, queries
/// pipelined and matched to answers by ID, reused while the server keeps it open.
///
/// `@unchecked Sendable` because it is confined to the engine's serial queue:
/// its dispatch sources target that queue and the engine calls it only from
/// there. The engine owns it and is told of every event through `events`.
final class TCPConnection: @unchecked Sendable {
    enum Event {
        case connected
        case message([UInt8])
        /// A read stopped at its budget with data left: other work runs before the rest.
        case yielded
        /// The connection is gone; `detail` says how (refused, reset, closed mid-answer…).
        case closed(TransportError)
    }

    let server: ServerAddress
    private let fd: Int32
    private let queue: DispatchQueue
    private var readSource: DispatchSourceRead?
    private var writeSource: DispatchSourceWrite?
    private var writeSourceRunning = false
    private var outgoing: [UInt8] = []
    private var incoming = FrameBuffer()
    private(set) var isConnected = false
    private(set) var isClosed = false
    /// Queries sent on this connection and not yet answered, by ID.
    var waiting: [UInt16: InFlightQuery] = [:]
    /// Answers received so far: a connection that has answered before may be closed by the server as idle.
    private(set) var answered = 0
    var idleGeneration = 0
    private let events: (TCPConnection, Event) -> Void

    /// Largest framed message: the 2-byte length prefix caps it at 65535.
    static let maximumMessage = 65535

    init(server: ServerAddress, queue: DispatchQueue, events: @escaping (TCPConnection, Event) -> Void) throws(TransportError) {
        self.server = server
        self.events = events
        self.queue = queue
        let fd = socket(server.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .system(call: "socket", errno: errno, message: errnoText(errno)) }
        var on: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
        let rc = server.withSockAddr { connect(fd, $0, $1) }
        if rc != 0 && errno != EINPROGRESS {
            let e = errno
            Glibc.close(fd)
            throw e == ECONNREFUSED ? .connectionRefused(.tcp) : .tcpFailed("connect: \(errnoText(e))")
        }
        self.fd = fd
        if rc == 0 { isConnected = true }

        // Sources are created here but their handlers hop through `self` weakly:
        // the engine's dictionary is the owner.
        let read = DispatchSource.makeReadSource(fileDescriptor: fd, queue: queue)
        let write = DispatchSource.makeWriteSource(fileDescriptor: fd, queue: queue)
        read.setEventHandler { [weak self] in self?.readable() }
        write.setEventHandler { [weak self] in self?.writable() }
        // The descriptor is closed once both sources are cancelled.
        let group = DispatchGroup()
        group.enter(); group.enter()
        read.setCancelHandler { group.leave() }
        write.setCancelHandler { group.leave() }
        group.notify(queue: queue) { Glibc.close(fd) }
        readSource = read
        writeSource = write
        read.activate()
        write.activate()
        writeSourceRunning = true
    }

    /// Queues one framed message.
    func send(_ message: [UInt8]) {
        guard !isClosed else { return }
        outgoing.append(UInt8(message.count >> 8))
        outgoing.append(UInt8(message.count & 0xFF))
        outgoing += message
        if !writeSourceRunning {
            writeSource?.resume()
            writeSourceRunning = true
        }
    }

    private func writable() {
        guard !isClosed else { return }
        if !isConnected {
            var err: Int32 = 0
            var len = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len)
            if err != 0 {
                fail(err == ECONNREFUSED ? .connectionRefused(.tcp) : .tcpFailed("connect: \(errnoText(err))"))
                return
            }
            isConnected = true
            events(self, .connected)
        }
        while !outgoing.isEmpty {
            let n = outgoing.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { return }
                fail(.tcpFailed("send: \(errnoText(errno))"))
                return
            }
            outgoing.removeFirst(n)
        }
        if writeSourceRunning {
            writeSource?.suspend()
            writeSourceRunning = false
        }
    }

    /// Bytes read per readable event at most: a server streaming frames cannot hold the
    /// engine's queue (and with it every deadline); the source fires again while data remains.
    static let readBudget = 65536

    private func readable() {
        guard !isClosed else { return }
        var total = 0
        while total < Self.readBudget {
            let n = incoming.withSpace(min(16384, Self.readBudget - total)) { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { return }
                fail(errno == ECONNREFUSED ? .connectionRefused(.tcp) : .tcpFailed("receive: \(errnoText(errno))"))
                return
            }
            if n == 0 {
                let detail: String
                if let expected = incoming.announcedLength {
                    detail = "server closed the connection after \(incoming.count - 2) of \(expected) bytes of an answer"
                } else if incoming.count == 1 {
                    detail = "server closed the connection inside a length prefix"
                } else {
                    detail = "server closed the connection without answering"
                }
                fail(.tcpFailed(detail))
                return
            }
            total += n
            deliverFrames()
            if isClosed { return }
        }
        events(self, .yielded)
        // Data may remain without a new arrival to fire the source again: continue after
        // whatever else is queued (deadlines, other sockets).
        queue.async { [weak self] in self?.readable() }
    }

    private func deliverFrames() {
        while let message = incoming.nextFrame() {
            answered += 1
            events(self, .message(message))
            if isClosed { return }
        }
    }

    private func fail(_ error: TransportError) {
        guard !isClosed else { return }
        close()
        events(self, .closed(error))
    }

    /// Closes without an event (the engine decided).
    func close() {
        guard !isClosed else { return }
        isClosed = true
        readSource?.cancel()
        if !writeSourceRunning { writeSource?.resume() }  // a suspended source cannot complete its cancellation
        writeSource?.cancel()
        writeSourceRunning = true
        readSource = nil
        writeSource = nil
    }
}

/// Received TCP bytes and the 2-byte-length frames in them (RFC 1035 §4.2.2). Consumed
/// bytes are skipped by an offset and compacted only when they are at least half the
/// storage, so each byte is copied O(1) times however the frames arrive.
struct FrameBuffer {
    private var storage: [UInt8] = []
    private var head = 0

    /// Bytes received and not yet taken as frames.
    var count: Int { storage.count - head }

    /// The length a partial frame announces, once its prefix is complete.
    var announcedLength: Int? {
        count >= 2 ? Int(storage[head]) << 8 | Int(storage[head + 1]) : nil
    }

    /// Lets `body` write up to `capacity` bytes at the end; keeps what it reports written.
    mutating func withSpace(_ capacity: Int, _ body: (UnsafeMutableRawBufferPointer) -> Int) -> Int {
        if head > 0 && head * 2 >= storage.count {
            storage.removeFirst(head)
            head = 0
        }
        let old = storage.count
        storage.append(contentsOf: repeatElement(0, count: capacity))
        let n = storage.withUnsafeMutableBytes { body(UnsafeMutableRawBufferPointer(rebasing: $0[old...])) }
        storage.removeLast(capacity - max(0, n))
        return n
    }

    /// Removes and returns the next whole frame's message, if one is complete.
    mutating func nextFrame() -> [UInt8]? {
        guard let length = announcedLength, count >= 2 + length else { return nil }
        let message = Array(storage[(head + 2)..<(head + 2 + length)])
        head += 2 + length
        if head == storage.count {
            storage.removeAll(keepingCapacity: true)
            head = 0
        }
        return message
    }
}
