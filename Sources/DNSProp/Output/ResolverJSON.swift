/// The JSON shape of a resolver, shared by `resolvers list` and check results.
public enum ResolverJSON {
    public static let schemaVersion = 1

    public static func object(_ r: Resolver) -> JSONValue {
        if let v = r.vantage {
            return .object([
                ("address", .optional(v.resolver)),
                ("port", .int(53)),
                ("family", .null),
                ("operator", .optional(r.operatorName)),
                ("country", .optional(v.country)),
                ("continent", .optional(v.continent)),
                ("location", .optional(v.city)),
                ("tags", .array(v.tags.map { .string($0) })),
                ("service", .string(VerdictPolicy.serviceKey(r))),
                ("source", .string("globalping")),
                ("vantage", .object([("network", .string(v.network)), ("asn", .optional(v.asn)),
                                     ("provider", .optional(v.provider)), ("city", .optional(v.city)),
                                     ("country", .optional(v.country))])),
            ])
        }
        return .object([
            ("address", .string(r.address.ip.description)),
            ("port", .int(Int(r.address.port))),
            ("family", .string(r.address.ip.isIPv6 ? "ipv6" : "ipv4")),
            ("operator", .optional(r.operatorName)),
            ("country", .optional(r.countryCode)),
            ("continent", .optional(r.continent?.rawValue)),
            ("location", .optional(r.location)),
            ("tags", .array(r.tags.sorted().map { .string($0.rawValue) })),
            ("service", .string(r.service)),
            ("source", .optional(r.source)),
            ("vantage", .null),
        ])
    }

    /// `dnsprop resolvers list --format json`.
    public static func document(_ resolvers: [Resolver]) -> JSONValue {
        .object([
            ("schemaVersion", .int(schemaVersion)),
            ("count", .int(resolvers.count)),
            ("resolvers", .array(resolvers.map(object))),
        ])
    }
}
