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
