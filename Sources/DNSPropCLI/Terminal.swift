#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// The full-screen terminal: alternate screen, hidden cursor, size, and a
/// guaranteed restore (also from signal handling and at exit).
enum Terminal {
    /// Whether the alternate screen is on. Atomic: the signal handler and the
    /// exit hook restore the terminal from other threads than the one that entered it.
    private static let active = Atomic<Bool>(false)
    /// Whether stdin is in raw mode (keys read one by one, no echo).
    private static let raw = Atomic<Bool>(false)
    /// The terminal settings before raw mode. Written once, before `raw` is set and
    /// before the crash handlers that read it are installed; only read afterwards.
    nonisolated(unsafe) private static var saved = termios()

    static func size() -> (width: Int, height: Int) {
        var ws = winsize()
        if ioctl(1, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_col > 0, ws.ws_row > 0 {
            return (Int(ws.ws_col), Int(ws.ws_row))
        }
        return (80, 24)
    }

    static func enter() {
        guard active.compareExchange(expected: false, desired: true, ordering: .sequentiallyConsistent).exchanged else { return }
        Console.out("\u{1B}[?1049h\u{1B}[?25l")
        atexit { Terminal.restore() }
    }

    /// Leaves the alternate screen (and raw mode) once, whoever calls first.
    static func restore() {
        if raw.compareExchange(expected: true, desired: false, ordering: .sequentiallyConsistent).exchanged {
            _ = tcsetattr(0, TCSANOW, &saved)
        }
        guard active.compareExchange(expected: true, desired: false, ordering: .sequentiallyConsistent).exchanged else { return }
        Console.out("\u{1B}[?25h\u{1B}[?1049l")
    }

    /// Keys one by one without echo (signals such as Ctrl-C still work). On a crash
    /// signal the terminal is restored before the process dies with that signal.
    static func enterRawMode() {
        guard isatty(0) == 1, tcgetattr(0, &saved) == 0 else { return }
        var t = saved
        t.c_lflag &= ~tcflag_t(ICANON | ECHO)
        t.c_cc.6 = 1     // VMIN
        t.c_cc.5 = 0     // VTIME
        guard tcsetattr(0, TCSANOW, &t) == 0 else { return }
        raw.store(true, ordering: .sequentiallyConsistent)
        for sig in [SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP] {
            signal(sig) { sig in
                // Async-signal-safe only: tcsetattr and write, then die by the same signal.
                _ = tcsetattr(0, TCSANOW, &Terminal.saved)
                let reset: StaticString = "\u{1B}[?25h\u{1B}[?1049l"
                _ = write(1, reset.utf8Start, reset.utf8CodeUnitCount)
                signal(sig, SIG_DFL)
                raise(sig)
            }
        }
    }

    /// Redraws in place: home, each line cleared to its end, the rest of the screen cleared.
    /// One write per frame; no newline after the last line, so a frame as tall as the
    /// terminal does not scroll it.
    static func draw(_ lines: [String]) {
        var out = "\u{1B}[H"
        for (i, line) in lines.enumerated() { out += (i == 0 ? "" : "\r\n") + line + "\u{1B}[K" }
        out += "\u{1B}[J"
        Console.out(out)
    }
}
