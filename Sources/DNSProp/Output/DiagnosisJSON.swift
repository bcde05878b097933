/// The `diagnosis` object of the JSON document (docs/output-schema.md). Strings from the
/// registry are network text; JSON escaping keeps them inert.
public enum DiagnosisJSON {
    public static func object(_ d: Diagnosis) -> JSONValue {
        func time(_ t: Double?) -> JSONValue { t.map { .string(Timestamp.rfc3339($0)) } ?? .null }
        func match(_ m: ParkingSignatures.Match?) -> JSONValue {
            m.map { .object([("provider", .string($0.provider)), ("kind", .string($0.kind)), ("indicator", .string($0.indicator))]) } ?? .null
        }
        var registry: JSONValue = .null
        if let r = d.registry {
            var pairs: [(String, JSONValue)] = [("url", .optional(r.url)), ("httpStatus", .optional(r.httpStatus)), ("problem", .optional(r.problem))]
            if let rec = r.record {
                pairs += [
                    ("statuses", .array(rec.statuses.map { .string($0.name) })),
                    ("rdapStatuses", .array(rec.statuses.map { .string($0.rdapName) })),
                    ("registration", time(rec.registration)),
                    ("expiration", time(rec.expiration)),
                    ("lastChanged", time(rec.lastChanged)),
                    ("registrar", .optional(rec.registrar)),
                    ("registrarIanaId", .optional(rec.registrarIANAID)),
                    ("nameservers", .array(rec.nameservers.map { .string($0) })),
                ]
            } else {
                pairs.append(("statuses", .null))
            }
            registry = .object(pairs)
        }
        var tld: JSONValue = .null, zone: JSONValue = .null
        if let v = d.delegation {
            tld = .object([("zone", .optional(v.parentZone)), ("delegated", .bool(v.delegated)),
                           ("nameservers", .array(v.parentNS.map { .string($0) })), ("parking", match(d.tldParking)),
                           ("problem", .optional(v.problem))])
            zone = .object([("nameservers", v.childNS.map { .array($0.map { .string($0) }) } ?? .null),
                            ("soaRname", .optional(v.soaRname)), ("soaParking", match(d.soaParking)),
                            ("lameServers", .array(d.lameAt.map { .string($0) }))])
        }
        return .object([
            ("stage", .string(d.stage.rawValue)),
            ("line", .string(d.line)),
            ("domain", .string(d.domain.text)),
            ("registry", registry),
            ("tld", tld),
            ("zone", zone),
            ("resolversPending", .int(d.resolversPending)),
            ("resolversFailing", .int(d.resolversFailing)),
            ("followParking", .bool(d.followParking)),
            ("allGoneBy", time(d.allGoneBy)),
            ("warnings", .array(d.warnings.map { .string($0) })),
        ])
    }
}
