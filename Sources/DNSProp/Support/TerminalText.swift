/// Makes untrusted text (from the network or a user's file) safe to print.
///
/// Control characters (C0, DEL, C1), line and paragraph separators, Unicode
/// format characters (bidi controls that can reorder what a terminal shows,
/// zero-width and tag characters) and every other default-ignorable
/// (invisible) code point are replaced by visible escapes, so that a TXT record
/// carrying `ESC ]` sequences cannot change the user's terminal and a network
/// string cannot hide or break what is shown.
public enum TerminalText {
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            if needsEscape(scalar) {
                out += scalar.value <= 0xFF ? "\\x" + hex(scalar.value, width: 2) : "\\u{" + hex(scalar.value, width: 4) + "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    static func needsEscape(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if v < 0x20 || v == 0x7F || (0x80...0x9F).contains(v) { return true }
        let p = s.properties
        // Line and paragraph separators break a table row as a newline would.
        if p.generalCategory == .lineSeparator || p.generalCategory == .paragraphSeparator { return true }
        // Format characters: bidi overrides and isolates (Trojan Source), zero-width
        // spaces and joiners, word joiner and invisible operators (U+2060–2064),
        // BOM, Mongolian vowel separator, tag characters (U+E0000–E007F).
        if p.generalCategory == .format { return true }
        // Default-ignorable code points render as nothing: Hangul fillers (U+115F,
        // U+1160, U+3164, U+FFA0), variation selectors, soft hyphen, combining
        // grapheme joiner… A name or city could hide text behind them.
        if p.isDefaultIgnorableCodePoint { return true }
        return false
    }

    /// `U+0007 (control character)` style, for messages about a character.
    public static func describe(_ s: Unicode.Scalar) -> String {
        let code = "U+" + hex(s.value, width: 4)
        return needsEscape(s) || s == " " ? code : "'\(s)' (\(code))"
    }

    private static func hex(_ v: UInt32, width: Int) -> String {
        let s = String(v, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }
}
