#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import DNSProp

/// stdout for results, stderr for diagnostics; both unbuffered through write(2)
/// so that interleaving with progress lines stays in order.
enum Console {
    static func out(_ text: String) { write(fd: 1, text) }
    /// Raw stderr, for the tool's own control sequences (progress line). Anything
    /// that may carry network or file text goes through `diagnostic`.
    static func err(_ text: String) { write(fd: 2, text) }

    /// `dnsprop: TEXT` on stderr, with every control character in TEXT escaped:
    /// the one way a message that can carry network text (an API's error, a
    /// measurement id, a resolver list's line) reaches the terminal.
    static func diagnostic(_ text: String) {
        var lines = ""
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lines += "dnsprop: " + TerminalText.escape(String(line)) + "\n"
        }
        write(fd: 2, lines)
    }

    static func write(fd: Int32, _ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 { if errno == EINTR { continue }; return }
            offset += n
        }
    }

    static func isTerminal(_ fd: Int32) -> Bool { isatty(fd) == 1 }

    /// Colour only on a terminal, never with NO_COLOR set (https://no-color.org).
    static func useColour(fd: Int32) -> Bool {
        guard isTerminal(fd) else { return false }
        if let v = getenv("NO_COLOR"), v.pointee != 0 { return false }
        if let term = getenv("TERM"), String(cString: term) == "dumb" { return false }
        return true
    }
}

/// Prints `dnsprop: error: …` (escaped) and returns the exit code for bad input (64, EX_USAGE).
func usageFailure(_ message: String) -> ExitCode {
    Console.diagnostic("error: \(message)")
    return ExitCode(64)
}

/// `--verbose`: what is left of the Globalping budget.
func globalpingBudgetLine(_ remote: GlobalpingVantage) -> String {
    let b = remote.client.budget
    return "Globalping budget: rate limit remaining \(b.rateLimitRemaining.map(String.init) ?? "?"), credits remaining \(b.creditsRemaining.map(String.init) ?? "?")"
}
