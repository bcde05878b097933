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

    /// Sends one datagram; returns 0 or the errno.
    func send(_ bytes: [UInt8], to server: ServerAddress) -> Int32 {
        let n = bytes.withUnsafeBytes { buf in
            server.withSockAddr { sendto(fd, buf.baseAddress, buf.count, 0, $0, $1) }
        }
        return n < 0 ? errno : 0
    }

    enum Received {
        case datagram(from: ServerAddress, length: Int)
        /// An ICMP error for a datagram we sent: its destination, its first bytes, the errno.
        case icmpError(destination: ServerAddress, length: Int, errno: Int32)
        case wouldBlock
        case other(Int32)
    }

    /// Reads one datagram (or one queued ICMP error) into `buffer`.
    func receive(into buffer: UnsafeMutableRawBufferPointer) -> Received {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let n = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                recvfrom(fd, buffer.baseAddress, buffer.count, 0, $0, &length)
            }
        }
        if n >= 0 {
            guard let from = withUnsafePointer(to: &storage, { ServerAddress(storage: $0) }) else { return .other(EAFNOSUPPORT) }
            return .datagram(from: from, length: n)
        }
        let e = errno
        if e == EAGAIN || e == EWOULDBLOCK { return .wouldBlock }
        if e == EINTR { return .other(EINTR) }
        // With IP_RECVERR, an ICMP error surfaces as a failed recvfrom; the details wait in the error queue.
        var destination = sockaddr_storage()
        var destinationLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
        var icmpErrno: Int32 = 0
        let m = CDNSPropShims_recv_error(fd, buffer.baseAddress, buffer.count, &destination, &destinationLength, &icmpErrno)
        if m >= 0, let to = withUnsafePointer(to: &destination, { ServerAddress(storage: $0) }) {
            return .icmpError(destination: to, length: Int(m), errno: icmpErrno != 0 ? icmpErrno : e)
        }
        return .other(e)
    }

    /// Stops reading and closes the descriptor (in the source's cancel handler).
    func invalidate() {
        source?.cancel()
        source = nil
    }
}
