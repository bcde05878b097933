/// The servers iteration starts from: IANA's root hints, or a user's file in
/// the same format (`--root-hints`), so the whole walk can run against any
/// DNS hierarchy, such as the offline testbed's.
public struct RootHints: Sendable, Hashable {
    public struct Server: Sendable, Hashable {
        public var name: String
        public var addresses: [IPAddress]
    }
    public var servers: [Server]

    public var addresses: [IPAddress] { servers.flatMap(\.addresses) }

    /// IANA's root servers (named.root, 2024 edition: b.root-servers.net renumbered in 2023).
    public static let iana = RootHints(servers: [
        ("a", "198.41.0.4", "2001:503:ba3e::2:30"), ("b", "170.247.170.2", "2801:1b8:10::b"),
        ("c", "192.33.4.12", "2001:500:2::c"), ("d", "199.7.91.13", "2001:500:2d::d"),
        ("e", "192.203.230.10", "2001:500:a8::e"), ("f", "192.5.5.241", "2001:500:2f::f"),
        ("g", "192.112.36.4", "2001:500:12::d0d"), ("h", "198.97.190.53", "2001:500:1::53"),
        ("i", "192.36.148.17", "2001:7fe::53"), ("j", "192.58.128.30", "2001:503:c27::2:30"),
        ("k", "193.0.14.129", "2001:7fd::1"), ("l", "199.7.83.42", "2001:500:9f::42"),
        ("m", "202.12.27.33", "2001:dc3::35"),
    ].map { Server(name: "\($0.0).root-servers.net.", addresses: [IPAddress($0.1)!, IPAddress($0.2)!]) })

    public typealias ParseError = LineFile.ParseError

    /// Parses the root hints format (a zone-file subset): `. TTL [IN] NS name`, `name TTL [IN] A|AAAA address`.
    /// Comments start with `;`. Lines that are not NS, A or AAAA are errors, as are NS names without an address.
    public static func parse(_ text: String, source: String) throws(ParseError) -> RootHints {
        var order: [String] = []
        var addresses: [String: [IPAddress]] = [:]
        var nsNames: Set<String> = []
        var lineNumber = 0
        for (number, line) in try LineFile.lines(text, source: source, comment: ";") {
            lineNumber = number
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            if fields.isEmpty { continue }
            // owner [ttl] [class] type rdata
            var rest = fields.dropFirst()
            let owner = fields[0].lowercased()
            if let first = rest.first, UInt32(first) != nil { rest = rest.dropFirst() }
            if let first = rest.first, first.uppercased() == "IN" { rest = rest.dropFirst() }
            if let t = rest.first?.uppercased(), RecordType(name: t) != nil, !["NS", "A", "AAAA"].contains(t) {
                throw ParseError(source: source, line: lineNumber, message: "unexpected record type '\(TerminalText.escape(t))' (root hints hold NS, A and AAAA)")
            }
            guard rest.count == 2, let type = rest.first?.uppercased(), let data = rest.last else {
                throw ParseError(source: source, line: lineNumber, message: "expected 'NAME [TTL] [IN] TYPE DATA'")
            }
            switch type {
            case "NS":
                guard owner == "." else {
                    throw ParseError(source: source, line: lineNumber, message: "NS records in root hints must belong to '.', not '\(TerminalText.escape(owner))'")
                }
                let target = data.lowercased().hasSuffix(".") ? data.lowercased() : data.lowercased() + "."
                guard DomainName(presentation: target) != nil else {
                    throw ParseError(source: source, line: lineNumber, message: "'\(TerminalText.escape(data))' is not a valid server name")
                }
                if nsNames.insert(target).inserted { order.append(target) }
            case "A", "AAAA":
                guard let ip = IPAddress(data), ip.isIPv6 == (type == "AAAA") else {
                    throw ParseError(source: source, line: lineNumber, message: "'\(TerminalText.escape(data))' is not a valid \(type == "A" ? "IPv4" : "IPv6") address")
                }
                let name = owner.hasSuffix(".") ? owner : owner + "."
                addresses[name, default: []].append(ip)
            default:
                throw ParseError(source: source, line: lineNumber, message: "unexpected record type '\(TerminalText.escape(type))' (root hints hold NS, A and AAAA)")
            }
        }
        guard !order.isEmpty else { throw ParseError(source: source, line: lineNumber, message: "no NS records for '.'") }
        var servers: [Server] = []
        for name in order {
            guard let ips = addresses[name], !ips.isEmpty else {
                throw ParseError(source: source, line: lineNumber, message: "root server \(name) has no A or AAAA record")
            }
            servers.append(Server(name: name, addresses: ips))
        }
        return RootHints(servers: servers)
    }
}
