import Foundation

/// Signatures of parking services, domain marketplaces and registrar expiry or
/// hold pages: NS and CNAME name patterns, A/AAAA networks, SOA contacts.
///
/// The built-in set comes from the TMA 2022 indicator set (Zirngibl et al.,
/// "Domain Parking: Largely Present, Rarely Considered!") plus registrar
/// expiry signatures; see data/parking-signatures.json for provenance.
public struct ParkingSignatures: Sendable {
    public struct Provider: Sendable, Hashable {
        public var id: String
        public var name: String
        /// parking, marketplace, registrar-expiry, registrar-hold, placeholder, mixed, user
        public var kind: String
        public var ns: [NamePattern]
        public var cname: [NamePattern]
        public var soaRname: [NamePattern]
        public var networks: [(IPAddress, Int)]
        /// NS patterns that are also the provider's ordinary DNS: they need a second indicator.
        public var ambiguousNS: Set<String>

        public static func == (a: Provider, b: Provider) -> Bool { a.id == b.id }
        public func hash(into h: inout Hasher) { h.combine(id) }
    }

    /// A case-insensitive name pattern where `%` matches any run of characters (SQL ILIKE).
    public struct NamePattern: Sendable, Hashable, CustomStringConvertible {
        public let pattern: String
        private let parts: [Substring]
        public init(_ pattern: String) {
            var p = pattern.lowercased().trimmingSpaces
            if !p.hasSuffix(".") { p += "." }
            self.pattern = p
            self.parts = p.split(separator: "%", omittingEmptySubsequences: false)
        }
        public var description: String { pattern }

        public func matches(_ name: String) -> Bool { matches(normalized: Self.normalize(name)) }

        /// Lower case, with the final dot: the form patterns are kept in.
        static func normalize(_ name: String) -> String {
            var n = name.lowercased()
            if !n.hasSuffix(".") { n += "." }
            return n
        }

        /// `n` already normalised (`normalize`).
        func matches(normalized n: String) -> Bool {
            if parts.count == 1 { return n == pattern }
            var rest = Substring(n)
            guard rest.hasPrefix(parts[0]) else { return false }
            rest = rest.dropFirst(parts[0].count)
            for (i, part) in parts.enumerated().dropFirst() {
                if i == parts.count - 1 { return rest.hasSuffix(part) && rest.count >= part.count }
                guard let r = rest.range(of: part) else { return false }
                rest = rest[r.upperBound...]
            }
            return true
        }
    }

    /// What matched, for the verdict's reason.
    public struct Match: Sendable, Hashable {
        public var provider: String
        public var kind: String
        public var indicator: String
    }

    public var providers: [Provider] {
        get { loaded ?? Self.bundledProviders }
        set { loaded = newValue }
    }
    /// nil: the bundled set, decoded when a verdict first needs it (most checks never do:
    /// only an answer that differs from the truth is matched against the signatures).
    private var loaded: [Provider]?

    public init(providers: [Provider]) { self.loaded = providers }
    private init() { self.loaded = nil }

    public static let bundled = ParkingSignatures()

    private static let bundledProviders: [Provider] = {
        // The bundled file is checked by a test; a failure here would be a build defect.
        (try? fromJSON(BundledParkingSignatures.text))?.providers ?? []
    }()

    public typealias ParseError = LineFile.ParseError

    static func fromJSON(_ text: String) throws -> ParkingSignatures {
        struct File: Decodable {
            struct P: Decodable {
                var id: String, name: String, kind: String
                var ns: [String], a: [String], aaaa: [String], cname: [String], soaRname: [String], ambiguousNS: [String]
            }
            var providers: [P]
        }
        let file = try JSONDecoder().decode(File.self, from: Data(text.utf8))
        return ParkingSignatures(providers: try file.providers.map { p in
            Provider(id: p.id, name: p.name, kind: p.kind, ns: p.ns.map(NamePattern.init), cname: p.cname.map(NamePattern.init),
                     soaRname: p.soaRname.map(NamePattern.init),
                     networks: try (p.a + p.aaaa).map { cidr in
                         guard let n = Self.network(cidr) else { throw ParseError(source: "parking-signatures.json", line: 0, message: "bad network \(cidr)") }
                         return n
                     },
                     ambiguousNS: Set(p.ambiguousNS.map { NamePattern($0).pattern }))
        })
    }

    static func network(_ text: String) -> (IPAddress, Int)? {
        // Empty parts kept: "/" and "1.2.3.4/" are errors, not a crash or a /32.
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count >= 1, let ip = IPAddress(String(parts[0])) else { return nil }
        let max = ip.isIPv6 ? 128 : 32
        guard parts.count == 2 else { return (ip, max) }
        guard let len = Int(parts[1]), (0...max).contains(len) else { return nil }
        return (ip, len)
    }

