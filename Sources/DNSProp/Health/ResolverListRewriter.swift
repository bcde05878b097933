/// `resolvers check --write`: the list it read, with what the check found written in.
/// Every line the check has nothing to say about is kept byte for byte (comments, blank
/// lines, order, spacing, line ends). For a resolver it checked:
/// - dead (no answer over UDP or TCP), lying (an address for a name that does not exist) or
///   not recursive for us: the line is commented out, under a line with the date and the reason;
/// - otherwise its TAGS field gains or loses `dnssec` as the DNSSEC probes found (nothing
///   changes when they were inconclusive). `filtering` and `ecs` are kept as they are: the
///   probes cannot see them (a filtering resolver answers the honesty probe like any other).
public enum ResolverListRewriter {
    public static func rewrite(_ text: String, results: [ResolverHealth], date: String) -> String {
        var byAddress: [ServerAddress: ResolverHealth] = [:]
        for r in results where byAddress[r.resolver.address] == nil { byAddress[r.resolver.address] = r }
        let lines = text.utf8.split(separator: 10, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        var out: [String] = []
        for line in lines {
            var body = Substring(line)
            var cr = ""
            if body.hasSuffix("\r") { body = body.dropLast(); cr = "\r" }
            let data = body.firstIndex(of: "#").map { body[..<$0] } ?? body
            let fields = data.split(separator: "|", omittingEmptySubsequences: false)
            guard let first = fields.first, let address = try? ServerAddress(parsing: String(first).trimmingSpaces),
                  let health = byAddress[address] else { out.append(line); continue }
            if let reason = health.removalReason {
                out.append("# \(date) resolvers check: \(reason.replacingNewlines)" + cr)
                out.append("# " + line)
                continue
            }
            let want: Bool?
            switch health.validation {
            case .validating: want = true
            case .notValidating: want = false
            case .unknown: want = nil
            }
            guard let want else { out.append(line); continue }
            out.append(setTag("dnssec", want, in: body, fields: fields) + cr)
        }
        return out.joined(separator: "\n")
    }

    /// The line with `tag` added to or removed from its TAGS field (the fifth), keeping the
    /// field's width where the new text fits, and everything else as it was.
    static func setTag(_ tag: String, _ on: Bool, in body: Substring, fields: [Substring]) -> String {
        let comment = body.firstIndex(of: "#").map { String(body[$0...]) } ?? ""
        var parts = fields.map(String.init)
        while parts.count < 5 { parts.append(parts.count == 4 ? " " : " ") }
        let field = parts[4]
        let content = field.trimmingSpaces
        var tags = content.split(separator: ",").map { String($0).trimmingSpaces }.filter { !$0.isEmpty }
        let has = tags.contains(tag)
        if has == on { return String(body) }
        if on { tags.append(tag) } else { tags.removeAll { $0 == tag } }
        let newContent = tags.joined(separator: ",")
        let leading = field.prefix { $0 == " " || $0 == "\t" }
        let isLast = parts.count == 5
        var newField = (leading.isEmpty ? " " : String(leading)) + newContent
        if !isLast || !comment.isEmpty {
            let width = field.count
            newField += String(repeating: " ", count: max(1, width - newField.count))
        }
        parts[4] = newField
        return parts.joined(separator: "|") + comment
    }
}

extension String {
    var replacingNewlines: String { String(map { $0 == "\n" || $0 == "\r" ? " " : $0 }) }
}
