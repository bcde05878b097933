#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
@testable import DNSProp

@Suite("Watch notifications: events, commands, delivery")
struct NotifyTests {
    static let r1 = WatchTests.r1
    static let r2 = WatchTests.r2        // its operator name carries an escape sequence

    /// Feeds rounds (statuses of r1 and r2 at a time) through WatchState and the detector.
    static func events(_ rounds: [(VerdictStatus, VerdictStatus)]) -> [[WatchNotification]] {
        var state = WatchState(started: 1000)
        var detector = NotificationDetector()
        var out: [[WatchNotification]] = []
        for (i, (a, b)) in rounds.enumerated() {
            let at = 1000 + Double(i) * 10
            let report = WatchTests.report([WatchTests.verdict(r1, a, at: at, ttl: a == .current ? nil : 30),
                                            WatchTests.verdict(r2, b, at: at, ttl: b == .current ? nil : 30)], at: at)
            let changes = state.update(with: report)
            let round = WatchSession.Round(number: state.round, report: state.lastReport!, changes: changes, state: state,
                                           outcome: state.lastReport!.outcome(minCurrent: nil))
            out.append(detector.events(for: round, names: [try! DomainName("victim.com")]))
        }
        return out
    }

    @Test func changeAndConvergedOverASequenceOfRounds() {
        let e = Self.events([(.parked, .current), (.parked, .current), (.current, .current), (.current, .current),
                             (.stale, .current), (.stale, .current), (.current, .current)])
        #expect(e.map { $0.map(\.kind.rawValue) } == [
            [],                         // round 1: the baseline, nothing changed yet
            [],                         // same statuses, same outcome
            ["change", "converged"],    // r1 parked → current, and the world converged
            [],
            ["change"],                 // r1 current → stale: outcome converged → notConverged
            [],
            ["change", "converged"],    // a second convergence fires again
        ])
        let flip = e[2][0]
        #expect(flip.changes.count == 1)
        #expect(flip.changes[0].resolver == Self.r1.address && flip.changes[0].from == .parked && flip.changes[0].to == .current)
        #expect(flip.previousOutcome == .notConverged && flip.outcome == .converged)
        #expect(e[2][1].resolversCurrent == 2 && e[2][1].resolvers == 2 && e[2][1].round == 3)
    }

    @Test func convergedInTheFirstRoundFiresOnceAndNoChange() {
        let e = Self.events([(.current, .current), (.current, .current), (.current, .current)])
        #expect(e.map { $0.map(\.kind.rawValue) } == [["converged"], [], []])
        #expect(e[0][0].previousOutcome == nil)
    }

    @Test func aStatusChangeWithoutOutcomeChangeIsAChange() {
        // parked → stale: still not converged, but a resolver's status changed.
        let e = Self.events([(.parked, .current), (.stale, .current)])
        #expect(e[1].map(\.kind) == [.change])
        #expect(e[1][0].previousOutcome == .notConverged && e[1][0].outcome == .notConverged)
        #expect(e[1][0].text().contains("parked→stale"))
    }

    @Test func eventJSONAndEnvironmentKeepNetworkTextOutOfTheEnvironment() throws {
        let e = Self.events([(.current, .parked), (.current, .current)])
        let change = try #require(e[1].first { $0.kind == .change })
        let json = change.json().serialized()
        // Network and list text only in the JSON, escaped there.
        #expect(json.contains("Two\\u001b[2J"))
        #expect(!json.unicodeScalars.contains("\u{1B}"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(object["event"] as? String == "change")
        #expect(object["round"] as? Int == 2)
        #expect(object["outcome"] as? String == "converged")
        #expect(object["previousOutcome"] as? String == "notConverged")
        #expect(object["names"] as? [String] == ["victim.com."])
        let changes = try #require(object["changes"] as? [[String: Any]])
        #expect(changes.count == 1 && changes[0]["resolver"] as? String == "192.0.2.2" && changes[0]["from"] as? String == "parked")
        #expect(changes[0]["operator"] as? String == "Two\u{1B}[2J")   // decoded: the data is intact

        let env = change.environment()
        #expect(env["DNSPROP_EVENT"] == "change")
        #expect(env["DNSPROP_DOMAIN"] == "victim.com.")
        #expect(env["DNSPROP_OUTCOME"] == "converged")
        #expect(env["DNSPROP_PREVIOUS_OUTCOME"] == "notConverged")
        #expect(env["DNSPROP_CURRENT"] == "2" && env["DNSPROP_TOTAL"] == "2" && env["DNSPROP_ROUND"] == "2")
        #expect(env["DNSPROP_PERCENT"] == "100" && env["DNSPROP_CHANGES"] == "1")
        for (k, v) in env {
            #expect(k.hasPrefix("DNSPROP_"))
            #expect(!v.contains("Two") && !v.contains("because") && v.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F })
        }
        // The webhook body: a plain text that chat services post, and the event.
        let body = try #require(try JSONSerialization.jsonObject(with: Data(WebhookSender.body(change).utf8)) as? [String: Any])
        let text = try #require(body["text"] as? String)
        #expect(text.contains("victim.com.") && text.contains("192.0.2.2") && !text.contains("Two"))
        #expect((body["dnsprop"] as? [String: Any])?["event"] as? String == "change")
        #expect(WatchNotification.slackEscaped("a<b>&c") == "a&lt;b&gt;&amp;c")
    }

    static func temporaryDirectory() -> String {
        var template = Array("/tmp/dnsprop-notify-XXXXXX".utf8CString)
        return template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
    }

    @Test func commandGetsTheEventOnStdinAndTheEnvironment() async throws {
        let dir = Self.temporaryDirectory()
        let cmd = NotificationCommand("cat > '\(dir)/in.json'; printf '%s %s' \"$DNSPROP_EVENT\" \"$DNSPROP_ROUND\" > '\(dir)/env'")
        let run = try await offThePool { cmd.run(input: "{\"x\":1}\n", environment: ["DNSPROP_EVENT": "converged", "DNSPROP_ROUND": "7"], timeout: 10) }
        #expect(run.outcome == .exited(0))
        #expect(try String(contentsOfFile: "\(dir)/in.json", encoding: .utf8) == "{\"x\":1}\n")
        #expect(try String(contentsOfFile: "\(dir)/env", encoding: .utf8) == "converged 7")
    }

    @Test func commandFailuresAreReportedWithTheirStderr() async throws {
        let run = try await offThePool { NotificationCommand("echo 'no route' >&2; exit 3").run(input: "", environment: [:], timeout: 10) }
        #expect(run.outcome == .exited(3))
        #expect(run.stderrTail.contains("no route"))
    }

    @Test func commandThatIgnoresStdinDoesNotKillUsWithSIGPIPE() async throws {
        // Far more than a socket buffer, to a command that exits without reading it.
        let big = String(repeating: "x", count: 4 << 20)
        let run = try await offThePool { NotificationCommand("exit 0").run(input: big, environment: [:], timeout: 10) }
        #expect(run.outcome == .exited(0))
    }

    @Test func timeoutEndsTheWholeProcessGroup() async throws {
        let dir = Self.temporaryDirectory()
        // 3 s for the shell to start the sleep and write its pid before the timeout (0.5 s was
        // enough only on a quiet machine: starting a process under load can take longer).
        let run = try await offThePool { NotificationCommand("sleep 30 & echo $! > '\(dir)/pid'; wait").run(input: "", environment: [:], timeout: 3) }
        #expect(run.outcome == .timedOut)
        let pid = try #require(Int32(try String(contentsOfFile: "\(dir)/pid", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        // The background sleep was in the command's group: it is gone (or a zombie being reaped by init).
        let gone = await eventually {
            let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
            return stat.isEmpty || stat.contains(") Z ")
        }
        #expect(gone)
    }

    @Test func notifierRetriesOnceReportsOnceAndCountsTheRest() async throws {
        let dir = Self.temporaryDirectory()
        let reports = Protected<[String]>([])
        let notifier = WatchNotifier(configuration: .init(onChange: NotificationCommand("echo x >> '\(dir)/attempts'; echo 'bad \u{1B}' >&2; exit 1"),
                                                          timeout: 5, retryDelay: 0),
                                     names: [try DomainName("victim.com")]) { line in reports.withLock { $0.append(line) } }
        let e = Self.events([(.parked, .current), (.stale, .current), (.parked, .current), (.current, .current)])
        for event in e.flatMap({ $0 }) { notifier.enqueue(event) }
        #expect(try await offThePool { notifier.drain(timeout: 30) })
        let lines = reports.withLock { $0 }
        // Three change events, two attempts each; one report for the first failure, one summary line.
        let attempts = try String(contentsOfFile: "\(dir)/attempts", encoding: .utf8).split(separator: "\n").count
        #expect(attempts == 6)
        #expect(lines.count == 2)
        #expect(lines[0].hasPrefix("--on-change: round 2 change event not delivered after a retry: exited with status 1"))
        #expect(lines[0].contains("bad \u{1B}"))    // raw here: the CLI's Console.diagnostic escapes it
        #expect(lines[1] == "--on-change: 2 more notifications failed")
        #expect(notifier.deliveredCount == 0)
    }

    @Test func notifierRunsOnlyTheCommandForTheEventsKind() async throws {
        let dir = Self.temporaryDirectory()
        let notifier = WatchNotifier(configuration: .init(onChange: NotificationCommand("echo change >> '\(dir)/log'"),
                                                          onConverged: NotificationCommand("cat >> '\(dir)/log'"), retryDelay: 0),
                                     names: [try DomainName("victim.com")]) { _ in }
        for event in Self.events([(.parked, .current), (.current, .current)]).flatMap({ $0 }) { notifier.enqueue(event) }
        #expect(try await offThePool { notifier.drain(timeout: 30) })
        let log = try String(contentsOfFile: "\(dir)/log", encoding: .utf8).split(separator: "\n")
        #expect(log.count == 2)
        #expect(log[0] == "change")
        #expect(log[1].hasPrefix("{\"schemaVersion\":1,\"event\":\"converged\""))
        #expect(notifier.deliveredCount == 2)
    }

    @Test func webhookURLMustBeHTTPAndIsNeverShownWhole() throws {
        #expect(WebhookSender(url: URL(string: "file:///etc/passwd")!) == nil)
        #expect(WebhookSender(url: URL(string: "ftp://example.com/x")!) == nil)
        let s = try #require(WebhookSender(url: URL(string: "https://hooks.example.com/services/T000/B000/SECRET")!))
        #expect(s.redacted == "https://hooks.example.com/…")
        let p = try #require(WebhookSender(url: URL(string: "http://127.0.0.1:8065/hooks/abc123")!))
        #expect(p.redacted == "http://127.0.0.1:8065/…" && !p.redacted.contains("abc123"))
    }

    @Test func handingARoundOverDoesNotWaitForTheDelivery() async throws {
        // The command waits for a flag file that is only made after `enqueue` returned:
        // had the subscriber run the command itself, this test would hang until the timeout.
        let dir = Self.temporaryDirectory()
        let notifier = WatchNotifier(configuration: .init(onConverged: NotificationCommand("while [ ! -e '\(dir)/go' ]; do sleep 0.05; done; echo done > '\(dir)/ran'"),
                                                          timeout: 20, retryDelay: 0),
                                     names: [try DomainName("victim.com")]) { _ in }
        for event in Self.events([(.current, .current)]).flatMap({ $0 }) { notifier.enqueue(event) }
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/ran"))
        #expect(FileManager.default.createFile(atPath: "\(dir)/go", contents: nil))
        #expect(try await offThePool { notifier.drain(timeout: 30) })
        #expect(FileManager.default.fileExists(atPath: "\(dir)/ran"))
        #expect(notifier.deliveredCount == 1)
    }

    @Test func aFullBacklogDropsEventsAndSaysSoOnce() async throws {
        let dir = Self.temporaryDirectory()
        let reports = Protected<[String]>([])
        var configuration = WatchNotifier.Configuration(onConverged: NotificationCommand("while [ ! -e '\(dir)/go' ]; do sleep 0.05; done"),
                                                        timeout: 20, retryDelay: 0)
        configuration.backlogLimit = 3
        let notifier = WatchNotifier(configuration: configuration, names: [try DomainName("victim.com")]) { line in reports.withLock { $0.append(line) } }
        let event = try #require(Self.events([(.current, .current)]).first?.first)
        for _ in 0..<6 { notifier.enqueue(event) }
        #expect(FileManager.default.createFile(atPath: "\(dir)/go", contents: nil))
        #expect(try await offThePool { notifier.drain(timeout: 30) })
        #expect(notifier.deliveredCount == 3)
        let lines = reports.withLock { $0 }
        #expect(lines.count == 2)
        #expect(lines.first?.hasPrefix("backlog: more than 3 notifications waiting; round 1's converged event dropped") == true)
        #expect(lines.last == "backlog: 2 more notifications dropped")
    }
}
