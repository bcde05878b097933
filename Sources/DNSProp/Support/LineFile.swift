/// A line-oriented text file given by a user (root hints, `--parking` signatures):
/// the one place that splits lines (LF and CRLF), strips comments, and refuses
/// lines that are not valid UTF-8 or hold control characters, with `file:line`.
public enum LineFile {
    /// A problem at a line of a file: `source:line: message`, the source escaped.
    public struct ParseError: Error, Sendable, CustomStringConvertible {
        public var source: String
        public var line: Int
        public var message: String
        public init(source: String, line: Int, message: String) {
            self.source = source
            self.line = line
            self.message = message
        }
        public var description: String { "\(TerminalText.escape(source)):\(line): \(message)" }
    }

    /// The lines of `text`, numbered from 1, each without its comment (from `comment` on)
    /// and without a trailing CR. A line with invalid UTF-8 or a control character other
    /// than a tab is an error naming it.
    public static func lines(_ text: String, source: String, comment: Character) throws(ParseError) -> [(number: Int, text: Substring)] {
        var out: [(Int, Substring)] = []
        var number = 0
        // "\r\n" is one Character in Swift: split on it too, so CRLF files parse like LF ones.
        for raw in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            number += 1
            var line = Substring(raw)
            if let c = line.firstIndex(of: comment) { line = line[..<c] }
            while line.last == "\r" { line = line.dropLast() }
            if line.unicodeScalars.contains("\u{FFFD}") { throw ParseError(source: source, line: number, message: "not valid UTF-8") }
            if let bad = line.unicodeScalars.first(where: { TerminalText.needsEscape($0) && $0 != "\t" }) {
                throw ParseError(source: source, line: number, message: "contains \(TerminalText.describe(bad))")
            }
            out.append((number, line))
        }
        return out
    }
}
