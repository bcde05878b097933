/// Builds only requests that Globalping's API accepts. The rules are those of the
/// real server (jsdelivr/globalping): `src/measurement/schema/global-schema.ts`,
/// `location-schema.ts`, `command-schema.ts`, `utils.ts` and `src/lib/private-ip.ts`.
///
/// - One kind of limit: a global `limit`, never a per-location one (the API refuses both
///   together), at most 50 anonymous / 500 for a user; a location without a limit counts
///   1 towards the same cap, so at most that many locations.
/// - Locations are never ambiguous. The API's magic matcher tries country codes before
///   continent codes (probes-location-filter.ts), so `AS` would be American Samoa, not
///   Asia. Continents are therefore sent in the `continent` field; a two-letter word
///   that is both a country and a continent (AF, AS, NA, SA) is refused with the two
///   ways to say it; EU and OC (not countries) mean Europe and Oceania.
/// - Only the 16 query types the API allows; PTR is asked for the address.
/// - The resolver is an IP address or a host name, not private; a port goes to `port`.
public enum GlobalpingRequestBuilder {
    /// command-schema.ts `allowedDnsTypes`.
    public static let allowedTypes: Set<RecordType> = [.a, .aaaa, .any, .cname, .dnskey, .ds, .https, .mx, .ns, .nsec, .ptr,
                                                       .rrsig, .soa, .txt, .srv, .svcb]
    public static let anonymousProbeCap = 50
    public static let userProbeCap = 500

    public enum BuildError: Error, Sendable, Equatable, CustomStringConvertible {
        /// A two-letter word that is both a country code and a continent code.
        case ambiguousLocation(String, country: String, continent: String)
        case unknownCountry(String)
        case badLocation(String, why: String)
        case tooManyLocations(Int, max: Int)
        case resolverIsPrivate(String)
        case resolverNotAddressOrName(String)
        case resolverBadPort(String)

        public var description: String {
            switch self {
            case .ambiguousLocation(let w, let country, let continent):
                return "'\(TerminalText.escape(w))' is both a country (\(country)) and a continent (\(continent)): write '\(continent)' or '\(country)'"
            case .unknownCountry(let w):
                return "'\(TerminalText.escape(w))' is not an ISO country code (continents: write Europe, Asia, …)"
            case .badLocation(let w, let why): return "location '\(TerminalText.escape(w))': \(why)"
            case .tooManyLocations(let n, let max): return "\(n) locations; Globalping takes at most \(max) in one measurement"
            case .resolverIsPrivate(let r):
                return "resolver '\(TerminalText.escape(r))' is a private or reserved address; Globalping's probes only ask public resolvers"
            case .resolverNotAddressOrName(let r):
                return "resolver '\(TerminalText.escape(r))' is neither an IP address nor a host name Globalping accepts"
            case .resolverBadPort(let r): return "resolver '\(TerminalText.escape(r))': the port must be 1 to 65535"
            }
        }
    }

    /// Why a question is asked only locally.
    public enum Skip: Error, Sendable, Equatable, CustomStringConvertible {
        case typeNotSupported(RecordType)
        case targetNotAccepted(String, why: String)
        public var description: String {
            switch self {
            case .typeNotSupported(let t):
                return "Globalping's probes cannot ask \(t.name) questions (only \(GlobalpingRequestBuilder.allowedTypes.sorted().map(\.name).joined(separator: ", "))); asked locally only"
            case .targetNotAccepted(let n, let why): return "Globalping cannot ask about \(TerminalText.escape(n)): \(why); asked locally only"
            }
        }
    }

    // MARK: locations

    static let ambiguousNames: [String: String] = ["AF": "Afghanistan", "AS": "American Samoa", "NA": "Namibia", "SA": "Saudi Arabia"]

