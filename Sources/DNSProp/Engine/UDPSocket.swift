#if canImport(Glibc)
import Glibc
#endif
import CDNSPropShims
import Dispatch

/// A non-blocking UDP socket bound to port 0 (the kernel picks a random source
/// port), read by a `DispatchSourceRead` on the engine's queue.
///
/// `@unchecked Sendable` because it is confined to the engine's serial queue:
/// created, read and closed only there.
final class UDPSocket: @unchecked Sendable {
    let fd: Int32
    let family: Int32
    let index: Int
    private var source: DispatchSourceRead?
    /// Queries sent from this socket, over its life.
    var queriesSent = 0
    /// Attempts sent from it that are still awaited (entries in the engine's table).
    var pending = 0
    /// Takes no new queries; closed once `pending` reaches 0.
    var retired = false
    /// Opened for one query (counted against `maxFreshSockets`).
    var isFresh = false

    init(family: Int32, index: Int) throws(TransportError) {
        let fd = socket(family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .system(call: "socket", errno: errno, message: errnoText(errno)) }
        if family == AF_INET6 {
            var on: Int32 = 1  // IPv6 only: IPv4 servers get their own sockets.
            setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &on, socklen_t(MemoryLayout<Int32>.size))
        }
        // A larger receive buffer absorbs bursts of answers (and floods) without loss.
        var size: Int32 = 4 << 20
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        _ = CDNSPropShims_enable_recverr(fd, family)
        let bound: Int32
        if family == AF_INET6 {
            var sa = sockaddr_in6()
            sa.sin6_family = sa_family_t(AF_INET6)
            bound = withUnsafePointer(to: &sa) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        } else {
            var sa = sockaddr_in()
            sa.sin_family = sa_family_t(AF_INET)
            bound = withUnsafePointer(to: &sa) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
        guard bound == 0 else {
            let e = errno
            Glibc.close(fd)
            throw .system(call: "bind", errno: e, message: errnoText(e))
        }
        self.fd = fd
        self.family = family
        self.index = index
    }

    func startReading(on queue: DispatchQueue, handler: @escaping @Sendable () -> Void) {
        let source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: queue)
        source.setEventHandler(handler: handler)
        let fd = self.fd
        source.setCancelHandler { Glibc.close(fd) }
        source.activate()
        self.source = source
    }

    /// Sends `template` with `id` in its first two bytes, assembled in `scratch` (no
    /// allocation per query); returns 0 or the errno.
    func send(template: [UInt8], id: UInt16, to server: ServerAddress, scratch: UnsafeMutableRawBufferPointer) -> Int32 {
        let count = min(template.count, scratch.count)
        guard count >= 2 else { return EINVAL }
        template.withUnsafeBytes { scratch.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: count) }
        scratch[0] = UInt8(id >> 8)
        scratch[1] = UInt8(id & 0xFF)
        let n = server.withSockAddr { sendto(fd, scratch.baseAddress, count, 0, $0, $1) }
        return n < 0 ? errno : 0
    }

    /// One entry of the error queue: where the datagram that caused it was sent, its first
    /// bytes in `buffer` (our query, so its ID), and the errno the ICMP message maps to.
    /// nil when the queue is empty.
    func receiveError(into buffer: UnsafeMutableRawBufferPointer) -> (destination: ServerAddress?, length: Int, errno: Int32)? {
        var destination = sockaddr_storage()
        var destinationLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
        var icmpErrno: Int32 = 0
        let m = CDNSPropShims_recv_error(fd, buffer.baseAddress, buffer.count, &destination, &destinationLength, &icmpErrno)
        guard m >= 0 else { return nil }
        let to = withUnsafePointer(to: &destination) { ServerAddress(storage: $0) }
        return (to, Int(m), icmpErrno)
    }

    /// Clears an error left pending without an entry in the error queue (the queue was
    /// full when it came): otherwise the error watch would report the socket forever.
    func clearPendingError() {
        var err: Int32 = 0
        var len = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len)
    }

    /// Stops reading and closes the descriptor (in the source's cancel handler).
    func invalidate() {
        source?.cancel()
        source = nil
    }
}
