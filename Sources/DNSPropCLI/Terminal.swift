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

    /// Leaves the alternate screen once, whoever calls first.
    static func restore() {
        guard active.compareExchange(expected: true, desired: false, ordering: .sequentiallyConsistent).exchanged else { return }
        Console.out("\u{1B}[?25h\u{1B}[?1049l")
    }

    /// Redraws in place: home, each line cleared to its end, the rest of the screen cleared. One write per frame.
    static func draw(_ lines: [String]) {
        var out = "\u{1B}[H"
        for line in lines { out += line + "\u{1B}[K\r\n" }
        out += "\u{1B}[J"
        Console.out(out)
    }
}
