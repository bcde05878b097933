#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import DNSProp

/// The engine against in-process responders on loopback.
@Suite("Query engine", .serialized)
struct QueryEngineTests {
    /// `timeout` bounds the wait for servers that answer: far above a loopback round trip on a
    /// loaded sanitizer run, so that "answered at the first attempt" does not depend on the
    /// machine. Tests that wait for silence pass a short one (`silenceTimeout`).
    static func config(timeout: Double = 2, retries: Int = 1) -> EngineConfiguration {
        var c = EngineConfiguration()
        c.timeout = timeout
        c.retries = retries
        c.backoff = 1.0
        c.tcpTimeout = 5
        c.maxRatePerServer = 0
        return c
    }

    /// For tests whose server never gives a usable answer: what they wait out.
    static let silenceTimeout = 0.3

    static func request(_ server: ServerAddress, _ name: String = "example.com", _ type: RecordType = .a) -> QueryRequest {
        QueryRequest(server: server, query: try! QueryTemplate(name: DomainName(name), type: type))
    }

    static func run(_ requests: [QueryRequest], _ config: EngineConfiguration = config()) async -> ([QueryResult], EngineStatistics) {
        let engine = QueryEngine(configuration: config)
        let results = await engine.results(for: requests)
        let stats = engine.statistics
        engine.shutdown()
        return (results, stats)
    }

    /// Runs the batch, then keeps the engine open until `settled` holds for its statistics
    /// (bounded; see `eventually`): packets that end up unsolicited can still be on their way
    /// when a timed-out result is out. The exact assertions come after.
    static func run(_ requests: [QueryRequest], _ config: EngineConfiguration,
                    settledWhen settled: (EngineStatistics) -> Bool) async -> ([QueryResult], EngineStatistics) {
        let engine = QueryEngine(configuration: config)
        let results = await engine.results(for: requests)
        await eventually { settled(engine.statistics) }
        let stats = engine.statistics
        engine.shutdown()
        return (results, stats)
    }

    @Test func normalAnswer() async throws {
        let r = try TestResponder { [.reply(Answer.a($0.message, "192.0.2.1", "192.0.2.2"))] }
        defer { r.stop() }
        let (results, stats) = await Self.run([Self.request(r.address)])
        let result = try #require(results.first)
        let message = try #require(result.message)
        #expect(message.answers.map(\.rdata).sorted() == ["192.0.2.1", "192.0.2.2"])
        #expect(message.rcode == .noError)
        #expect(result.attempts == 1)
        #expect(result.transport == .udp)
        #expect((result.rtt ?? -1) >= 0)
        #expect(stats.responsesAccepted == 1)
        // The query carried RD and EDNS 1232, and an ID that is not 0.
        let q = try #require(r.received.first)
        #expect(q.message.header.flags.contains(.rd))
        #expect(q.message.edns?.udpPayloadSize == 1232)
    }

    @Test func idsAreUnpredictable() async throws {
        let r = try TestResponder { [.reply(Answer.a($0.message, "192.0.2.1"))] }
        defer { r.stop() }
        let requests = (0..<200).map { Self.request(r.address, "n\($0).example.com") }
        var c = Self.config()
        c.maxInFlightPerServer = 200
        let (results, _) = await Self.run(requests, c)
        #expect(results.allSatisfy { $0.message != nil })
        let ids = r.received.map(\.message.header.id)
        #expect(Set(ids).count >= 195)   // 200 draws from 65536: collisions are rare
        #expect(!ids.elementsEqual((ids.first!..<ids.first! &+ 200).map { $0 }))
    }

    @Test func silentServerTimesOutAfterEveryAttempt() async throws {
        let r = try TestResponder { _ in [] }
        defer { r.stop() }
        let (results, stats) = await Self.run([Self.request(r.address)], Self.config(timeout: 0.2, retries: 2))
        let result = try #require(results.first)
        #expect(result.error == .timeout(attempts: 3))
        #expect(result.attempts == 3)
        // The last attempt was sent before the result; the responder may not have read it yet.
        await eventually { r.received.count >= 3 }
        #expect(r.received.count == 3)
        #expect(stats.retransmissions == 2)
    }

    @Test func slowServerAnsweredWithinTheRetry() async throws {
        // The first attempt times out; its answer is sent only when the retry arrives, so it
        // comes during the second attempt (which waits 2 s for it) and is accepted. No fixed
        // delay has to fall between the two timeouts: a loaded machine cannot reorder this.
        let first = Protected<TestResponder.Query?>(nil)
        let r = try TestResponder { q in
            let original = first.withLock { f -> TestResponder.Query? in
                if let f { return f }
                f = q
                return nil
            }
            guard let original else { return [] }
            return [.replyTo(original.from, Answer.a(original.message, "192.0.2.9"))]
        }
        defer { r.stop() }
        let (results, stats) = await Self.run([Self.request(r.address)], Self.config(timeout: 2, retries: 2))
        let result = try #require(results.first)
        #expect(result.message?.answers.first?.rdata == "192.0.2.9")
        #expect(result.attempts == 2)
        #expect(stats.lateAnswers == 1)
        // The answer was the first query's, to the first query's source.
        #expect(r.received.count == 2)
    }

