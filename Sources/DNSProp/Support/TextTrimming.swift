extension StringProtocol {
    /// The text without leading and trailing whitespace: the one trimming helper of
    /// every parser (names, resolver lists, parking signatures, root hints, options).
    public var trimmingSpaces: String {
        // Nearly always: an ASCII character other than white space at each end.
        var s = Substring(self)
        if let f = s.utf8.first, let l = s.utf8.last, f > 0x20, f < 0x80, l > 0x20, l < 0x80 { return String(s) }
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}

extension String {
    /// `lowercased()`, without a new string when there is nothing to lower (names in
    /// answers nearly always come in lower case).
    var lowercasedIfNeeded: String {
        var copy = self
        let plain = copy.withUTF8 { b in !b.contains { $0 >= 0x41 && ($0 <= 0x5A || $0 >= 0x80) } }
        return plain ? self : lowercased()
    }
}
