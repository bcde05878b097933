#if canImport(Glibc)
import Glibc
#endif
import Dispatch
@testable import DNSProp

/// A small DNS server inside the test process, on loopback, whose behaviour a
/// test scripts per query. Answers are built with ldns (`MessageEncoder`).
final class TestResponder: @unchecked Sendable {   // state guarded by `queue`
    enum Action {
        /// Send these bytes back over the transport the query came on.
        case reply([UInt8])
        case replyAfter(Double, [UInt8])
        /// Send from a different socket (another source port).
        case replyFromOtherPort([UInt8])
        /// Over UDP: send these bytes to another address (an earlier query's source, say).
        case replyTo(ServerAddress, [UInt8])
        /// Over TCP: write these raw bytes (framing included) and close.
        case tcpRaw([UInt8])
        case closeTCP
        /// Over TCP: stream zero-length frames (two zero bytes each) as fast as the peer takes
        /// them, for this many seconds or until the peer closes.
        case tcpFlood(Double)
    }

    struct Query {
        let message: Message
        let bytes: [UInt8]
        let from: ServerAddress
        let overTCP: Bool
        /// Monotonic nanoseconds when it was read.
        var receivedAt: UInt64 = 0
        /// Over UDP: when the kernel took the datagram in (SO_TIMESTAMPNS; wall-clock
        /// nanoseconds, for differences only). On loopback that is when it was sent,
        /// however late a loaded machine lets this responder read it.
        var sentAt: UInt64? = nil
    }

    let address: ServerAddress
    private let queue = DispatchQueue(label: "test.responder")
    private let udpFD: Int32
    private let otherFD: Int32
    private let tcpFD: Int32
    private var sources: [DispatchSourceProtocol] = []
    private let handler: @Sendable (Query) -> [Action]
    private var _received: [Query] = []
    private var outstanding = 0
    private var _maxOutstanding = 0
    /// UDP queries dropped unread because `dropWhenOutstanding` were already waiting for their answer.
    private var _dropped = 0
    private let dropWhenOutstanding: Int?

    var received: [Query] { queue.sync { _received } }
    var maxOutstanding: Int { queue.sync { _maxOutstanding } }
    var dropped: Int { queue.sync { _dropped } }
    private var _floods = 0
    /// TCP floods still streaming.
    var floodsRunning: Int { queue.sync { _floods } }