    @Test func wrongIDIsDroppedAndTheRealAnswerAccepted() async throws {
        let r = try TestResponder { q in
            [.reply(Answer.a(q.message, "6.6.6.6", id: q.message.header.id &+ 1)),
             .reply(Answer.a(q.message, "192.0.2.1"))]
        }
        defer { r.stop() }
        let (results, stats) = await Self.run([Self.request(r.address)])
        #expect(results.first?.message?.answers.first?.rdata == "192.0.2.1")
        #expect(stats.unsolicited == 1)
    }

    @Test func onlyWrongIDsMeansTimeout() async throws {
        let r = try TestResponder { q in [.reply(Answer.a(q.message, "6.6.6.6", id: q.message.header.id ^ 0x5555))] }
        defer { r.stop() }
        // The reply to the second attempt may come after the result (it is unsolicited either way).
        let (results, stats) = await Self.run([Self.request(r.address)], Self.config(timeout: Self.silenceTimeout),
                                              settledWhen: { $0.unsolicited >= 2 })
        #expect(results.first?.error == .timeout(attempts: 2))
        #expect(stats.unsolicited == 2)
    }

    @Test func wrongQuestionIsDropped() async throws {
        let r = try TestResponder { q in
            [.reply(Answer.a(q.message, "6.6.6.6", question: Question(name: "evil.example.", type: .a))),
             .reply(Answer.to(q.message, answers: [], question: Question(name: q.message.questions[0].name, type: .mx))),
             .reply(Answer.a(q.message, "192.0.2.1",
                             question: Question(name: q.message.questions[0].name.uppercased(), type: .a)))]
        }
        defer { r.stop() }
        let (results, stats) = await Self.run([Self.request(r.address, "www.example.com")])
        let result = try #require(results.first)
        // The third answer's name differs only in case: it matches (RFC 4343).
        #expect(result.message?.answers.first?.rdata == "192.0.2.1")
        #expect(result.dropped == 2)
        #expect(stats.mismatched == 2)
    }

    @Test func responseWithoutQRIsDropped() async throws {
        let r = try TestResponder { q in [.reply(Answer.to(q.message, flags: [.rd]))] }
        defer { r.stop() }
        // Each reply must come while its query still waits (later it would count as unsolicited):
        // each attempt waits 1 s, and the reply is sent as soon as the query is read.
        let (results, stats) = await Self.run([Self.request(r.address)], Self.config(timeout: 1))
        #expect(results.first?.error == .timeout(attempts: 2))
        #expect(stats.mismatched == 2)
    }

    @Test func answerFromAnotherPortIsDropped() async throws {
        let r = try TestResponder { q in [.replyFromOtherPort(Answer.a(q.message, "6.6.6.6"))] }
        defer { r.stop() }
        let (results, stats) = await Self.run([Self.request(r.address)], Self.config(timeout: Self.silenceTimeout),
                                              settledWhen: { $0.unsolicited >= 2 })
        #expect(results.first?.error == .timeout(attempts: 2))
        #expect(stats.unsolicited == 2)
    }

    @Test func negativeAndErrorRcodesAreAnswersNotErrors() async throws {
        let nx = try TestResponder { q in
            [.reply(Answer.to(q.message, rcode: .nxDomain, authority: [
                ResourceRecord(owner: "example.com.", type: .soa, ttl: 900,
                               rdataFields: ["ns.example.com.", "h.example.com.", "1", "2", "3", "4", "300"])]))]
        }
        let sf = try TestResponder { q in [.reply(Answer.to(q.message, rcode: .servFail))] }
        let rf = try TestResponder { q in [.reply(Answer.to(q.message, rcode: .refused, flags: [.qr]))] }
        defer { nx.stop(); sf.stop(); rf.stop() }
        let (results, _) = await Self.run([Self.request(nx.address), Self.request(sf.address), Self.request(rf.address)])
        #expect(results.map { $0.message?.rcode } == [.nxDomain, .servFail, .refused])
        #expect(results[0].message?.authority.first?.type == .soa)
        #expect(results.allSatisfy { $0.attempts == 1 })
    }

