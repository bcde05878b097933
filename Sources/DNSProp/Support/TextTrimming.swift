extension StringProtocol {
    /// The text without leading and trailing whitespace: the one trimming helper of
    /// every parser (names, resolver lists, parking signatures, root hints, options).
    public var trimmingSpaces: String {
        var s = Substring(self)
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
