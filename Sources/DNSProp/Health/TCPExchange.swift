#if canImport(Glibc)
import Glibc
#endif
import Dispatch

/// One DNS question over TCP (RFC 7766 framing), on its own non-blocking socket with
/// poll() for the deadline: `resolvers check` asks every resolver over TCP on purpose,
/// which the engine (TCP only after a truncated UDP answer) has no request option for.
/// Runs on a global Dispatch queue; callers bound how many run at once.
public enum TCPExchange {
    public struct Outcome: Sendable {
        public var message: Message?
        public var error: String?
        public var rtt: Double?
    }

    public static func ask(_ server: ServerAddress, _ template: QueryTemplate, timeout: Double) async -> Outcome {
        await withCheckedContinuation { (c: CheckedContinuation<Outcome, Never>) in
            DispatchQueue.global().async { c.resume(returning: exchange(server, template, timeout: timeout)) }
        }
    }

    static func exchange(_ server: ServerAddress, _ template: QueryTemplate, timeout: Double) -> Outcome {
        let fd = socket(server.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return Outcome(error: "socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let start = MonotonicTime.now()
        let deadline = start + timeout
        func wait(_ events: Int16) -> String? {
            let left = deadline - MonotonicTime.now()
            guard left > 0 else { return "no answer over TCP in time" }
            var p = pollfd(fd: fd, events: events, revents: 0)
            let rc = poll(&p, 1, Int32(max(1, (left * 1000).rounded(.up))))
            if rc == 0 { return "no answer over TCP in time" }
            if rc < 0 { return errno == EINTR ? wait(events) : "poll: \(String(cString: strerror(errno)))" }
            return nil
        }
        if server.withSockAddr({ connect(fd, $0, $1) }) != 0 && errno != EINPROGRESS {
            return Outcome(error: "TCP connect: \(String(cString: strerror(errno)))")
        }
        if let e = wait(Int16(POLLOUT)) { return Outcome(error: e) }
        var soError: Int32 = 0
        var len = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &len)
        if soError != 0 { return Outcome(error: "TCP connect: \(String(cString: strerror(soError)))") }
        let id = UInt16.random(in: 0...UInt16.max)
        let query = template.wire(id: id)
        let framed = [UInt8(query.count >> 8), UInt8(query.count & 0xFF)] + query
        var sent = 0
        while sent < framed.count {
            let n = framed[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n > 0 { sent += n; continue }
            if n < 0 && (errno == EAGAIN || errno == EINTR) { if let e = wait(Int16(POLLOUT)) { return Outcome(error: e) }; continue }
            return Outcome(error: "TCP send: \(String(cString: strerror(errno)))")
        }
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            if buffer.count >= 2 {
                let length = Int(buffer[0]) << 8 | Int(buffer[1])
                if buffer.count >= 2 + length {
                    let rtt = MonotonicTime.now() - start
                    do {
                        let m = try MessageDecoder.decode(Array(buffer[2..<(2 + length)]))
                        guard m.header.id == id, m.header.flags.contains(.qr), m.questions.first.map({ $0.matches(template.question) }) ?? false else {
                            return Outcome(error: "TCP answer to another question")
                        }
                        return Outcome(message: m, rtt: rtt)
                    } catch {
                        return Outcome(error: "malformed TCP answer: \(error)")
                    }
                }
            }
            if let e = wait(Int16(POLLIN)) { return Outcome(error: e) }
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 { buffer += chunk[0..<n]; continue }
            if n == 0 { return Outcome(error: "TCP connection closed before an answer") }
            if errno == EAGAIN || errno == EINTR { continue }
            return Outcome(error: "TCP receive: \(String(cString: strerror(errno)))")
        }
    }
}
