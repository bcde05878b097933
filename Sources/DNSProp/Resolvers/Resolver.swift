/// One recursive resolver to ask, with what is known about it.
public struct Resolver: Hashable, Sendable {
    public var address: ServerAddress
    public var operatorName: String?
    /// ISO 3166-1 alpha-2, upper case (or `EU`).
    public var countryCode: String?
    public var location: String?
    public var tags: Set<Tag>
    /// Where the entry came from, for messages: `resolvers.txt:42`, `--resolver`.
    public var origin: String
    /// Set when the answer was obtained from a remote probe rather than asked from here.
    public var vantage: Vantage?

    public init(address: ServerAddress, operatorName: String? = nil, countryCode: String? = nil,
                location: String? = nil, tags: Set<Tag> = [], origin: String = "") {
        self.address = address
        self.operatorName = operatorName
        self.countryCode = countryCode
        self.location = location
        self.tags = tags
        self.origin = origin
    }

    public var continent: Continent? { countryCode.flatMap(Continent.of(country:)) }

    /// A short label for tables: the operator, or the address when there is none.
    public var label: String { operatorName ?? address.description }

    /// The address column of tables: the server, or for a remote probe where it stands.
    public var display: String {
        guard let v = vantage else { return address.description }
        return [v.country, v.city, v.asn.map { "AS\($0)" }].compactMap { $0 }.joined(separator: " ")
    }

    public enum Tag: String, CaseIterable, Hashable, Sendable, Comparable, Codable {
        case anycast, unicast, filtering, ecs, isp
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

    public init(network: String, continent: String? = nil, country: String? = nil, city: String? = nil, asn: Int? = nil,
                provider: String? = nil, tags: [String] = [], resolver: String? = nil) {
        self.network = network; self.continent = continent; self.country = country; self.city = city
        self.asn = asn; self.provider = provider; self.tags = tags; self.resolver = resolver
    }
}
