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
    /// Addresses on loopback whose UDP ports nobody listens on: the kernel answers with ICMP
    /// port unreachable. Taken below the ephemeral range, so that no socket of the test
    /// (responders, the engine) can be given one of them while it runs.
    static func closedPorts(_ count: Int) -> [ServerAddress] {
        var out: [ServerAddress] = []
        var port = UInt16(20000 + Int(getpid() % 5000))
        while out.count < count && port < 32000 {
            port += 1
            let candidate = ServerAddress(ip: IPAddress("127.0.0.1")!, port: port)
            let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            let free = candidate.withSockAddr { bind(fd, $0, $1) } == 0
            close(fd)
            if free { out.append(candidate) }
        }
        return out
    }

    @Test func icmpErrorsAreAttributedToTheQueryTheyBelongTo() async throws {
        // Live and refusing servers interleaved, every query on the same two sockets: the
        // kernel reports each ICMP error on the next sendto of that socket, whoever it is for.
        var live: [TestResponder] = []
        for i in 0..<40 {
            live.append(try TestResponder(tcp: false) { q in [.reply(Answer.a(q.message, "192.0.2.\(i % 250)"))] })
        }
        let dead = Self.closedPorts(40)
        try #require(dead.count == 40)
        defer { live.forEach { $0.stop() } }
        var c = QueryEngineTests.config(timeout: 2, retries: 2)
        // No retransmission before 2 s: a live answer that a loaded machine delays past the
        // usual 0.3-s floor is not retried, while a query lost to another's error still is.
        c.minimumRetransmissionTimeout = 2
        c.socketsPerFamily = 2
        // The default rate: a server's second and third questions wait while errors for its
        // first arrive (an error that finishes a query then puts its server back in line
        // in the middle of a send).
        c.maxRatePerServer = 50
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

extension EngineRealNetworkTests {
    @Test func liveQueriesDoNotWaitBehindSilentOnes() async throws {
        // Ten queries in flight at most, and three silent servers for every live one, listed
        // first: the silent ones must not hold the budget that the live ones need.
        var live: [TestResponder] = []
        var silent: [TestResponder] = []
        for i in 0..<10 {
            live.append(try TestResponder(tcp: false) { q in [.reply(Answer.a(q.message, "192.0.2.\(i)"))] })
            for _ in 0..<3 { silent.append(try TestResponder(tcp: false) { _ in [] }) }
        }
        defer { (live + silent).forEach { $0.stop() } }
        var c = QueryEngineTests.config(timeout: 2, retries: 1)
        c.maxInFlight = 10
        var requests: [QueryRequest] = []
        for i in 0..<10 {
            for s in silent[(3 * i)..<(3 * i + 3)] { requests.append(QueryEngineTests.request(s.address)) }
            requests.append(QueryEngineTests.request(live[i].address))
        }
        let (results, stats) = await QueryEngineTests.run(requests, c)
        let liveSet = Set(live.map(\.address))
        let liveResults = results.filter { liveSet.contains($0.request.server) }
        let silentResults = results.filter { !liveSet.contains($0.request.server) }
        #expect(liveResults.allSatisfy { $0.message != nil && $0.attempts == 1 })
        #expect(silentResults.allSatisfy { $0.error == .timeout(attempts: 2) })
        // Every live answer is in before the first silent query has used up its attempts.
        let lastLive = liveResults.map(\.completedAt).max() ?? 0
        let firstSilent = silentResults.map(\.completedAt).min() ?? 0
        #expect(lastLive < firstSilent)
        #expect(stats.unresponsiveServers >= 30)
    }

    @Test func retransmissionFollowsTheMeasuredRoundTripNotTheTimeout() async throws {
        // Live servers answer at once; a silent one is retried after the RTO derived from
        // their round trips (at least 0.3 s), long before the 2.5 s upper bound.
        let live = try (0..<5).map { _ in try TestResponder(tcp: false) { q in [.reply(Answer.a(q.message, "192.0.2.1"))] } }
        let silent = try TestResponder(tcp: false) { _ in [] }
        defer { (live + [silent]).forEach { $0.stop() } }
        var c = QueryEngineTests.config(timeout: 2.5, retries: 2)
        c.backoff = 2.5
        let requests = live.map { QueryEngineTests.request($0.address) } + [QueryEngineTests.request(silent.address)]
        let (results, _) = await QueryEngineTests.run(requests, c)
        #expect(results.last?.error == .timeout(attempts: 3))
        // When the kernel took each attempt in (on loopback: when it was sent), not when the
        // silent responder got round to reading it: a loaded machine delays reads unevenly.
        await eventually { silent.received.count >= 3 }
        let times = silent.received.compactMap(\.sentAt)
        try #require(times.count == 3)
        let first = Double(times[1] - times[0]) / 1e9, second = Double(times[2] - times[1]) / 1e9
        #expect(first >= 0.29 && first < 2.0, "first retry after \(first) s")
        // Backoff applies to the RTO: the second wait is about 2.5 times the first (1.5 times
        // leaves 0.2 s for the engine's timer to fire late on a loaded machine).
        #expect(second > first * 1.5, "second retry after \(second) s, first after \(first) s")
    }

    @Test func aServerThatDropsABurstGetsASmallerWindowAndEveryAnswer() async throws {
        // Answers 30 ms late and drops every query that arrives while 2 answers are pending:
        // a burst of 8 loses 6. The engine must notice, shrink its window and get them all.
        let r = try TestResponder(tcp: false, dropWhenOutstanding: 2) { q in [.replyAfter(0.03, Answer.a(q.message, "192.0.2.1"))] }
        defer { r.stop() }
        var c = QueryEngineTests.config(timeout: 2, retries: 2)
        c.maxInFlightPerServer = 8
        let requests = (0..<40).map { QueryEngineTests.request(r.address, "n\($0).example.com") }
        let (results, stats) = await QueryEngineTests.run(requests, c)
        let unanswered = results.filter { $0.message == nil }
        #expect(unanswered.isEmpty, "\(unanswered.count) unanswered, first: \(String(describing: unanswered.first?.outcome))")
        #expect(r.dropped > 0)
        #expect(stats.serverWindowShrinks >= 1)
        #expect(stats.batchWindowShrinks >= 1)
    }
}
