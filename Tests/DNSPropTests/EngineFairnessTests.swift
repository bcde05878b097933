#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
@testable import DNSProp

/// Issue 15's engine findings: the rate limit holds across batches, a TCP flood cannot
/// stall the engine, source ports are not fixed, and no rate traps.
@Suite("Query engine fairness and hardening", .serialized)
struct EngineFairnessTests {
    @Test func rateLimitHoldsAcrossBackToBackBatches() async throws {
        // 10 queries a second to one server, in batches of 2 with nothing in between: the
        // server's clock must survive the idle moment between batches.
        let r = try TestResponder(tcp: false) { q in [.reply(Answer.a(q.message, "192.0.2.1"))] }
        defer { r.stop() }
        var c = QueryEngineTests.config(timeout: 2, retries: 0)
        c.maxRatePerServer = 10
        let engine = QueryEngine(configuration: c)
        defer { engine.shutdown() }
        for batch in 0..<5 {
            let results = await engine.results(for: (0..<2).map { QueryEngineTests.request(r.address, "b\(batch)-\($0).example.com") })
            #expect(results.allSatisfy { $0.message != nil })
        }
        // When the kernel took each query in (on loopback: when it was sent), not when the
        // responder got round to reading it: a busy machine delays reads, not sends.
        let times = r.received.compactMap(\.sentAt)
        try #require(times.count == 10)
        // Ten queries 0.1 s apart span 0.9 s; if each batch started at once (the clock
        // forgotten), five batches would span 0.5 s.
        let span = Double(times.last! - times.first!) / 1e9
        #expect(span >= 0.85, "10 queries at 10/s spanned \(span) s")
    }

    @Test func tinyRateDoesNotTrap() async throws {
        let r = try TestResponder(tcp: false) { q in [.reply(Answer.a(q.message, "192.0.2.1"))] }
        defer { r.stop() }
        var c = QueryEngineTests.config()
        c.maxRatePerServer = 1e-11
        let (results, _) = await QueryEngineTests.run([QueryEngineTests.request(r.address)], c)
        #expect(results.first?.message != nil)
    }

    @Test func tinyRateOnTheCommandLineIsRefusedNotATrap() async throws {
        for rate in ["1e-11", "nan", "inf", "-1"] {
            let run = try await ToolRun.run(["query", "example.com", "--resolver", "127.0.0.1:9", "--rate", rate])
            #expect(run.status == 64, "--rate \(rate): status \(run.status), \(run.stderr)")
            #expect(run.stderr.contains("--rate"), "--rate \(rate): \(run.stderr)")
        }
    }

