/// The JSON shape of a resolver, shared by `resolvers list` and check results.
public enum ResolverJSON {
    public static let schemaVersion = 1

    public static func object(_ r: Resolver) -> JSONValue {
        var pairs = JSONPairs(capacity: 11)
        emit(r, into: &pairs)
        return .object(pairs.pairs)
    }

    static func emit<E: JSONObjectEmitter>(_ r: Resolver, into e: inout E) {
        if let v = r.vantage {
            e.member("address", string: v.resolver)
            e.member("port", int: 53)
            e.member("family", .null)
            e.member("operator", string: r.operatorName)
            e.member("country", string: v.country)
            e.member("continent", string: v.continent)
            e.member("location", string: v.city)
            e.member("tags", strings: v.tags)
            e.member("service", string: VerdictPolicy.serviceKey(r))
            e.member("source", string: "globalping")
            e.member("vantage") { o in
                o.member("network", string: v.network)
                o.member("asn", .optional(v.asn))
                o.member("provider", string: v.provider)
                o.member("city", string: v.city)
                o.member("country", string: v.country)
            }
            return
        }
        e.member("address", string: r.address.ip.description)
        e.member("port", int: Int(r.address.port))
        e.member("family", string: r.address.ip.isIPv6 ? "ipv6" : "ipv4")
        e.member("operator", string: r.operatorName)
        e.member("country", string: r.countryCode)
        e.member("continent", string: r.continent?.rawValue)
        e.member("location", string: r.location)
        e.member("tags", strings: r.tags.sorted().map(\.rawValue))
        e.member("service", string: r.service)
        e.member("source", string: r.source)
        e.member("vantage", .null)
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
