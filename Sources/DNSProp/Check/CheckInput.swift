/// What a user types (names, record types, `--expect TYPE=VALUE`) turned into a
/// check's typed inputs, with one precise message for the first bad value.
/// The command line only passes text in and shows the message.
public enum CheckInput {
    /// Bad input, with a message fit for a terminal (network-free, escaped).
    public struct Problem: Error, Hashable, Sendable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
        init(_ message: String) { self.message = message }
    }

    /// Domain names, converted to A-labels; duplicates dropped, order kept.
    public static func names(_ values: [String]) throws(Problem) -> [DomainName] {
        var out: [DomainName] = []
        for value in values {
            do {
                let name = try DomainName(value)
                if !out.contains(name) { out.append(name) }
            } catch {
                throw Problem("bad domain name: \(error)")
            }
        }
        return out
    }

    /// `A,AAAA` or repeated values; duplicates dropped, order kept.
    public static func types(_ values: [String]) throws(Problem) -> [RecordType] {
        var out: [RecordType] = []
        for value in values {
            for part in value.split(separator: ",") {
                guard let t = RecordType(name: String(part).trimmingSpaces) else {
                    throw Problem("unknown record type '\(TerminalText.escape(String(part)))'; use a name such as A, AAAA, MX, NS, TXT, CNAME, SOA, CAA, HTTPS, or TYPEnnn")
                }
                if !out.contains(t) { out.append(t) }
            }
        }
        return out
    }

    /// One `--expect TYPE=VALUE`, checked for its type (an address for A/AAAA, a name for NS/CNAME).
    public static func expectation(_ text: String) throws(Problem) -> (type: RecordType, value: String) {
        let shown = TerminalText.escape(text)
        guard let eq = text.firstIndex(of: "=") else {
            throw Problem("--expect '\(shown)': write TYPE=VALUE, e.g. A=203.0.113.10")
        }
        let typeText = String(text[..<eq]).trimmingSpaces, value = String(text[text.index(after: eq)...]).trimmingSpaces
        guard let type = RecordType(name: typeText) else {
            throw Problem("--expect '\(shown)': unknown record type '\(TerminalText.escape(typeText))'")
        }
        guard !value.isEmpty else { throw Problem("--expect '\(shown)': the value is empty") }
        switch type {
        case .a, .aaaa:
            guard let ip = IPAddress(value), ip.isIPv6 == (type == .aaaa) else {
                throw Problem("--expect '\(shown)': '\(TerminalText.escape(value))' is not an \(type == .a ? "IPv4" : "IPv6") address")
            }
        case .ns, .cname:
            guard (try? DomainName(value)) != nil else {
                throw Problem("--expect '\(shown)': '\(TerminalText.escape(value))' is not a valid name")
            }
        default:
            break
        }
        return (type, value)
    }

    /// Every `--expect`, grouped by type in the order given.
    public static func expectations(_ values: [String]) throws(Problem) -> [RecordType: [String]] {
        var out: [RecordType: [String]] = [:]
        for text in values {
            let (type, value) = try expectation(text)
            out[type, default: []].append(value)
        }
        return out
    }

    /// The record types asked when none are given: A, AAAA, MX; with `--expect`, the
    /// expected types (NS only as a record question when the delegation check is off,
    /// since the delegation check asks it anyway).
    public static func defaultTypes(expectations: [RecordType: [String]], checkDelegation: Bool) -> [RecordType] {
        if expectations.isEmpty { return [.a, .aaaa, .mx] }
        return expectations.keys.sorted().filter { $0 != .ns || !checkDelegation }
    }
}
