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

    /// The same object as `object(_:resolver:)`, written straight into `writer`
    /// (`resolverJSON` is the resolver's compact JSON, written once per resolver).
    public static func write(_ result: QueryResult, resolverJSON: String, into w: inout JSONWriter) {
        let q = result.request.query.question
        w.beginObject()
        w.key("resolver"); w.raw(resolverJSON)
        w.key("name"); w.string(q.name)
        w.key("type"); w.string(q.type.name)
        w.key("attempts"); w.int(result.attempts)
        w.key("transport"); w.string(result.transport.rawValue)
        w.key("rttMs")
        if let rtt = result.rtt { w.double((rtt * 1_000_000).rounded() / 1000) } else { w.null() }
        switch result.outcome {
        case .success(let m):
            w.key("rcode"); w.string(m.rcode.name)
            w.key("flags"); w.beginArray(); for f in m.header.flags.names { w.string(f) }; w.endArray()
            for (name, records) in [("answer", m.answers), ("authority", m.authority)] {
                w.key(name)
                w.beginArray()
                for r in records {
                    w.beginObject()
                    w.key("name"); w.string(r.owner)
                    w.key("type"); w.string(r.type.name)
                    w.key("ttl"); w.int(Int(r.ttl))
                    w.key("data"); w.string(r.rdata)
                    w.endObject()
                }
                w.endArray()
            }
            w.key("error"); w.null()
        case .failure(let e):
            w.key("rcode"); w.null()
            w.key("error"); w.beginObject(); w.key("kind"); w.string(e.kind); w.key("detail"); w.string(e.description); w.endObject()
        }
        w.endObject()
    }

    public static func record(_ r: ResourceRecord) -> JSONValue {
        .object([("name", .string(r.owner)), ("type", .string(r.type.name)), ("ttl", .int(Int(r.ttl))),
                 ("data", .string(r.rdata))])
    }
}
