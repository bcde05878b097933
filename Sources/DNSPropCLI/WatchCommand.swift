#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Foundation
import Dispatch
import DNSProp

struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Re-run the check every interval and show resolvers turning current, until the world has converged.",
        discussion: """
            Each round re-establishes the truth and asks every resolver again, with the same \
            engine and verdicts as `check`. On a terminal: a full-screen view redrawn in place. \
            Otherwise: one line per status change and a summary line per round. \
            --format ndjson streams one event per result per round and a summary event per round.

            Exit status: 0 converged (with --until-propagated); 1 --max-wait passed first; \
            64 bad input; 130 interrupted (SIGINT); 143 terminated (SIGTERM).
            """
    )

    @OptionGroup var options: CheckOptions

    @Option(help: ArgumentHelp("Seconds between rounds.", valueName: "S"))
    var interval: Double = 30

    @Flag(name: .customLong("until-propagated"), help: "Exit 0 as soon as every answering resolver is current (or --min-current is met).")
    var untilPropagated = false

    @Option(name: .customLong("max-wait"), help: ArgumentHelp("With --until-propagated: give up (exit 1) after this long, e.g. 90s, 10m, 2h.", valueName: "DURATION"))
    var maxWait: String?

    @Option(name: .customLong("record"), help: ArgumentHelp("Append every round's results to FILE as NDJSON (synced after each round).", valueName: "FILE"))
    var recordFile: String?

    @Option(help: "Output: table (full screen on a terminal, a log otherwise) or ndjson.")
    var format: WatchFormat = .table

    enum WatchFormat: String, ExpressibleByArgument, CaseIterable { case table, ndjson }

    func validate() throws {
        guard interval >= 0.2, interval <= 86400 else { throw ValidationError("--interval must be from 0.2 to 86400 seconds") }
        if let maxWait {
            guard DurationText.parse(maxWait) != nil else {
                throw ValidationError("--max-wait '\(TerminalText.escape(maxWait))': write a duration such as 90s, 10m, 2h or 1h30m")
            }
            guard untilPropagated else { throw ValidationError("--max-wait needs --until-propagated") }
        }
    }

    func run() async throws {
        let plan = try options.plan()
        let recorder = try recordFile.map { path -> RoundRecorder in
            do { return try RoundRecorder(path: path) } catch { throw usageFailure("--record: \(error)") }
        }
        let engine = QueryEngine(configuration: options.engine.configuration)
        let fullScreen = format == .table && Console.isTerminal(1)
        let colour = Console.useColour(fd: 1)
        let started = MonotonicTime.wall()
        let shared = SharedWatchState(WatchState(started: started))
        let deadline = maxWait.flatMap(DurationText.parse).map { MonotonicTime.now() + $0 }

        // SIGINT / SIGTERM: restore the terminal, print the timeline, exit 130 / 143.
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        var sources: [DispatchSourceSignal] = []
        for (sig, code) in [(SIGINT, Int32(130)), (SIGTERM, Int32(143))] {
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .main)
            source.setEventHandler {
                Terminal.restore()
                if format == .table {
                    Console.err(WatchScreen.timeline(shared.get(), now: MonotonicTime.wall()).joined(separator: "\n") + "\n")
                }
                recorder?.close()
                Glibc.exit(code)
            }
            source.activate()
            sources.append(source)
        }
        if fullScreen { Terminal.enter() }
        defer { if fullScreen { Terminal.restore() } }

        while true {
            if fullScreen {
                draw(shared.get(), plan: plan, colour: colour, nextRound: nil, status: "checking…")
            }
            let fresh = await PropagationCheck(plan: plan, engine: engine).run()
            let changes = shared.update { $0.update(with: fresh) }
            let state = shared.get()
            let report = state.lastReport ?? fresh   // with what only history shows (served past expiry)
            recorder?.append(round: state.round, report: report, minCurrent: options.minCurrent)
            switch format {
            case .ndjson:
                let extra: [(String, JSONValue)] = [("round", .int(state.round)), ("timestamp", .string(Timestamp.rfc3339(MonotonicTime.wall(), fraction: true)))]
                Console.out(CheckReportJSON.ndjsonLines(report, minCurrent: options.minCurrent, extra: extra).joined(separator: "\n") + "\n")
            case .table where !fullScreen:
                logRound(state, changes: changes, report: report, remote: plan.remote)
            case .table:
                break
            }
            let converged = report.summary.exitStatus(minCurrent: options.minCurrent) == 0
            if untilPropagated && converged {
                finish(state, fullScreen: fullScreen)
                recorder?.close()
                return
            }
            if let deadline, MonotonicTime.now() >= deadline {
                finish(state, fullScreen: fullScreen)
                Console.err("dnsprop: not converged within \(maxWait ?? "")\n")
                recorder?.close()
                throw ExitCode(1)
            }
            // Wait for the next round; on a terminal, redraw each second so TTLs count down.
            let next = MonotonicTime.wall() + interval
            while MonotonicTime.wall() < next {
                if let deadline, MonotonicTime.now() >= deadline { break }
                if fullScreen { draw(state, plan: plan, colour: colour, nextRound: next, status: nil) }
                let step = min(1.0, next - MonotonicTime.wall())
                if step > 0 { try? await Task.sleep(nanoseconds: UInt64(step * 1e9)) }
            }
        }
    }

    func draw(_ state: WatchState, plan: PropagationCheck.Plan, colour: Bool, nextRound: Double?, status: String?) {
        let size = Terminal.size()
        var lines = WatchScreen(width: size.width, height: size.height, colour: colour)
            .render(state, names: plan.names, now: MonotonicTime.wall(), nextRound: nextRound, interval: interval)
        if let status, state.round == 0 { lines.append(status) }
        Terminal.draw(Array(lines.prefix(size.height)))
    }

    func logRound(_ state: WatchState, changes: [WatchState.Change], report: PropagationCheck.Report, remote: GlobalpingVantage?) {
        let stamp = Timestamp.rfc3339(report.finishedAt)
        var out = ""
        for c in changes where c.from != nil {
            let v = c.verdict
            out += "\(stamp) round \(c.round): \(v.resolver.address) \(v.name) \(v.isDelegationCheck ? "NS (delegation)" : v.type.name): "
                + "\(c.from!.rawValue) -> \(c.to.rawValue)" + (c.to == .current ? "" : " (\(TerminalText.escape(v.reason)))") + "\n"
        }
        out += "\(stamp) round \(state.round): " + CheckReportTable(colour: false, now: report.finishedAt).summaryLine(report) + "\n"
        if let note = state.roundNote { out += "\(stamp) \(TerminalText.escape(note))\n" }
        if options.verbose, let remote = remote {
            let b = remote.client.budget
            out += "\(stamp) Globalping budget: rate limit remaining \(b.rateLimitRemaining.map(String.init) ?? "?"), credits remaining \(b.creditsRemaining.map(String.init) ?? "?")\n"
        }
        Console.out(out)
    }

    func finish(_ state: WatchState, fullScreen: Bool) {
        if fullScreen { Terminal.restore() }
        if format == .table {
            Console.out(WatchScreen.timeline(state, now: MonotonicTime.wall()).joined(separator: "\n") + "\n")
        }
    }
}