    /// Binds UDP and TCP on `host` with one kernel-chosen port for both.
    /// With `dropWhenOutstanding` N, a UDP query that arrives while N delayed answers are
    /// still to be sent is dropped unanswered: a server whose queue overflows under a burst.
    init(host: String = "127.0.0.1", port fixedPort: UInt16? = nil, tcp: Bool = true,
         dropWhenOutstanding: Int? = nil,
         handler: @escaping @Sendable (Query) -> [Action]) throws {
        self.handler = handler
        self.dropWhenOutstanding = dropWhenOutstanding
        let family = host.contains(":") ? AF_INET6 : AF_INET
        let ip = IPAddress(host)!
        var port: UInt16 = 0
        var udp: Int32 = -1, stream: Int32 = -1
        // Find a port free for both UDP and TCP.
        for _ in 0..<50 {
            udp = socket(family, Int32(SOCK_DGRAM.rawValue), 0)
            var on: Int32 = 1
            let rc = ServerAddress(ip: ip, port: fixedPort ?? 0).withSockAddr { bind(udp, $0, $1) }
            guard rc == 0 else { throw ResponderError.bind(errno) }
            port = Self.localPort(udp)
            if !tcp { break }
            stream = socket(family, Int32(SOCK_STREAM.rawValue), 0)
            setsockopt(stream, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
            if ServerAddress(ip: ip, port: port).withSockAddr({ bind(stream, $0, $1) }) == 0 { break }
            close(udp); close(stream); stream = -1
        }
        udpFD = udp
        tcpFD = stream
        address = ServerAddress(ip: ip, port: port)
        otherFD = socket(family, Int32(SOCK_DGRAM.rawValue), 0)
        _ = ServerAddress(ip: ip, port: 0).withSockAddr { bind(otherFD, $0, $1) }
        for fd in [udpFD, otherFD, tcpFD] where fd >= 0 {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        }
        var on: Int32 = 1
        setsockopt(udpFD, SOL_SOCKET, Self.soTimestampNS, &on, socklen_t(MemoryLayout<Int32>.size))

        let udpSource = DispatchSource.makeReadSource(fileDescriptor: udpFD, queue: queue)
        udpSource.setEventHandler { [weak self] in self?.readUDP() }
        udpSource.activate()
        sources.append(udpSource)
        if tcpFD >= 0 {
            listen(tcpFD, 16)
            let accept = DispatchSource.makeReadSource(fileDescriptor: tcpFD, queue: queue)
            accept.setEventHandler { [weak self] in self?.acceptTCP() }
            accept.activate()
            sources.append(accept)
        }
    }

    private var stopped = false

    /// Idempotent: closing the descriptors twice could close someone else's that reused the number.
    func stop() {
        let first = queue.sync { () -> Bool in
            guard !stopped else { return false }
            stopped = true
            for s in sources { s.cancel() }
            sources.removeAll()
            return true
        }
        guard first else { return }
        close(udpFD); close(otherFD)
        if tcpFD >= 0 { close(tcpFD) }
    }

    deinit { }

    static func localPort(_ fd: Int32) -> UInt16 {
        var storage = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return withUnsafePointer(to: &storage) { ServerAddress(storage: $0)!.port }
    }

    /// SO_TIMESTAMPNS (= SCM_TIMESTAMPNS) in Linux's asm-generic/socket.h; glibc defines
    /// it through a macro that Swift does not import.
    static let soTimestampNS: Int32 = 35

    /// recvmsg with the kernel's receive timestamp (see `Query.sentAt`).
    private func receive(_ buffer: inout [UInt8], _ storage: inout sockaddr_storage) -> (Int, UInt64?) {
        var control = [UInt64](repeating: 0, count: 16)     // 8-byte aligned, room for one timespec message
        var msg = msghdr()
        let n = buffer.withUnsafeMutableBytes { buf in
            withUnsafeMutablePointer(to: &storage) { name in
                control.withUnsafeMutableBytes { ctl in
                    var iov = iovec(iov_base: buf.baseAddress, iov_len: buf.count)
                    return withUnsafeMutablePointer(to: &iov) { iovp in
                        msg.msg_name = UnsafeMutableRawPointer(name)
                        msg.msg_namelen = socklen_t(MemoryLayout<sockaddr_storage>.size)
                        msg.msg_iov = iovp
                        msg.msg_iovlen = 1
                        msg.msg_control = ctl.baseAddress
                        msg.msg_controllen = ctl.count
                        return recvmsg(udpFD, &msg, 0)
                    }
                }
            }
        }
        guard n > 0 else { return (n, nil) }
        // struct cmsghdr { size_t cmsg_len; int cmsg_level; int cmsg_type; data aligned to size_t }
        var stamp: UInt64? = nil
        control.withUnsafeBytes { ctl in
            var offset = 0
            let header = MemoryLayout<Int>.size + 8
            while offset + header <= min(Int(msg.msg_controllen), ctl.count) {
                let length = ctl.loadUnaligned(fromByteOffset: offset, as: Int.self)
                let level = ctl.loadUnaligned(fromByteOffset: offset + MemoryLayout<Int>.size, as: Int32.self)
                let type = ctl.loadUnaligned(fromByteOffset: offset + MemoryLayout<Int>.size + 4, as: Int32.self)
                guard length >= header else { break }
                if level == SOL_SOCKET && type == Self.soTimestampNS && offset + header + 16 <= ctl.count {
                    let seconds = ctl.loadUnaligned(fromByteOffset: offset + header, as: Int.self)
                    let nanoseconds = ctl.loadUnaligned(fromByteOffset: offset + header + MemoryLayout<Int>.size, as: Int.self)
                    stamp = UInt64(seconds) * 1_000_000_000 + UInt64(nanoseconds)
                }
                offset += (length + MemoryLayout<Int>.size - 1) & ~(MemoryLayout<Int>.size - 1)
            }
        }
        return (n, stamp)
    }

    private func readUDP() {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            var storage = sockaddr_storage()
            let (n, sentAt) = receive(&buffer, &storage)
            guard n > 0 else { return }
            let from = withUnsafePointer(to: &storage) { ServerAddress(storage: $0)! }
            let bytes = Array(buffer[0..<n])
            guard let message = try? MessageDecoder.decode(bytes) else { continue }
            if let limit = dropWhenOutstanding, outstanding >= limit {
                _dropped += 1
                continue
            }
            let query = Query(message: message, bytes: bytes, from: from, overTCP: false, receivedAt: MonotonicClock.now(), sentAt: sentAt)
            _received.append(query)
            let actions = handler(query)
            outstanding += 1
            _maxOutstanding = max(_maxOutstanding, outstanding)
            var delayed = false
            for action in actions {
                switch action {
                case .reply(let b): sendUDP(udpFD, b, to: from)
                case .replyFromOtherPort(let b): sendUDP(otherFD, b, to: from)
                case .replyTo(let address, let b): sendUDP(udpFD, b, to: address)
                case .replyAfter(let seconds, let b):
                    delayed = true
                    queue.asyncAfter(deadline: .now() + seconds) { [weak self] in
                        guard let self else { return }
                        self.sendUDP(self.udpFD, b, to: from)
                        self.outstanding -= 1
                    }
                case .tcpRaw, .closeTCP, .tcpFlood: break
                }
            }
            if !delayed { outstanding -= 1 }
        }
    }