    /// Parses what users think in: `DE,US` (countries), `Europe`, `EU`, `South America` (continents),
    /// `AS3320` (networks), `eyeball` / `datacenter` (network kinds), anything else (`Sydney`,
    /// `Bavaria`, `Namibia`) as a free-form place for the API's magic matcher. Empty: worldwide.
    public static func parseLocations(_ spec: String) throws(BuildError) -> [Globalping.Location] {
        let items = spec.split(separator: ",").map { String($0).trimmingSpaces }.filter { !$0.isEmpty }
        guard items.count <= anonymousProbeCap else { throw .tooManyLocations(items.count, max: anonymousProbeCap) }
        var out: [Globalping.Location] = []
        for item in items {
            let lower = item.lowercased()
            guard item.unicodeScalars.allSatisfy({ !TerminalText.needsEscape($0) }) else {
                throw .badLocation(item, why: "contains control characters")
            }
            guard item.count <= 128 else { throw .badLocation(item, why: "longer than 128 characters") }
            if lower == "eyeball" || lower == "eyeballs" { out.append(.init(tags: ["eyeball-network"])); continue }
            if lower == "datacenter" || lower == "datacentre" { out.append(.init(tags: ["datacenter-network"])); continue }
            if lower.hasPrefix("as"), lower.count > 2, lower.dropFirst(2).allSatisfy(\.isASCII), lower.dropFirst(2).allSatisfy(\.isNumber) {
                guard let n = Int(lower.dropFirst(2)), n >= 1, n <= 4_294_967_295 else { throw .badLocation(item, why: "not an AS number") }
                out.append(.init(asn: n)); continue
            }
            if item.count == 2, item.allSatisfy({ $0.isASCII && $0.isLetter }) {
                let code = item.uppercased()
                let continent = Continent(rawValue: code)
                if let country = ambiguousNames[code], let continent { throw .ambiguousLocation(item, country: country, continent: continent.name) }
                if let continent { out.append(.init(continent: continent.rawValue)); continue }
                guard Continent.of(country: code) != nil else { throw .unknownCountry(item) }
                out.append(.init(country: code)); continue
            }
            if let c = Continent(userInput: lower) { out.append(.init(continent: c.rawValue)); continue }
            guard item.split(separator: "+", omittingEmptySubsequences: false).count <= 4 else {
                throw .badLocation(item, why: "at most 4 filters joined with '+'")
            }
            out.append(.init(magic: item))
        }
        return out
    }

    /// The one limit of a request: what was asked, within the cap of this user.
    public static func limit(probes: Int, cap: Int) -> Int { min(max(1, probes), cap) }

    // MARK: targets and types

    /// The target to send for a question, or why it cannot be asked remotely.
    public static func target(for question: Question) -> Result<String, Skip> {
        guard allowedTypes.contains(question.type) else { return .failure(.typeNotSupported(question.type)) }
        if question.type == .ptr {
            guard let ip = address(fromReverse: question.name) else {
                return .failure(.targetNotAccepted(question.name, why: "a PTR question from probes needs a name under in-addr.arpa or ip6.arpa"))
            }
            guard !GlobalpingAddressRanges.isPrivate(ip) else {
                return .failure(.targetNotAccepted(question.name, why: "\(ip) is a private or reserved address"))
            }
            return .success(ip.description)
        }
        if question.name == "." { return .success(".") }
        let name = question.name.hasSuffix(".") ? String(question.name.dropLast()) : question.name
        guard isHostName(name, requireTLD: false) else {
            return .failure(.targetNotAccepted(question.name, why: "the API takes only letters, digits, '-' and '_' in names"))
        }
        return .success(name)
    }

    /// `4.3.2.1.in-addr.arpa.` → 1.2.3.4; nibbles under ip6.arpa → the IPv6 address.
    static func address(fromReverse name: String) -> IPAddress? {
        let labels = name.lowercased().split(separator: ".").map(String.init)
        if labels.count == 6, labels.suffix(2) == ["in-addr", "arpa"] {
            let octets = labels.prefix(4).reversed()
            guard octets.allSatisfy({ !$0.isEmpty && $0.count <= 3 && $0.allSatisfy(\.isNumber) }) else { return nil }
            return IPAddress(octets.joined(separator: "."))
        }
        if labels.count == 34, labels.suffix(2) == ["ip6", "arpa"] {
            let nibbles = labels.prefix(32).reversed()
            guard nibbles.allSatisfy({ $0.count == 1 && $0.allSatisfy(\.isHexDigit) }) else { return nil }
            let hex = nibbles.joined()
            let groups = stride(from: 0, to: 32, by: 4).map { i -> String in
                let a = hex.index(hex.startIndex, offsetBy: i)
                return String(hex[a..<hex.index(a, offsetBy: 4)])
            }
            return IPAddress(groups.joined(separator: ":"))
        }
        return nil
    }