/// The watch state, readable from the signal handler while rounds update it.
final class SharedWatchState: @unchecked Sendable {   // guarded by `lock`
    private var state: WatchState
    private let lock = NSLock()
    init(_ state: WatchState) { self.state = state }
    func get() -> WatchState { lock.withLock { state } }
    func update<R>(_ body: (inout WatchState) -> R) -> R { lock.withLock { body(&state) } }
}

/// `--record FILE`: each round appended in one write and synced, so a crash loses at most the round in progress.
final class RoundRecorder: @unchecked Sendable {   // used from the watch loop only (and closed by a signal handler)
    private var fd: Int32

    init(path: String) throws {
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileText.ReadError(path: path, reason: String(cString: strerror(errno))) }
    }

    func append(round: Int, report: PropagationCheck.Report, minCurrent: Double?) {
        guard fd >= 0 else { return }
        let extra: [(String, JSONValue)] = [("round", .int(round)), ("timestamp", .string(Timestamp.rfc3339(report.finishedAt, fraction: true)))]
        let text = CheckReportJSON.ndjsonLines(report, minCurrent: minCurrent, extra: extra).joined(separator: "\n") + "\n"
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 { if errno == EINTR { continue }; break }
            offset += n
        }
        fsync(fd)
    }

    func close() {
        if fd >= 0 { Glibc.close(fd); fd = -1 }
    }
}