    private func sendUDP(_ fd: Int32, _ bytes: [UInt8], to: ServerAddress) {
        _ = bytes.withUnsafeBytes { buf in to.withSockAddr { sendto(fd, buf.baseAddress, buf.count, 0, $0, $1) } }
    }

    private func acceptTCP() {
        while true {
            let fd = accept(tcpFD, nil, nil)
            guard fd >= 0 else { return }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            let source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: queue)
            let box = TCPBuffer()
            source.setEventHandler { [weak self] in
                guard let self else { return }
                var chunk = [UInt8](repeating: 0, count: 65536)
                let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n <= 0 {
                    if n == 0 || (errno != EAGAIN && errno != EINTR) { source.cancel() }
                    return
                }
                box.bytes += chunk[0..<n]
                while box.bytes.count >= 2 {
                    let length = Int(box.bytes[0]) << 8 | Int(box.bytes[1])
                    guard box.bytes.count >= 2 + length else { break }
                    let frame = Array(box.bytes[2..<(2 + length)])
                    box.bytes.removeFirst(2 + length)
                    guard let message = try? MessageDecoder.decode(frame) else { continue }
                    let query = Query(message: message, bytes: frame, from: self.address, overTCP: true)
                    self._received.append(query)
                    for action in self.handler(query) {
                        switch action {
                        case .reply(let b), .replyFromOtherPort(let b), .replyAfter(_, let b), .replyTo(_, let b):
                            Self.writeAll(fd, [UInt8(b.count >> 8), UInt8(b.count & 0xFF)] + b)
                        case .tcpRaw(let raw):
                            Self.writeAll(fd, raw)
                            source.cancel()
                            return
                        case .closeTCP:
                            source.cancel()
                            return
                        case .tcpFlood(let seconds):
                            // On its own thread and descriptor: the responder's queue stays free.
                            let flood = dup(fd)
                            self._floods += 1
                            let responder = self
                            DispatchQueue.global().async {
                                TestResponder.flood(flood, seconds: seconds)
                                close(flood)
                                responder.queue.async { responder._floods -= 1 }
                            }
                            source.cancel()
                            return
                        }
                    }
                }
            }
            source.setCancelHandler { close(fd) }
            source.activate()
            sources.append(source)
        }
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EAGAIN { usleep(1000); continue }
                return
            }
            offset += n
        }
    }

    private static func flood(_ fd: Int32, seconds: Double) {
        let zeros = [UInt8](repeating: 0, count: 65536)
        let end = MonotonicClock.now() + MonotonicClock.nanoseconds(seconds)
        while MonotonicClock.now() < end {
            let n = zeros.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EAGAIN || errno == EINTR { usleep(200); continue }
                return   // the peer closed
            }
        }
    }

    private final class TCPBuffer: @unchecked Sendable { var bytes: [UInt8] = [] }
}

enum ResponderError: Error { case bind(Int32) }

extension TestResponder {
    /// The port several responders share: nil until the first is bound (the kernel chooses it).
    final class SharedPort {
        private(set) var value: UInt16? = nil
        func callAsFunction() -> UInt16? { value }
        func set(_ port: UInt16) { if value == nil { value = port } }
    }

    /// Builds responders that share one port: the port the kernel gave the first address can be
    /// in use on another by the time that is bound (a world of another test being torn down,
    /// another process); then `reset` undoes the attempt and all are bound again on a new port.
    static func onOnePort(attempts: Int = 20, _ build: (SharedPort) throws -> Void, reset: () -> Void) throws {
        for attempt in 1... {
            do {
                try build(SharedPort())
                return
            } catch ResponderError.bind(let code) where code == EADDRINUSE && attempt < attempts {
                reset()
            }
        }
    }
}

/// Builders for answers.
enum Answer {
    static func to(_ query: Message, rcode: ResponseCode = .noError, flags: Header.Flags = [.qr, .rd, .ra],
                   answers: [ResourceRecord] = [], authority: [ResourceRecord] = [], id: UInt16? = nil,
                   question: Question? = nil, edns: EDNS? = nil) -> [UInt8] {
        let message = Message(header: Header(id: id ?? query.header.id, opcode: 0, rcode: rcode, flags: flags),
                              questions: [question ?? query.questions[0]], answers: answers, authority: authority,
                              additional: [], edns: edns)
        return try! MessageEncoder.encode(message)
    }

    static func a(_ query: Message, _ addresses: String..., ttl: UInt32 = 300, id: UInt16? = nil,
                  question: Question? = nil) -> [UInt8] {
        let name = (question ?? query.questions[0]).name
        return to(query, answers: addresses.map { ResourceRecord(owner: name, type: .a, ttl: ttl, rdataFields: [$0]) },
                  id: id, question: question)
    }
}