    @Test func refusedWithoutQuestionSectionIsAccepted() async throws {
        let r = try TestResponder { q in
            let m = Message(header: Header(id: q.message.header.id, opcode: 0, rcode: .refused, flags: [.qr]),
                            questions: [], answers: [], authority: [], additional: [], edns: nil)
            return [.reply(try! MessageEncoder.encode(m))]
        }
        defer { r.stop() }
        let (results, _) = await Self.run([Self.request(r.address)])
        #expect(results.first?.message?.rcode == .refused)
    }

    @Test func garbageBytesEndAsMalformedNotAsACrash() async throws {
        let r = try TestResponder { q in
            let id = q.message.header.id
            return [.reply([UInt8(id >> 8), UInt8(id & 0xFF), 0x81, 0x80, 0, 1, 0, 9, 0, 0, 0, 0, 0xC0, 0xFF, 1, 2])]
        }
        defer { r.stop() }
        // As for the replies without QR: each must come while its attempt waits (1 s).
        let (results, stats) = await Self.run([Self.request(r.address)], Self.config(timeout: 1))
        guard case .malformed = results.first?.error else {
            Issue.record("expected malformed, got \(String(describing: results.first?.outcome))")
            return
        }
        #expect(stats.malformed == 2)
    }

    @Test func duplicateResponsesGiveOneResult() async throws {
        let r = try TestResponder { q in let a = Answer.a(q.message, "192.0.2.1"); return [.reply(a), .reply(a), .reply(a)] }
        defer { r.stop() }
        let engine = QueryEngine(configuration: Self.config())
        defer { engine.shutdown() }
        let results = await engine.results(for: [Self.request(r.address)])
        #expect(results.count == 1)
        #expect(results.first?.message != nil)
        // The duplicates may still be on their way when the result is out (slow builds,
        // sanitizers): wait for them to be read, then count them exactly.
        await eventually { engine.statistics.unsolicited >= 2 }
        #expect(engine.statistics.unsolicited == 2)
        #expect(engine.statistics.responsesAccepted == 1)
    }

