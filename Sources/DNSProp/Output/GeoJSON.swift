/// The JSON of the geo truth and of a verdict's geo match (docs/output-schema.md, "geo").
enum GeoJSON {
    static func truth(_ g: GeoTruth?) -> JSONValue {
        guard let g else { return .null }
        let networks: [JSONValue] = g.byNetwork.entries.map { e in
            .object([("network", .string(e.subnet.networkText)), ("scope", .int(e.subnet.scopePrefix)),
                     ("answers", .array(e.value.sorted().map { .string($0) }))])
        }
        return .object([
            ("name", .string(g.name.text)),
            ("varies", .bool(g.varies)),
            ("ignoresClientSubnet", .bool(g.ignoresClientSubnet)),
            ("rotates", .bool(g.rotates)),
            ("networks", .array(networks)),
            ("answerSet", .array(g.answerSet.map { .array($0.sorted().map { .string($0) }) })),
            ("queries", .int(g.queries)),
            ("networksSkipped", .int(g.networksSkipped)),
        ])
    }

    static func match(_ m: GeoMatch?) -> JSONValue {
        guard let m else { return .null }
        return .object([("basis", .string(m.basis.rawValue)), ("detail", .string(m.detail)),
                        ("network", .optional(m.network)), ("scope", m.scope.map { .int($0) } ?? .null)])
    }
}
