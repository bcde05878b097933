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

    public enum Tag: String, CaseIterable, Hashable, Sendable, Comparable, Codable {
        case anycast, unicast, filtering, ecs, isp
        public static func < (a: Tag, b: Tag) -> Bool { a.rawValue < b.rawValue }
    }
}
