/// For resolvers whose cached delegation of a zone is stale or parked: asks the
/// name servers that delegation still points to (RD=0) what they hand out for
/// the questions those resolvers answered wrongly, and turns that into upper
/// bounds on when each cache lets go (`ExpiryBound`).
///
/// Bounded work: one look-up per distinct stale NS set (its names resolved by
/// iteration, at most `maxServers` addresses), one query per (set, question)
/// answered by the first server that answers authoritatively.
struct StaleDelegationProbe: Sendable {
    let iterative: IterativeResolver
    static let maxServers = 4
    static let maxSets = 8

    /// Verdicts with `latestAt`, `latestBasis` and `followsStaleDelegation` filled in.
    func bound(_ questions: [QuestionReport]) async -> [QuestionReport] {
        // The zones whose NS set every resolver was asked for, deepest first.
        let zones = questions.filter { $0.question.isDelegation }.map(\.question.name).sorted { $0.labels.count > $1.labels.count }
        func zone(of name: DomainName) -> DomainName? { zones.first { name.isSubdomain(of: $0) } }
        var delegation: [ServerAddress: [DomainName: Verdict]] = [:]
        for q in questions where q.question.isDelegation {
            for v in q.verdicts { delegation[v.resolver.address, default: [:]][q.question.name] = v }
        }
        func staleDelegation(_ v: Verdict) -> Verdict? {
            guard let z = zone(of: v.name), let d = delegation[v.resolver.address]?[z],
                  d.status.isNotConverged, d.status != .servfail, !d.answers.isEmpty, d.expiresAt != nil else { return nil }
            return d
        }
        // What to ask, and of which servers.
        var wanted: [[String]: Set<CheckQuestion>] = [:]
        for q in questions {
            for v in q.verdicts where v.status.isNotConverged {
                guard let d = staleDelegation(v) else { continue }
                wanted[Self.key(d.answers), default: []].insert(q.question)
                // The servers' own NS set too: what a re-armed delegation would last.
                wanted[Self.key(d.answers), default: []].insert(d.question)
            }
        }
        var refetch: [[String]: [CheckQuestion: ExpiryBound.Refetch]] = [:]
        await withTaskGroup(of: ([String], [CheckQuestion: ExpiryBound.Refetch]).self) { group in
            for (servers, asked) in wanted.prefix(Self.maxSets) {
                group.addTask { (servers, await self.ask(servers: servers, questions: Array(asked))) }
            }
            for await (servers, found) in group { refetch[servers] = found }
        }
        return questions.map { q in
            var q = q
            q.verdicts = q.verdicts.map { v in
                let d = staleDelegation(v)
                let r = d.flatMap { refetch[Self.key($0.answers)]?[q.question] }
                let rn = d.flatMap { refetch[Self.key($0.answers)]?[$0.question] }
                return ExpiryBound.apply(to: v, delegation: d ?? (zone(of: v.name).flatMap { delegation[v.resolver.address]?[$0] }),
                                         refetch: r, refetchNS: rn)
            }
            return q
        }
    }

    static func key(_ names: [String]) -> [String] { Array(Set(names.map { $0.lowercased() })).sorted() }

    func ask(servers names: [String], questions: [CheckQuestion]) async -> [CheckQuestion: ExpiryBound.Refetch] {
        var addresses: [(String, ServerAddress)] = []
        for name in names {
            guard addresses.count < Self.maxServers, let n = DomainName(presentation: name) else { continue }
            for ip in await iterative.addresses(of: n, nesting: 1, visiting: []) where addresses.count < Self.maxServers {
                addresses.append((name, ServerAddress(ip: ip, port: iterative.options.port)))
            }
        }
        guard !addresses.isEmpty else { return [:] }
        var out: [CheckQuestion: ExpiryBound.Refetch] = [:]
        let budget = LookupBudget(options: iterative.options)
        for question in questions {
            // One server at a time (the walk's polite race), the first authoritative answer counts.
            let answer = await iterative.askOneAtATime(addresses, question.name, question.type, zone: question.name, budget: budget) { m in
                m.header.flags.contains(.aa) && (m.rcode == .noError || m.rcode == .nxDomain) ? nil : "not an authoritative answer"
            }
            if let m = answer.message { out[question] = Self.refetch(from: m, question: question) }
            if answer.exceeded != nil { break }
        }
        return out
    }

    static func refetch(from m: Message, question: CheckQuestion) -> ExpiryBound.Refetch {
        let chain = AnswerChain.extract(from: m.answers, name: question.name.text, type: question.type)
        if m.rcode == .noError, let ttl = chain.map(\.ttl).min() { return .init(ttl: ttl, negative: false) }
        return .init(ttl: m.negativeCacheTTL, negative: true)
    }
}