    /// Parses a user's signature file (`--parking FILE`), one indicator per line:
    ///
    ///     TYPE VALUE [| PROVIDER NAME]
    ///
    /// TYPE is NS, CNAME (name patterns, `%` as wildcard), A or AAAA (address or
    /// network, `192.0.2.0/24`), or SOA-RNAME. `#` starts a comment.
    public static func parseUserFile(_ text: String, source: String) throws(ParseError) -> ParkingSignatures {
        var byName: [String: Provider] = [:]
        var order: [String] = []
        for (lineNumber, line) in try LineFile.lines(text, source: source, comment: "#") {
            let halves = line.split(separator: "|", maxSplits: 1, omittingEmptySubsequences: false)
            let words = halves[0].split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if words.isEmpty && (halves.count == 1 || halves[1].trimmingSpaces.isEmpty) { continue }
            guard words.count == 2 else {
                throw ParseError(source: source, line: lineNumber, message: "expected 'TYPE VALUE [| PROVIDER]', e.g. 'NS %.parkingcrew.net | ParkingCrew'")
            }
            let type = words[0].uppercased(), value = String(words[1])
            let providerName = halves.count > 1 ? String(halves[1]).trimmingSpaces : ""
            let name = providerName.isEmpty ? "\(source):\(lineNumber)" : providerName
            if byName[name] == nil {
                byName[name] = Provider(id: "user:\(name)", name: name, kind: "user", ns: [], cname: [], soaRname: [], networks: [], ambiguousNS: [])
                order.append(name)
            }
            switch type {
            case "NS", "CNAME", "SOA-RNAME":
                let probe = value.replacingOccurrences(of: "%", with: "x")
                guard DomainName(presentation: probe) != nil else {
                    throw ParseError(source: source, line: lineNumber, message: "'\(TerminalText.escape(value))' is not a name pattern")
                }
                let p = NamePattern(value)
                if type == "NS" { byName[name]!.ns.append(p) } else if type == "CNAME" { byName[name]!.cname.append(p) } else { byName[name]!.soaRname.append(p) }
            case "A", "AAAA":
                guard let n = network(value), n.0.isIPv6 == (type == "AAAA") else {
                    throw ParseError(source: source, line: lineNumber, message: "'\(TerminalText.escape(value))' is not an \(type == "A" ? "IPv4" : "IPv6") address or network")
                }
                byName[name]!.networks.append(n)
            default:
                throw ParseError(source: source, line: lineNumber, message: "unknown type '\(TerminalText.escape(String(words[0])))'; use NS, CNAME, A, AAAA or SOA-RNAME")
            }
        }
        return ParkingSignatures(providers: order.map { byName[$0]! })
    }

    public func adding(_ other: ParkingSignatures) -> ParkingSignatures {
        ParkingSignatures(providers: other.providers + providers)
    }

    /// What of a record the signatures look at, worked out once per record rather than
    /// once per provider: the NS or CNAME target or the SOA contact, normalised, or the
    /// address. nil for a record no signature can match (MX, TXT, …).
    private struct Candidate {
        let record: ResourceRecord
        let name: String?
        let address: IPAddress?

        init?(_ r: ResourceRecord) {
            record = r
            switch r.type {
            case .ns, .cname:
                name = NamePattern.normalize(r.rdata)
                address = nil
            case .soa:
                guard r.rdataFields.count >= 2 else { return nil }
                name = NamePattern.normalize(r.rdataFields[1])
                address = nil
            case .a, .aaaa:
                guard let ip = IPAddress(r.rdata) else { return nil }
                name = nil
                address = ip
            default:
                return nil
            }
        }
    }

    /// The first signature that one record matches. An ambiguous NS pattern never
    /// matches here: it needs a second indicator from another record (`match(_: [ResourceRecord])`).
    public func match(_ record: ResourceRecord) -> Match? {
        guard let c = Candidate(record) else { return nil }
        let list = providers
        for i in list.indices {
            if let m = match(c, list, i, allowAmbiguous: false) { return m }
        }
        return nil
    }

    /// All providers matched by any of the records; ambiguous NS count only beside another indicator.
    public func match(_ records: [ResourceRecord]) -> Match? {
        let candidates = records.compactMap(Candidate.init)
        guard !candidates.isEmpty else { return nil }
        let list = providers
        for i in list.indices {
            for c in candidates {
                if let m = match(c, list, i, allowAmbiguous: false) { return m }
            }
        }
        for i in list.indices where !list[i].ambiguousNS.isEmpty {
            let weak = candidates.compactMap { match($0, list, i, allowAmbiguous: true) }
            if weak.count >= 2, Set(weak.map(\.indicator)).count >= 2 { return weak[0] }
        }
        return nil
    }

    /// Provider `i` of `list`, read field by field where it is (binding the whole provider
    /// to a variable copies it: seven arrays and strings retained, for each of 83 providers).
    private func match(_ c: Candidate, _ list: [Provider], _ i: Int, allowAmbiguous: Bool) -> Match? {
        let r = c.record
        switch r.type {
        case .ns:
            guard let name = c.name else { return nil }
            for pattern in list[i].ns where pattern.matches(normalized: name) {
                if list[i].ambiguousNS.contains(pattern.pattern) && !allowAmbiguous { continue }
                return Match(provider: list[i].name, kind: list[i].kind, indicator: "NS \(r.rdata.lowercased())")
            }
        case .cname:
            guard let name = c.name else { return nil }
            for pattern in list[i].cname where pattern.matches(normalized: name) {
                return Match(provider: list[i].name, kind: list[i].kind, indicator: "CNAME \(r.rdata.lowercased())")
            }
        case .a, .aaaa:
            guard let ip = c.address else { return nil }
            for (net, len) in list[i].networks where ip.isIn(network: net, prefixLength: len) {
                return Match(provider: list[i].name, kind: list[i].kind, indicator: "\(r.type) \(ip) in \(net)/\(len)")
            }
        case .soa:
            guard let name = c.name else { return nil }
            for pattern in list[i].soaRname where pattern.matches(normalized: name) {
                return Match(provider: list[i].name, kind: list[i].kind, indicator: "SOA contact \(r.rdataFields[1].lowercased())")
            }
        default:
            break
        }
        return nil
    }
}