    @Test func aTCPFloodDoesNotStallOtherQueries() async throws {
        // One server answers TC=1 and then streams zero-length frames over TCP; another
        // answers over UDP 0.2 s after the flood has started (it waits for it: however slow
        // the machine, the flood is on when the answer leaves). The answer must be delivered
        // while the flood is still going (until the engine's 2-s TCP timeout closes it), not
        // once the engine has worked through it.
        let flooder = try TestResponder { q in
            q.overTCP ? [.tcpFlood(30)] : [.reply(Answer.to(q.message, flags: [.qr, .tc, .rd, .ra]))]
        }
        let floodSeen = LockedFlag()
        let honest = try TestResponder(tcp: false) { q in
            // Blocks only this responder's own queue; it gets this one query.
            floodSeen.set(eventuallyBlocking { flooder.floodsRunning > 0 })
            return [.replyAfter(0.2, Answer.a(q.message, "192.0.2.3"))]
        }
        defer { flooder.stop(); honest.stop() }
        var c = QueryEngineTests.config(timeout: 10, retries: 0)
        c.tcpTimeout = 2
        let engine = QueryEngine(configuration: c)
        defer { engine.shutdown() }
        let floodingWhenAnswered = LockedFlag()
        let collector = ResultCollector(count: 2)
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            engine.submit([QueryEngineTests.request(flooder.address), QueryEngineTests.request(honest.address)],
                          onResult: { result in
                              if result.index == 1 { floodingWhenAnswered.set(flooder.floodsRunning > 0) }
                              collector.store(result)
                          },
                          onComplete: { done.resume() })
        }
        let results = collector.ordered()
        #expect(floodSeen.value, "the flood never started")
        #expect(results[1].message?.answers.first?.rdata == "192.0.2.3")
        #expect(results[1].attempts == 1)
        #expect(floodingWhenAnswered.value, "the honest answer came only after the flood")
        #expect(results[0].error == .tcpTimeout)
    }

    @Test func frameBufferCutsFramesAcrossReads() {
        var buffer = FrameBuffer()
        func feed(_ bytes: [UInt8]) {
            _ = buffer.withSpace(bytes.count) { space in
                for (i, b) in bytes.enumerated() { space[i] = b }
                return bytes.count
            }
        }
        // A zero-length frame, a 3-byte frame split inside its prefix and its body, then
        // 10,000 zero-length frames in one read: every frame comes out once, in order.
        feed([0, 0, 0])
        #expect(buffer.nextFrame() == [])
        #expect(buffer.nextFrame() == nil)
        #expect(buffer.count == 1)
        feed([3, 7])
        #expect(buffer.announcedLength == 3)
        #expect(buffer.nextFrame() == nil)
        feed([8, 9])
        #expect(buffer.nextFrame() == [7, 8, 9])
        feed([UInt8](repeating: 0, count: 20_000))
        var frames = 0
        while let f = buffer.nextFrame() { #expect(f.isEmpty); frames += 1 }
        #expect(frames == 10_000)
        #expect(buffer.count == 0)
        // A read that returns less than offered keeps only what it wrote.
        _ = buffer.withSpace(100) { space in space[0] = 0; return 1 }
        #expect(buffer.count == 1)
    }

    @Test func authoritativeQueriesEachLeaveFromAFreshPort() async throws {
        let r = try TestResponder(tcp: false) { q in [.reply(Answer.a(q.message, "192.0.2.1"))] }
        defer { r.stop() }
        var c = QueryEngineTests.config()
        c.maxInFlightPerServer = 30
        let requests = (0..<30).map {
            QueryRequest(server: r.address, query: try! QueryTemplate(name: DomainName("n\($0).example.com"), type: .a, options: .authoritative))
        }
        let (results, _) = await QueryEngineTests.run(requests, c)
        #expect(results.allSatisfy { $0.message != nil })
        let ports = Set(r.received.map(\.from.port))
        #expect(ports.count == 30, "\(ports.count) source ports for 30 queries to an authoritative server")
    }

    @Test func freshSocketsAreCappedAndTheRestUseThePool() async throws {
        // 30 authoritative queries in flight at once, at most 4 sockets of their own:
        // the others go through the pool instead of running out of descriptors.
        let r = try TestResponder(tcp: false) { q in [.replyAfter(0.05, Answer.a(q.message, "192.0.2.1"))] }
        defer { r.stop() }
        var c = QueryEngineTests.config()
        c.maxInFlightPerServer = 30
        c.maxFreshSockets = 4
        let requests = (0..<30).map {
            QueryRequest(server: r.address, query: try! QueryTemplate(name: DomainName("n\($0).example.com"), type: .a, options: .authoritative))
        }
        let (results, stats) = await QueryEngineTests.run(requests, c)
        #expect(results.allSatisfy { $0.message != nil })
        #expect(stats.freshSockets >= 4 && stats.freshSockets < 30, "\(stats.freshSockets) fresh sockets")
    }

    @Test func pooledResolverSocketsAreRenewed() async throws {
        let r = try TestResponder(tcp: false) { q in [.reply(Answer.a(q.message, "192.0.2.1"))] }
        defer { r.stop() }
        var c = QueryEngineTests.config()
        c.socketsPerFamily = 2
        c.renewSocketAfter = 5
        c.maxInFlightPerServer = 4
        let (results, stats) = await QueryEngineTests.run((0..<60).map { QueryEngineTests.request(r.address, "n\($0).example.com") }, c)
        #expect(results.allSatisfy { $0.message != nil })
        let ports = Set(r.received.map(\.from.port))
        // 60 queries, 5 per socket: 12 sockets over the run, never more than 2 in the pool.
        #expect(ports.count >= 10, "\(ports.count) source ports")
        #expect(stats.socketRenewals >= 9)
    }
}

final class LockedFlag: @unchecked Sendable {   // guarded by `lock`
    private let lock = NSLock()
    private var _value = false
    func set(_ v: Bool) { lock.withLock { _value = v } }
    var value: Bool { lock.withLock { _value } }
}