    /// validator.js `isFQDN` as the API calls it (underscores allowed; a numeric TLD refused).
    static func isHostName(_ s: String, requireTLD: Bool) -> Bool {
        guard !s.isEmpty, s.utf8.count <= 253 else { return false }
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard let tld = parts.last else { return false }
        if requireTLD {
            guard parts.count >= 2, tld.count >= 2, tld.allSatisfy({ $0.isASCII && $0.isLetter }) || tld.lowercased().hasPrefix("xn--") else { return false }
        }
        if tld.allSatisfy({ $0.isASCII && $0.isNumber }) { return false }
        return parts.allSatisfy { p in
            !p.isEmpty && p.count <= 63 && !p.hasPrefix("-") && !p.hasSuffix("-")
                && p.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
        }
    }

    // MARK: resolver

    /// `8.8.8.8`, `8.8.8.8:5353`, `2001:4860:4860::8888`, `[2001:4860:4860::8888]:53`, `dns.google`:
    /// the resolver text and port to send. Private and reserved addresses are refused (the API does).
    public static func resolver(_ text: String) throws(BuildError) -> (resolver: String, port: Int) {
        var host = text.trimmingSpaces
        var port = 53
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { throw .resolverNotAddressOrName(text) }
            let rest = host[host.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":"), let p = Int(rest.dropFirst()), (1...65535).contains(p) else { throw .resolverBadPort(text) }
                port = p
            }
            host = String(host[host.index(after: host.startIndex)..<close])
            guard let ip = IPAddress(host), ip.isIPv6 else { throw .resolverNotAddressOrName(text) }
        } else if host.filter({ $0 == ":" }).count == 1 {
            let parts = host.split(separator: ":", omittingEmptySubsequences: false)
            guard let p = Int(parts[1]), (1...65535).contains(p) else { throw .resolverBadPort(text) }
            port = p
            host = String(parts[0])
        }
        if let ip = IPAddress(host) {
            guard !GlobalpingAddressRanges.isPrivate(ip) else { throw .resolverIsPrivate(text) }
            return (ip.description, port)
        }
        if host.hasSuffix(".") { host.removeLast() }
        guard isHostName(host, requireTLD: true) else { throw .resolverNotAddressOrName(text) }
        return (host.lowercased(), port)
    }
}

/// The ranges Globalping refuses as private (jsdelivr/globalping src/lib/private-ip.ts).
public enum GlobalpingAddressRanges {
    static let v4: [(UInt32, Int)] = [
        (0x0000_0000, 8), (0x0A00_0000, 8), (0x6440_0000, 10), (0x7F00_0000, 8), (0xA9FE_0000, 16), (0xAC10_0000, 12),
        (0xC000_0000, 24), (0xC000_0200, 24), (0xC058_6300, 24), (0xC0A8_0000, 16), (0xC612_0000, 15), (0xC633_6400, 24),
        (0xCB00_7100, 24), (0xE000_0000, 4), (0xF000_0000, 4), (0xFFFF_FFFF, 32),
    ]
    static let v6: [(UInt64, Int)] = [
        (0x0064_ff9b_0001_0000, 48), (0x0100_0000_0000_0000, 64), (0x2001_0000_0000_0000, 32), (0x2001_0010_0000_0000, 28),
        (0x2001_0020_0000_0000, 28), (0x2001_0db8_0000_0000, 32), (0x2002_0000_0000_0000, 16), (0xfc00_0000_0000_0000, 7),
        (0xfe80_0000_0000_0000, 10), (0xff00_0000_0000_0000, 8),
    ]

    public static func isPrivate(_ ip: IPAddress) -> Bool {
        switch ip {
        case .v4(let a): return v4.contains { base, bits in (a ^ base) >> UInt32(32 - bits) == 0 }
        case .v6(let hi, let lo):
            if hi == 0 && (lo == 0 || lo == 1) { return true }   // ::/128, ::1/128
            return v6.contains { base, bits in (hi ^ base) >> UInt64(64 - bits) == 0 }
        }
    }
}
