/// A parsed resolver list, with every problem found on the way.
///
/// Parsing never stops at the first bad line: a malformed line is reported
/// (file, line, what is wrong) and skipped, and the rest of the list is used.
public struct ResolverList: Sendable {
    public var resolvers: [Resolver]
    public var problems: [Problem]

    public init(resolvers: [Resolver], problems: [Problem] = []) {
        self.resolvers = resolvers
        self.problems = problems
    }

    public struct Problem: Hashable, Sendable, CustomStringConvertible {
        public enum Severity: String, Hashable, Sendable { case error, warning }
        public var source: String
        public var line: Int
        public var severity: Severity
        public var message: String
        public var description: String { "\(source):\(line): \(severity.rawValue): \(message)" }
    }

    public var errors: [Problem] { problems.filter { $0.severity == .error } }

    /// Parses the resolvers.txt format (see the header of the shipped list).
    public static func parse(_ text: String, source: String) -> ResolverList {
        var resolvers: [Resolver] = []
        var problems: [Problem] = []
        var firstLine: [ServerAddress: Int] = [:]
        var lineNumber = 0
        // Lines are split as bytes (a Character split runs grapheme breaking over the whole
        // list); a CR before the LF is dropped, so CRLF files parse like LF ones.
        for rawLine in text.utf8.split(separator: 0x0A, omittingEmptySubsequences: false) {
            lineNumber += 1
            var bytes = rawLine
            if bytes.last == 0x0D { bytes = bytes.dropLast() }
            if let hash = bytes.firstIndex(of: 0x23) { bytes = bytes[..<hash] }   // "#"
            let line = Substring(bytes)
            func report(_ severity: Problem.Severity, _ message: String) {
                problems.append(Problem(source: source, line: lineNumber, severity: severity, message: message))
            }
            // A line of printable ASCII (nearly all) holds nothing the two checks below look for.
            let plainASCII = line.utf8.allSatisfy { ($0 >= 0x20 && $0 < 0x7F) || $0 == 0x09 }
            if !plainASCII && line.unicodeScalars.contains("\u{FFFD}") {
                report(.error, "line is not valid UTF-8; line skipped")
                continue
            }
            if !plainASCII, let bad = line.unicodeScalars.first(where: { TerminalText.needsEscape($0) && $0 != "\t" }) {
                report(.error, "line contains \(TerminalText.describe(bad)), which has no place in a resolver list; line skipped")
                continue
            }
            let fields = line.utf8.split(separator: 0x7C, omittingEmptySubsequences: false).map { String(Substring($0)).trimmingSpaces }
            if fields.count == 1 && fields[0].isEmpty { continue }
            if fields.count > 6 {
                report(.error, "\(fields.count) fields separated by '|'; at most 6 (ADDRESS | OPERATOR | COUNTRY | LOCATION | TAGS | SOURCE); line skipped")
                continue
            }
            let address: ServerAddress
            do {
                address = try ServerAddress(parsing: fields[0])
            } catch {
                let hint = fields[0].contains(" ") || fields[0].contains("\t") ? " (separate fields with '|')" : ""
                report(.error, "\(error)\(hint); line skipped")
                continue
            }
            if let first = firstLine[address] {
                report(.warning, "\(address) is listed again (first on line \(first)); this line is skipped")
                continue
            }
            var resolver = Resolver(address: address, origin: "\(source):\(lineNumber)")
            if fields.count > 1, !fields[1].isEmpty {
                let (name, key, problem) = splitServiceKey(fields[1])
                if let problem { report(.warning, problem) }
                resolver.operatorName = name
                resolver.service = key ?? name.flatMap(Resolver.serviceKey(for:)) ?? address.description
            }
            if fields.count > 2, !fields[2].isEmpty {
                let code = fields[2].uppercased()
                if code.count == 2, Continent.of(country: code) != nil {
                    resolver.countryCode = code
                } else {
                    report(.warning, "'\(TerminalText.escape(fields[2]))' is not an ISO 3166-1 alpha-2 country code; country left unknown")
                }
            }
            if fields.count > 3, !fields[3].isEmpty { resolver.location = fields[3] }
            if fields.count > 4 {
                for word in fields[4].split(whereSeparator: { $0 == "," || $0 == " " }) {
                    if let tag = Resolver.Tag(rawValue: word.lowercased()) {
                        resolver.tags.insert(tag)
                    } else {
                        let known = Resolver.Tag.allCases.map(\.rawValue).joined(separator: ", ")
                        report(.warning, "unknown tag '\(TerminalText.escape(String(word)))' ignored (known: \(known))")
                    }
                }
                if resolver.tags.contains(.anycast) && resolver.tags.contains(.unicast) {
                    report(.warning, "tagged both anycast and unicast")
                }
            }
            if fields.count > 5, !fields[5].isEmpty { resolver.source = fields[5] }
            firstLine[address] = lineNumber
            resolvers.append(resolver)
        }
        return ResolverList(resolvers: resolvers, problems: problems)
    }

    /// Splits `Operator name [service-key]` into the name and the explicit key. A malformed or
    /// invalid key is reported (the message) and ignored, so the key is derived from the name.
    static func splitServiceKey(_ field: String) -> (name: String?, key: String?, problem: String?) {
        guard let open = field.lastIndex(of: "[") else {
            if field.contains("]") {
                return (field, nil, "']' without '[' in OPERATOR '\(TerminalText.escape(field))'; write a service key as 'Name [key]'")
            }
            return (field, nil, nil)
        }
        let name = String(field[..<open]).trimmingSpaces
        let rest = field[field.index(after: open)...]
        guard rest.hasSuffix("]") else {
            return (field, nil, "OPERATOR '\(TerminalText.escape(field))' has '[' but does not end in ']'; a service key is written last: 'Name [key]'")
        }
        let key = String(rest.dropLast()).trimmingSpaces
        guard Resolver.isValidServiceKey(key) else {
            return (name.isEmpty ? nil : name, nil,
                    "bad service key '\(TerminalText.escape(key))' (1-63 of a-z 0-9 - ., starting with a letter or digit); key derived from the operator name")
        }
        return (name.isEmpty ? nil : name, key, nil)
    }

    /// The list built into the binary: identical to the top-level resolvers.txt (a test keeps it so).
    /// The built-in list's text (what `resolvers check --write` rewrites without --resolvers).
    public static var bundledText: String { BundledResolvers.text }

    public static var bundled: ResolverList {
        parse(BundledResolvers.text, source: "resolvers.txt (built in)")
    }
}
