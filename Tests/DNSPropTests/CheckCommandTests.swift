import Foundation
import Testing
@testable import DNSProp

/// The `dnsprop` binary end to end against the in-process hierarchy: output formats and exit codes.
@Suite("check command", .serialized)
struct CheckCommandTests {
    typealias H = PropagationCheckTests.Hierarchy

    func withWorld(_ resolvers: [(String, @Sendable (Message) -> [UInt8]?)], parked: Bool = false,
                   _ body: ([String]) async throws -> Void) async throws {
        let world = try H(parked: parked)
        defer { world.stop() }
        let responders = try resolvers.map { try PropagationCheckTests.resolver($0.0, $0.1) }
        defer { responders.forEach { $0.stop() } }
        let hints = FileManager.default.temporaryDirectory.appendingPathComponent("hints-\(UUID().uuidString).txt")
        try ". 3600 IN NS root.test.\nroot.test. 3600 IN A 127.77.0.1\n".write(to: hints, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: hints) }
        var args = ["--root-hints", hints.path, "--authoritative-port", String(world.port),
                    // Every server here answers or refuses at once: the timeout only bounds how
                    // long an answer may take on a loaded machine (0.3 s could be outlasted).
                    "--timeout", "2", "--retries", "1", "--rate", "0"]
        for r in responders { args += ["--resolver", r.address.description] }
        try await body(args)
    }

    static let current: @Sendable (Message) -> [UInt8]? = { m in
        let q = m.questions[0]
        switch q.type {
        case .ns: return Answer.to(m, answers: [MiniZone.rr("victim.example.", .ns, "ns1.victim.example."), MiniZone.rr("victim.example.", .ns, "ns2.victim.example.")])
        case .a: return Answer.to(m, answers: [MiniZone.rr(q.name, .a, "192.0.2.10", ttl: 42)])
        default: return Answer.to(m, authority: [MiniZone(apex: "victim.example.", records: []).soa])
        }
    }

    @Test func convergedExitsZeroAndJSONFollowsTheSchema() async throws {
        try await withWorld([("127.79.0.1", Self.current), ("127.79.0.2", Self.current)]) { args in
            let run = try await ToolRun.run(["check", "victim.example", "--type", "A,AAAA", "--format", "json"] + args)
            #expect(run.status == 0, "\(run.stderr)")
            let doc = try run.json()
            #expect(doc["schemaVersion"] as? Int == 1)
            #expect(doc["names"] as? [String] == ["victim.example."])
            let results = try #require(doc["results"] as? [[String: Any]])
            #expect(results.count == 6)      // 2 resolvers x (A, AAAA, delegation NS)
            #expect(results.allSatisfy { $0["status"] as? String == "current" })
            let first = results[0]
            for key in ["resolver", "name", "type", "status", "reason", "answers", "ttl", "expiresAt", "rcode", "rttMs", "attempts"] {
                #expect(first.keys.contains(key), "missing \(key)")
            }
            let resolver = try #require(first["resolver"] as? [String: Any])
            #expect(resolver["address"] as? String == "127.79.0.1")
            let summary = try #require(doc["summary"] as? [String: Any])
            #expect(summary["exitStatus"] as? Int == 0)
            #expect((summary["counts"] as? [String: Int])?["current"] == 6)
            let truth = try #require(doc["truth"] as? [[String: Any]])
            #expect(truth.first?["source"] as? String == "authoritative")
            #expect(truth.first?["answers"] as? [String] == ["192.0.2.10"])
        }
    }

    @Test func staleExitsOneAndEveryFormatIsWellFormed() async throws {
        let stale: @Sendable (Message) -> [UInt8]? = { m in
            Answer.to(m, answers: [MiniZone.rr(m.questions[0].name, .a, "192.0.2.99", ttl: 77)])
        }
        try await withWorld([("127.79.1.1", Self.current), ("127.79.1.2", stale)]) { args in
            let common = ["check", "victim.example", "--type", "A", "--no-delegation"] + args
            let json = try await ToolRun.run(common + ["--format", "json"])
            #expect(json.status == 1)
            let results = try #require(try json.json()["results"] as? [[String: Any]])
            let staleRow = try #require(results.first { ($0["resolver"] as? [String: Any])?["address"] as? String == "127.79.1.2" })
            #expect(staleRow["status"] as? String == "stale")
            #expect(staleRow["ttl"] as? Int == 77)
            #expect(staleRow["expiresAt"] is String)

            let ndjson = try await ToolRun.run(common + ["--format", "ndjson"])
            #expect(ndjson.status == 1)
            let lines = ndjson.stdout.split(separator: "\n")
            #expect(lines.count == 3)
            for line in lines { #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) != nil) }
            #expect(lines.last?.contains("\"event\":\"summary\"") == true)

            let csv = try await ToolRun.run(common + ["--format", "csv"])
            let rows = csv.stdout.split(separator: "\n")
            #expect(rows.count == 3)
            #expect(rows[0].hasPrefix("resolver,port,operator"))

            let table = try await ToolRun.run(common)
            #expect(table.status == 1)
            // The diagnosis comes first (issue 16), then the summary line.
            #expect(table.stdout.hasPrefix("diagnosis: "))
            #expect(table.stdout.contains("\n1 of 2 answering resolvers current; 1 stale"))
            #expect(table.stdout.split(separator: "\n").allSatisfy { $0.count <= 80 })
            #expect(!table.stdout.contains("\u{1B}"))   // not a terminal: no colour
        }
    }

    @Test func truthUnknownExitsTwo() async throws {
        try await withWorld([("127.79.2.1", Self.current)], parked: true) { args in
            let run = try await ToolRun.run(["check", "victim.example", "--type", "A", "--no-delegation", "--format", "json"] + args)
            #expect(run.status == 2)
            let truth = try #require(try run.json()["truth"] as? [[String: Any]])
            #expect((truth.first?["error"] as? String)?.contains("victim.example") == true)
        }
    }

    @Test func expectOverridesTheTruth() async throws {
        try await withWorld([("127.79.3.1", Self.current)], parked: true) { args in
            let ok = try await ToolRun.run(["check", "victim.example", "--expect", "A=192.0.2.10", "--no-delegation"] + args)
            #expect(ok.status == 0, "\(ok.stdout)\(ok.stderr)")
            let wrong = try await ToolRun.run(["check", "victim.example", "--expect", "A=192.0.2.11", "--no-delegation"] + args)
            #expect(wrong.status == 1)
        }
    }

    @Test func hostileTXTNeverReachesTheTerminalRaw() async throws {
        let evil: @Sendable (Message) -> [UInt8]? = { m in
            Answer.to(m, answers: [MiniZone.rr(m.questions[0].name, .txt, "\"\\027]0;pwned\\007\\027[2J\"")])
        }
        try await withWorld([("127.79.4.1", evil)]) { args in
            for format in ["table", "json", "ndjson", "csv"] {
                let run = try await ToolRun.run(["check", "victim.example", "--type", "TXT", "--no-delegation",
                                           "--expect", "TXT=hello", "--format", format] + args)
                #expect(run.status == 1)
                #expect(!run.stdoutBytes.contains(0x1B), "raw ESC in \(format) output")
                #expect(!run.stdoutBytes.contains(0x07), "raw BEL in \(format) output")
            }
        }
    }

    @Test func badInputExits64WithASpecificMessage() async throws {
        let cases: [([String], String)] = [
            (["check", "exa mple.com"], "contains U+0020"),
            (["check", "example.com", "--expect", "A=300.1.1.1"], "is not an IPv4 address"),
            (["check", "example.com", "--expect", "A"], "write TYPE=VALUE"),
            (["check", "example.com", "--type", "BOGUS"], "unknown record type 'BOGUS'"),
            (["check", "example.com", "--resolvers", "/nonexistent/list.txt"], "No such file or directory"),
            (["check", "example.com", "--resolver", "1.2.3.4:99999"], "port '99999'"),
            (["check", "example.com", "--root-hints", "/dev/null"], "no NS records"),
            (["check", "example.com", "--min-current", "120"], "percentage"),
            (["check"], "at least one domain name"),
        ]
        for (args, needle) in cases {
            let run = try await ToolRun.run(args)
            #expect(run.status == 64, "\(args): \(run.stderr)")
            #expect(run.stderr.contains(needle), "\(args): \(run.stderr)")
        }
    }

    @Test func resolversListJSON() async throws {
        let run = try await ToolRun.run(["resolvers", "list", "--format", "json", "--continent", "oceania"])
        #expect(run.status == 0)
        let doc = try run.json()
        let list = try #require(doc["resolvers"] as? [[String: Any]])
        #expect(!list.isEmpty)
        #expect(list.allSatisfy { $0["continent"] as? String == "OC" })
    }
}
