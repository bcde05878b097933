/// Turns the bytes a terminal in raw mode sends into keys: arrows, PgUp/PgDn,
/// Home/End (the xterm and VT220 forms), Enter, Esc, Backspace, and UTF-8 text.
/// Unknown escape sequences are dropped whole.
public struct TerminalKeys: Sendable {
    private var pending: [UInt8] = []

    public init() {}

    /// The keys in `bytes`. A lone ESC at the end of a read is the Esc key.
    public mutating func feed(_ bytes: [UInt8]) -> [WatchView.Key] {
        pending += bytes
        var keys: [WatchView.Key] = []
        var i = 0
        let b = pending
        while i < b.count {
            let c = b[i]
            if c == 0x1B {
                guard i + 1 < b.count else { keys.append(.escape); i += 1; continue }
                let next = b[i + 1]
                guard next == UInt8(ascii: "[") || next == UInt8(ascii: "O") else { keys.append(.escape); i += 1; continue }
                // CSI / SS3: parameters, then a final byte in 0x40...0x7E.
                var j = i + 2
                while j < b.count, !(0x40...0x7E).contains(b[j]) { j += 1 }
                guard j < b.count else { break }          // incomplete: wait for more
                let params = String(decoding: b[(i + 2)..<j], as: UTF8.self)
                switch (b[j], params) {
                case (UInt8(ascii: "A"), _): keys.append(.up)
                case (UInt8(ascii: "B"), _): keys.append(.down)
                case (UInt8(ascii: "H"), _): keys.append(.home)
                case (UInt8(ascii: "F"), _): keys.append(.end)
                case (UInt8(ascii: "~"), "5"): keys.append(.pageUp)
                case (UInt8(ascii: "~"), "6"): keys.append(.pageDown)
                case (UInt8(ascii: "~"), "1"), (UInt8(ascii: "~"), "7"): keys.append(.home)
                case (UInt8(ascii: "~"), "4"), (UInt8(ascii: "~"), "8"): keys.append(.end)
                default: break
                }
                i = j + 1
                continue
            }
            switch c {
            case 0x0D, 0x0A: keys.append(.enter); i += 1
            case 0x7F, 0x08: keys.append(.backspace); i += 1
            case 0x00..<0x20: i += 1                      // other controls: ignored
            default:
                // One UTF-8 scalar.
                let length = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1
                guard i + length <= b.count else { pending = Array(b[i...]); return keys }
                if let s = String(validating: b[i..<(i + length)], as: UTF8.self), let ch = s.first { keys.append(.character(ch)) }
                i += length
            }
        }
        pending = i < b.count ? Array(b[i...]) : []
        return keys
    }
}
