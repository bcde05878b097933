/// JSON for one raw engine result (`dnsprop query --format ndjson`).
public enum RawResultJSON {
    public static func object(_ result: QueryResult, resolver: Resolver) -> JSONValue {
        object(result, resolver: ResolverJSON.object(resolver))
    }

    public static func object(_ result: QueryResult, resolver: JSONValue) -> JSONValue {
        let q = result.request.query.question
        var pairs: [(String, JSONValue)] = [
            ("resolver", resolver),
            ("name", .string(q.name)),
            ("type", .string(q.type.name)),
            ("attempts", .int(result.attempts)),
            ("transport", .string(result.transport.rawValue)),
            ("rttMs", result.rtt.map { .double(($0 * 1_000_000).rounded() / 1000) } ?? .null),
        ]
        switch result.outcome {
        case .success(let m):
            pairs.append(("rcode", .string(m.rcode.name)))
            pairs.append(("flags", .array(m.header.flags.names.map { .string($0) })))
            pairs.append(("answer", .array(m.answers.map(record))))
            pairs.append(("authority", .array(m.authority.map(record))))
            pairs.append(("error", .null))
        case .failure(let e):
            pairs.append(("rcode", .null))
            pairs.append(("error", .object([("kind", .string(e.kind)), ("detail", .string(e.description))])))
        }
        return .object(pairs)
    }

    public static func record(_ r: ResourceRecord) -> JSONValue {
        .object([("name", .string(r.owner)), ("type", .string(r.type.name)), ("ttl", .int(Int(r.ttl))),
                 ("data", .string(r.rdata))])
    }
}
