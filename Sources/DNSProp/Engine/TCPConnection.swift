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
        /// The connection is gone; `detail` says how (refused, reset, closed mid-answer…).
        case closed(TransportError)
    }

    let server: ServerAddress
    private let fd: Int32
    private var readSource: DispatchSourceRead?
    private var writeSource: DispatchSourceWrite?
    private var writeSourceRunning = false
    private var outgoing: [UInt8] = []
    private var incoming: [UInt8] = []
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

    private func readable() {
        guard !isClosed else { return }
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { break }
                fail(errno == ECONNREFUSED ? .connectionRefused(.tcp) : .tcpFailed("receive: \(errnoText(errno))"))
                return
            }
            if n == 0 {
                let detail: String
                if incoming.count >= 2 {
                    let expected = Int(incoming[0]) << 8 | Int(incoming[1])
                    detail = "server closed the connection after \(incoming.count - 2) of \(expected) bytes of an answer"
                } else if incoming.count == 1 {
                    detail = "server closed the connection inside a length prefix"
                } else {
                    detail = "server closed the connection without answering"
                }
                fail(.tcpFailed(detail))
                return
            }
            incoming += chunk[0..<n]
            deliverFrames()
            if isClosed { return }
        }
    }

    private func deliverFrames() {
        while incoming.count >= 2 {
            let length = Int(incoming[0]) << 8 | Int(incoming[1])
            guard incoming.count >= 2 + length else { return }
            let message = Array(incoming[2..<(2 + length)])
            incoming.removeFirst(2 + length)
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
