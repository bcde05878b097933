#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Foundation
import Dispatch
import Synchronization
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

            On a terminal, keys: up/down, PgUp/PgDn, Home/End scroll; / filters by text; f shows \
            all, not current or failing resolvers; g changes the grouping; ? lists the keys; q quits.

            Notifications: a change is a round (from the second on) in which some resolver's \
            status or the outcome changed; converged fires once each time the outcome becomes \
            converged. Commands run with your privileges; event data reaches them only as JSON on \
            stdin and DNSPROP_* variables, never in the command line; the webhook URL is never \
            printed. A failed notification is reported once and never changes the exit status.

            Exit status: 0 converged (with --until-propagated), or q pressed; 1 --max-wait passed first; \
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

    @Flag(name: .customLong("poll-anyway"), help: "Ask every question every round, also in the last seconds of a stale answer's TTL (by default such a query is held back: it can make BIND or Knot Resolver refresh the stale record from the servers its stale delegation points to).")
    var pollAnyway = false

    @Option(name: .customLong("listen"), help: ArgumentHelp("Serve a live status page (/), /metrics (Prometheus) and /status.json on ADDR:PORT while watching; PORT alone listens on 127.0.0.1, [::1]:PORT on IPv6. Read-only, no authentication: see the README's security notes.", valueName: "ADDR:PORT"))
    var listen: String?

    @Option(help: "Output: table (full screen on a terminal, a log otherwise) or ndjson.")
    var format: WatchFormat = .table

    @OptionGroup(title: "Notifications") var notify: NotifyOptions

    enum WatchFormat: String, ExpressibleByArgument, CaseIterable { case table, ndjson }

    func validate() throws {
        guard interval >= 0.2, interval <= 86400 else { throw ValidationError("--interval must be from 0.2 to 86400 seconds") }
        if let maxWait {
            guard DurationText.parse(maxWait) != nil else {
                throw ValidationError("--max-wait '\(TerminalText.escape(maxWait))': write a duration such as 90s, 10m, 2h or 1h30m")
            }
            guard untilPropagated else { throw ValidationError("--max-wait needs --until-propagated") }
        }
        _ = try notify.configuration()
        if let listen { try WatchListen.validate(listen) }
    }

    func run() async throws {
        let plan = try options.plan()
        let recorder: RoundRecorder?
        do { recorder = try recordFile.map { try RoundRecorder(path: $0) } } catch { throw usageFailure("--record: \(error)") }
        let session = WatchSession(plan: plan, engine: QueryEngine(configuration: options.engine.configuration),
                                   options: .init(interval: interval, untilPropagated: untilPropagated,
                                                  maxWait: maxWait.flatMap(DurationText.parse), minCurrent: options.minCurrent,
                                                  pollAnyway: pollAnyway))
        var server: WatchListen.Running?
        if let listen { server = try await WatchListen.start(listen, session: session, plan: plan) }
        let fullScreen = format == .table && Console.isTerminal(1)
        let verbose = options.verbose

        // Subscribers: the record file, then what goes to stdout.
        if let recorder {
            session.subscribe { event in
                if case .roundFinished(let round) = event, let failure = recorder.append(round) { Console.diagnostic("--record \(failure)") }
            }
        }
        // Notifications: queued by the subscriber, delivered off the session's task.
        let notifyConfiguration = try notify.configuration()
        let notifier = notifyConfiguration.isEmpty ? nil
            : WatchNotifier(configuration: notifyConfiguration, names: plan.names) { Console.diagnostic($0) }
        notifier?.attach(to: session)
        // The first of: the session ending, q (0), SIGINT (130), SIGTERM (143).
        let (exits, exit) = AsyncStream<Int32>.makeStream()
        // Every way out (the session ending, q, SIGINT, SIGTERM) leaves through here, once:
        // stop first (no round starts after this; the recorder closes only between two of its
        // writes, both hold its lock), restore the terminal, print the timeline, say how to exit.
        let leaving = Atomic<Bool>(false)
        let table = format == .table
        let leave: @Sendable (Int32, _ timelineOnStderr: Bool) -> Void = { code, onStderr in
            guard leaving.compareExchange(expected: false, desired: true, ordering: .sequentiallyConsistent).exchanged else { return }
            session.stop()
            recorder?.close()
            Terminal.restore()
            if table {
                let text = WatchScreen.timeline(session.state, now: WallClock.now()).joined(separator: "\n") + "\n"
                if onStderr { Console.err(text) } else { Console.out(text) }
            }
            exit.yield(code)
        }
        let screen = fullScreen ? WatchTerminalView(session: session, colour: !options.noColor && Console.useColour(fd: 1)) { leave(0, false) } : nil
        switch format {
        case .ndjson:
            session.subscribe { event in
                guard case .roundFinished(let round) = event else { return }
                let extra: [(String, JSONValue)] = [("round", .int(round.number)), ("timestamp", .string(Timestamp.rfc3339(WallClock.now(), fraction: true)))]
                Console.out(CheckReportJSON.ndjsonLines(round.report, outcome: round.outcome, extra: extra).joined(separator: "\n") + "\n")
            }
        case .table:
            if let screen {
                session.subscribe { [weak screen] _ in screen?.draw() }
            } else {
                session.subscribe { event in
                    guard case .roundFinished(let round) = event else { return }
                    var out = WatchLog.lines(round)
                    if verbose {
                        out += "\(Timestamp.rfc3339(round.report.finishedAt)) round \(round.number): walk from the root: \(round.report.iteration)\n"
                        out += "\(Timestamp.rfc3339(round.report.finishedAt)) round \(round.number): geo truth: \(round.report.geo)\n"
                        out += "\(Timestamp.rfc3339(round.report.finishedAt)) round \(round.number): engine so far: \(session.engine.statistics.summary)\n"
                        if let remote = plan.remote {
                            out += "\(Timestamp.rfc3339(round.report.finishedAt)) \(TerminalText.escape(globalpingBudgetLine(remote)))\n"
                        }
                    }
                    Console.out(out)
                }
            }
        }

        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        var sources: [DispatchSourceSignal] = []
        for (sig, code) in [(SIGINT, Int32(130)), (SIGTERM, Int32(143))] {
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .main)
            source.setEventHandler { leave(code, true) }
            source.activate()
            sources.append(source)
        }
        defer { sources.forEach { $0.cancel() } }
        if let screen { screen.start() }
        Task {
            let ending = await session.run()
            screen?.stop()
            switch ending {
            case .converged:
                // --warn-expiry: a converged watch still exits 1 when the registration needs attention.
                let warnings = session.state.lastReport?.diagnosis?.warnings ?? []
                for w in warnings { Console.diagnostic("--warn-expiry: \(w)") }
                leave(Diagnosis.exitStatus(outcome: .converged, warnings: warnings), false)
            case .maxWaitPassed:
                Console.diagnostic("not converged within \(maxWait ?? "")")
                leave(1, false)
            case .stopped: break     // q or a signal stopped it and has left already
            }
        }
        var code: Int32 = 0
        for await c in exits { code = c; break }
        // A converged event queued by the last round is still to be delivered: wait for it (bounded).
        notifier?.drain(timeout: notify.drainTimeout)
        await server?.stop()
        if code != 0 { throw ExitCode(code) }
    }
}

