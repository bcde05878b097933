#if canImport(Glibc)
import Glibc
#endif

/// The full-screen terminal: alternate screen, hidden cursor, size, and a
/// guaranteed restore (also from signal handling and at exit).
enum Terminal {
    private nonisolated(unsafe) static var active = false

    static func size() -> (width: Int, height: Int) {
        var ws = winsize()
        if ioctl(1, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_col > 0, ws.ws_row > 0 {
            return (Int(ws.ws_col), Int(ws.ws_row))
        }
        return (80, 24)
    }

    static func enter() {
        guard !active else { return }
        active = true
        Console.out("\u{1B}[?1049h\u{1B}[?25l")
        atexit { Terminal.restore() }
    }

    static func restore() {
        guard active else { return }
        active = false
        Console.out("\u{1B}[?25h\u{1B}[?1049l")
    }

    /// Redraws in place: home, each line cleared to its end, the rest of the screen cleared.
    static func draw(_ lines: [String]) {
        var out = "\u{1B}[H"
        for line in lines { out += line + "\u{1B}[K\r\n" }
        out += "\u{1B}[J"
        Console.out(out)
    }
}