    @Test func floodOfUnsolicitedPacketsDoesNotHideTheAnswer() async throws {
        let r = try TestResponder { q in
            var actions: [TestResponder.Action] = []
            var rng = SplitMix64(seed: UInt64(q.message.header.id))
            for _ in 0..<5_000 {
                var junk = (0..<Int(rng.next() % 60 + 2)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                if junk[0] == UInt8(q.message.header.id >> 8) { junk[0] ^= 0xFF }
                actions.append(.reply(junk))
            }
            actions.append(.reply(Answer.a(q.message, "192.0.2.77")))
            return actions
        }
        defer { r.stop() }
        // The answer comes, after the flood: the timeout only bounds how long making and sending
        // 5,000 packets may take (a loaded ThreadSanitizer run took over 2 s, and the engine shut
        // down before the first arrived). A retry if the kernel's buffer dropped the answer itself.
        let (results, stats) = await Self.run([Self.request(r.address)], Self.config(timeout: 30, retries: 1))
        #expect(results.first?.message?.answers.first?.rdata == "192.0.2.77")
        #expect(stats.unsolicited >= 4_000)   // the rest may be dropped by the kernel's buffer, which is fine
    }

    @Test func truncatedAnswerIsAskedAgainOverTCP() async throws {
        let r = try TestResponder { q in
            if q.overTCP { return [.reply(Answer.a(q.message, "192.0.2.1", "192.0.2.2"))] }
            return [.reply(Answer.to(q.message, flags: [.qr, .tc, .rd, .ra]))]
        }
        defer { r.stop() }
        let (results, stats) = await Self.run([Self.request(r.address)])
        let result = try #require(results.first)
        #expect(result.transport == .tcp)
        #expect(result.message?.answers.count == 2)
        #expect(!(result.message?.header.flags.contains(.tc) ?? true))
        #expect(stats.tcpFallbacks == 1)
        #expect(r.received.filter(\.overTCP).count == 1)
    }

    @Test func largeAnswerOverTCP() async throws {
        // About 4,000 bytes of TXT records: more than one TCP segment's worth of reads on some stacks.
        let r = try TestResponder { q in
            if !q.overTCP { return [.reply(Answer.to(q.message, flags: [.qr, .tc, .rd, .ra]))] }
            let records = (0..<40).map { i in
                ResourceRecord(owner: q.message.questions[0].name, type: .txt, ttl: 60,
                               rdataFields: ["\"\(i)-" + String(repeating: "x", count: 90) + "\""])
            }
            return [.reply(Answer.to(q.message, answers: records))]
        }
        defer { r.stop() }
        let (results, _) = await Self.run([Self.request(r.address, "big.example.com", .txt)])
        let result = try #require(results.first)
        #expect(result.transport == .tcp)
        #expect(result.message?.answers.count == 40)
    }

    @Test func tcpConnectionThatClosesMidMessage() async throws {
        let r = try TestResponder { q in
            if !q.overTCP { return [.reply(Answer.to(q.message, flags: [.qr, .tc, .rd, .ra]))] }
            let full = Answer.a(q.message, "192.0.2.1")
            return [.tcpRaw([UInt8(full.count >> 8), UInt8(full.count & 0xFF)] + full.prefix(10))]
        }
        defer { r.stop() }
        let (results, _) = await Self.run([Self.request(r.address)])
        let error = try #require(results.first?.error)
        #expect(error == .tcpFailed("server closed the connection after 10 of \(Answer.a(r.received[0].message, "192.0.2.1").count) bytes of an answer"))
    }

    @Test func tcpRefusedAfterTruncation() async throws {
        let r = try TestResponder(tcp: false) { q in [.reply(Answer.to(q.message, flags: [.qr, .tc, .rd, .ra]))] }
        defer { r.stop() }
        let (results, _) = await Self.run([Self.request(r.address)])
        #expect(results.first?.error == .connectionRefused(.tcp))
    }

    @Test func closedUDPPortIsReportedAsRefusedNotAsTimeout() async throws {
        // Bind and close a socket to find a port nobody listens on.
        let probe = try TestResponder(tcp: false) { _ in [] }
        let address = probe.address
        probe.stop()
        let (results, stats) = await Self.run([Self.request(address)], Self.config(timeout: 2, retries: 0))
        #expect(results.first?.error == .connectionRefused(.udp))
        #expect(stats.icmpErrors >= 1)
    }

    @Test func ipv6Loopback() async throws {
        let r = try TestResponder(host: "::1") { [.reply(Answer.a($0.message, "192.0.2.6"))] }
        defer { r.stop() }
        let (results, _) = await Self.run([Self.request(r.address)])
        #expect(results.first?.message?.answers.first?.rdata == "192.0.2.6")
    }

    @Test func perServerCapIsRespected() async throws {
        let r = try TestResponder { [.replyAfter(0.05, Answer.a($0.message, "192.0.2.1"))] }
        defer { r.stop() }
        var c = Self.config(timeout: 2, retries: 0)
        c.maxInFlightPerServer = 3
        let requests = (0..<30).map { Self.request(r.address, "n\($0).example.com") }
        let (results, _) = await Self.run(requests, c)
        #expect(results.allSatisfy { $0.message != nil })
        #expect(r.maxOutstanding <= 3)
        #expect(r.maxOutstanding >= 2)
    }

    @Test func manyServersAndDeadOnesTogether() async throws {
        var responders: [TestResponder] = []
        for i in 0..<20 {
            responders.append(try TestResponder(tcp: false) { q in i % 2 == 0 ? [.reply(Answer.a(q.message, "192.0.2.\(i)"))] : [] })
        }
        defer { responders.forEach { $0.stop() } }
        let types: [RecordType] = [.a, .aaaa, .mx, .ns, .txt]
        let requests = responders.flatMap { r in types.map { Self.request(r.address, "example.com", $0) } }
        // The live servers answer at once and the dead never: the timeout (what the dead cost)
        // is only an upper bound for the living, far above a loopback round trip however loaded.
        let (results, _) = await Self.run(requests, Self.config(timeout: 1, retries: 1))
        #expect(results.count == 100)
        for (i, result) in results.enumerated() {
            let server = i / types.count
            if server % 2 == 0 { #expect(result.message != nil) } else { #expect(result.error == .timeout(attempts: 2)) }
            #expect(result.index == i)
        }
    }

    @Test func shutdownFinishesWaitingAndInFlightQueries() async throws {
        let r = try TestResponder { _ in [] }
        defer { r.stop() }
        var c = Self.config(timeout: 30, retries: 0)
        c.maxInFlightPerServer = 2
        let engine = QueryEngine(configuration: c)
        let requests = (0..<6).map { Self.request(r.address, "n\($0).example.com") }
        let pending = Task { await engine.results(for: requests) }
        // Shut down once the two in flight have reached the server (not after a fixed pause,
        // which a loaded machine can outlast before the engine has sent anything).
        #expect(await eventually { r.received.count >= 2 })
        engine.shutdown()
        let results = await pending.value
        #expect(results.count == 6)
        #expect(results.allSatisfy { if case .system(_, let e, _)? = $0.error { return e == ECANCELED } else { return false } })
        #expect(results.filter { $0.attempts == 1 }.count == 2)   // two were in flight, four still waiting
    }

    @Test func emptyBatchCompletes() async {
        let (results, _) = await Self.run([])
        #expect(results.isEmpty)
    }
}
