import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import DNSProp
@testable import DNSPropServe

/// A blocking TCP client on loopback: enough to send a request line and read the reply to EOF.
struct LoopbackClient {
    let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var tv = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard rc == 0 else { close(fd); throw Failure(what: "connect \(errno)") }
    }
    struct Failure: Error { var what: String }

    func send(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Everything until the server closes (or the 10 s timeout).
    func readAll() -> String { readToClose().text }

    /// What arrived, and whether the server closed the connection (false: the 10 s timeout passed).
    func readToClose() -> (text: String, closed: Bool) {
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { return (String(decoding: out, as: UTF8.self), true) }
            if n < 0 { return (String(decoding: out, as: UTF8.self), errno == ECONNRESET) }
            out += buf[0..<n]
        }
    }

    func shut() { close(fd) }
}

@Suite(.serialized) struct DashboardServerTests {
    static func routes() -> DashboardRoutes {
        DashboardRoutes(dashboard: Fixture.dashboard(), page: StatusPage(mapData: StatusPageMap.data))
    }

    @Test func servesMetricsAndRefusesOtherMethods() async throws {
        let server = try await DashboardServer.start(ListenAddress(host: "127.0.0.1", port: 0), routes: Self.routes())
        let port = server.boundAddress.port
        #expect(port > 0)

        let get = try LoopbackClient(port: port)
        get.send("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        let reply = get.readAll()
        get.shut()
        #expect(reply.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(reply.lowercased().contains("content-type: text/plain; version=0.0.4; charset=utf-8"))
        #expect(reply.contains("dnsprop_resolvers{status=\"stale\"} 1"))

        let post = try LoopbackClient(port: port)
        post.send("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc")
        #expect(post.readAll().hasPrefix("HTTP/1.1 405"))
        post.shut()

        let head = try LoopbackClient(port: port)
        head.send("HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        let headReply = head.readAll()
        head.shut()
        #expect(headReply.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(headReply.hasSuffix("\r\n\r\n"))          // headers only
        #expect(headReply.contains("Content-Security-Policy: default-src 'none'"))

        let garbage = try LoopbackClient(port: port)
        garbage.send("\u{1}\u{2} NOT HTTP\r\n\r\n")
        // 400, and the connection is closed (it does not hold a slot until the idle timeout).
        let bad = garbage.readToClose()
        #expect(bad.text.hasPrefix("HTTP/1.1 400") && bad.closed)
        garbage.shut()
        await server.stop()
    }

    @Test func connectionsAreBounded() async throws {
        let server = try await DashboardServer.start(ListenAddress(host: "127.0.0.1", port: 0), routes: Self.routes(), maxConnections: 2)
        let port = server.boundAddress.port
        let a = try LoopbackClient(port: port), b = try LoopbackClient(port: port)
        // Wait until the server has accepted both (they hold their slots while idle).
        for _ in 0..<1000 where server.openConnections < 2 { try await Task.sleep(nanoseconds: 10_000_000) }
        #expect(server.openConnections == 2)
        let c = try LoopbackClient(port: port)
        c.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(c.readAll() == "")        // closed on accept, nothing served
        c.shut()
        // A held connection is still served.
        a.send("GET /status.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(a.readAll().hasPrefix("HTTP/1.1 200 OK"))
        a.shut(); b.shut()
        await server.stop()
    }

    @Test func anAddressInUseIsAnError() async throws {
        let first = try await DashboardServer.start(ListenAddress(host: "127.0.0.1", port: 0), routes: Self.routes())
        await #expect(throws: (any Error).self) {
            let second = try await DashboardServer.start(first.boundAddress, routes: Self.routes())
            await second.stop()
        }
        await first.stop()
    }
}