/// The full-screen view of a running watch: redrawn when a round starts or ends,
/// every second so that TTLs count down, and at once when the terminal is resized
/// (SIGWINCH). Draws are serialised, one write per frame.
final class WatchTerminalView: Sendable {
    let session: WatchSession
    let colour: Bool
    /// Called when the operator presses q.
    let onQuit: @Sendable () -> Void
    private let drawing = Mutex<Bool>(false)      // held while a frame is built and written; true once stopped
    private let ticker = Mutex<Task<Void, Never>?>(nil)
    private let resize = Mutex<DispatchSourceSignal?>(nil)
    private let input = Mutex<DispatchSourceRead?>(nil)
    /// What the operator chose to see, and the key decoder's state.
    private let view = Mutex<(view: WatchView, keys: TerminalKeys, page: Int)>((WatchView(), TerminalKeys(), 10))

    init(session: WatchSession, colour: Bool, onQuit: @escaping @Sendable () -> Void) {
        self.session = session
        self.colour = colour
        self.onQuit = onQuit
    }

    func start() {
        Terminal.enter()
        Terminal.enterRawMode()
        input.withLock { slot in
            let source = DispatchSource.makeReadSource(fileDescriptor: 0, queue: .main)
            source.setEventHandler { [weak self] in self?.readKeys() }
            source.activate()
            slot = source
        }
        signal(SIGWINCH, SIG_IGN)
        resize.withLock { slot in
            let source = DispatchSource.makeSignalSource(signal: SIGWINCH, queue: .main)
            source.setEventHandler { [weak self] in self?.draw() }
            source.activate()
            slot = source
        }
        let task = Task { [weak self] in
            while !Task.isCancelled {
                self?.draw()
                try? await Task.sleep(nanoseconds: 1_000_000_000)
            }
        }
        ticker.withLock { $0 = task }
        draw()
    }

    func stop() {
        drawing.withLock { $0 = true }
        ticker.withLock { $0?.cancel() }
        resize.withLock { $0?.cancel() }
        input.withLock { $0?.cancel() }
    }

    func readKeys() {
        var buffer = [UInt8](repeating: 0, count: 256)
        let n = buffer.withUnsafeMutableBytes { read(0, $0.baseAddress!, $0.count) }
        guard n > 0 else {
            if n == 0 { input.withLock { $0?.cancel() } }      // stdin closed: no more keys
            return
        }
        let quit = view.withLock { v -> Bool in
            for key in v.keys.feed(Array(buffer[0..<n])) where !v.view.handle(key, page: v.page) { return true }
            return false
        }
        if quit { onQuit(); return }
        draw()
    }

    func draw() {
        drawing.withLock { stopped in
            guard !stopped else { return }
            let size = Terminal.size()
            let state = session.state
            let now = WallClock.now()
            let chosen = view.withLock { $0.view }
            let frame = WatchScreen(width: size.width, height: size.height, colour: colour)
                .frame(state, names: session.plan.names, now: now, nextRound: session.nextRoundAt, interval: session.options.interval, view: chosen)
            view.withLock { $0.view.settle(drawn: chosen, shownScroll: frame.scroll); $0.page = frame.page }
            var lines = frame.lines
            if state.round == 0 { lines.append("checking…") }
            Terminal.draw(Array(lines.prefix(size.height)))
        }
    }
}
