/// One recursive resolver to ask, with what is known about it.
public struct Resolver: Hashable, Sendable {
    public var address: ServerAddress
    public var operatorName: String?
    /// ISO 3166-1 alpha-2, upper case (or `EU`).
    public var countryCode: String?
    public var location: String?
    public var tags: Set<Tag>
    /// The resolver service this address belongs to: addresses with the same key are one service
    /// (Google's four addresses, Quad9's six). Seen from one machine, every address of an anycast
    /// service reaches the same nearby site, so a service is one view of its caches, not several.
    /// Given in the list as `OPERATOR [key]`, otherwise derived from the operator's name
    /// (`Resolver.serviceKey(for:)`), otherwise the address itself.
    public var service: String
    /// Who says this resolver exists and is what the entry claims (the list's SOURCE field):
    /// `AG Quad9 Standard; PPD 30d 100%` (the keys are defined in the list's header). Nil when the line gives none.
    public var source: String?
    /// Where the entry came from, for messages: `resolvers.txt:42`, `--resolver`.
    public var origin: String
    /// Set when the answer was obtained from a remote probe rather than asked from here.
    public var vantage: Vantage?

    public init(address: ServerAddress, operatorName: String? = nil, countryCode: String? = nil,
                location: String? = nil, tags: Set<Tag> = [], service: String? = nil, source: String? = nil,
                origin: String = "") {
        self.address = address
        self.operatorName = operatorName
        self.countryCode = countryCode
        self.location = location
        self.tags = tags
        self.service = service ?? operatorName.flatMap(Resolver.serviceKey(for:)) ?? address.description
        self.source = source
        self.origin = origin
    }

    /// The service key derived from an operator's name: lower case, every run of characters other
    /// than letters and digits turned into one '-' ("DNS.SB (xTom)" → "dns-sb-xtom"). Nil when the
    /// name has no letter or digit.
    public static func serviceKey(for operatorName: String) -> String? {
        var key = ""
        var pendingDash = false
        for ch in operatorName.lowercased() {
            if ch.isLetter || ch.isNumber {
                if pendingDash && !key.isEmpty { key.append("-") }
                pendingDash = false
                key.append(ch)
            } else {
                pendingDash = true
            }
        }
        return key.isEmpty ? nil : key
    }

    /// Whether `key` may be written as an explicit service key: 1 to 63 characters, lower-case
    /// ASCII letters, digits, '-' and '.', starting with a letter or digit.
    public static func isValidServiceKey(_ key: String) -> Bool {
        guard let first = key.unicodeScalars.first, key.unicodeScalars.count <= 63 else { return false }
        func allowed(_ u: Unicode.Scalar) -> Bool { ("a"..."z").contains(u) || ("0"..."9").contains(u) }
        return allowed(first) && key.unicodeScalars.allSatisfy { allowed($0) || $0 == "-" || $0 == "." }
    }

    public var continent: Continent? { countryCode.flatMap(Continent.of(country:)) }

    /// The address column of tables: the server, or for a remote probe where it stands.
    public var display: String {
        guard let v = vantage else { return address.description }
        return [v.country, v.city, v.asn.map { "AS\($0)" }].compactMap { $0 }.joined(separator: " ")
    }

    /// The documented tags (the header of resolvers.txt and the README describe each one).
    public enum Tag: String, CaseIterable, Hashable, Sendable, Comparable, Codable {
        case anycast, unicast, filtering, ecs, isp
        /// In no current public source: kept so that `dnsprop resolvers check` decides, not trusted.
        case unverified
        /// Answers for some names may be forged by a device on the network path (injected
        /// responses, as on paths into China): an odd answer need not come from the resolver's cache.
        case injected
        /// Validates DNSSEC: AD on a signed name, SERVFAIL on a broken one (`resolvers check`).
        case dnssec
        public static func < (a: Tag, b: Tag) -> Bool { a.rawValue < b.rawValue }
    }
}

/// A remote vantage point (a probe of a measurement network) and the resolver it used.
public struct Vantage: Hashable, Sendable {
    public var network: String            // "globalping"
    public var continent: String?
    public var country: String?
    public var city: String?
    public var asn: Int?
    public var provider: String?          // the probe's network operator
    public var tags: [String]
    /// The resolver the probe asked, as the probe reported it ("private" for a LAN resolver).
    public var resolver: String?
    /// Where the probe is, in degrees, as its network reports it (for maps; range-checked there).
    public var latitude: Double?
    public var longitude: Double?

    public init(network: String, continent: String? = nil, country: String? = nil, city: String? = nil, asn: Int? = nil,
                provider: String? = nil, tags: [String] = [], resolver: String? = nil) {
        self.network = network; self.continent = continent; self.country = country; self.city = city
        self.asn = asn; self.provider = provider; self.tags = tags; self.resolver = resolver
    }
}
