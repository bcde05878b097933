/// Makes untrusted text (from the network or a user's file) safe to print.
///
/// Control characters (C0, DEL, C1), and Unicode bidi controls that can
/// reorder what a terminal shows, are replaced by visible escapes, so that a
/// TXT record carrying `ESC ]` sequences cannot change the user's terminal.
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
        // Bidi overrides and isolates (Trojan Source), zero-width and BOM, U+FFFD stays visible.
        if (0x202A...0x202E).contains(v) || (0x2066...0x2069).contains(v) || v == 0x200E || v == 0x200F
            || v == 0x061C || v == 0xFEFF || (0x200B...0x200D).contains(v) { return true }
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
