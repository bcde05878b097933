#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import DNSProp

/// The engine against what the real Internet does to it: ports that answer with
/// ICMP errors, silent servers among live ones, servers that drop answers when
/// pushed. All on loopback, with in-process responders.
@Suite("Query engine on a hostile network", .serialized)
struct EngineRealNetworkTests {
    /// An address on loopback whose UDP port nobody listens on: the kernel answers with ICMP port unreachable.
    static func closedPort() throws -> ServerAddress {
        let probe = try TestResponder(tcp: false) { _ in [] }
        let address = probe.address
        probe.stop()
        return address
    }

    @Test func icmpErrorsAreAttributedToTheQueryTheyBelongTo() async throws {
        // Live and refusing servers interleaved, every query on the same two sockets: the
        // kernel reports each ICMP error on the next sendto of that socket, whoever it is for.
        var live: [TestResponder] = []
        var dead: [ServerAddress] = []
        for i in 0..<40 {
            live.append(try TestResponder(tcp: false) { q in [.reply(Answer.a(q.message, "192.0.2.\(i % 250)"))] })
            dead.append(try Self.closedPort())
        }
        defer { live.forEach { $0.stop() } }
        var c = QueryEngineTests.config(timeout: 2, retries: 2)
        c.socketsPerFamily = 2
        let types: [RecordType] = [.a, .aaaa, .mx]
        var requests: [QueryRequest] = []
        for i in 0..<40 {
            for t in types {
                requests.append(QueryEngineTests.request(live[i].address, "example.com", t))
                requests.append(QueryEngineTests.request(dead[i], "example.com", t))
            }
        }
        let (results, stats) = await QueryEngineTests.run(requests, c)
        #expect(results.count == requests.count)
        let liveSet = Set(live.map(\.address))
        var wrong: [String] = []
        for r in results {
            if liveSet.contains(r.request.server) {
                if r.message == nil || r.attempts != 1 { wrong.append("live \(r.request.server): \(r.outcome) after \(r.attempts)") }
            } else if r.error != .connectionRefused(.udp) || r.attempts != 1 {
                wrong.append("dead \(r.request.server): \(r.outcome) after \(r.attempts)")
            }
        }
        #expect(wrong.count == 0, "first wrong: \(wrong.prefix(5))")
        // Every query went out exactly once: none lost to another's error, none retried.
        for r in live { #expect(r.received.count == types.count) }
        #expect(stats.queriesSent == requests.count)
        #expect(stats.retransmissions == 0)
    }
}
