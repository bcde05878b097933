/// Learns what a name's authoritative servers give to the networks of the resolvers being
/// judged (`GeoTruth`): for each distinct network (IPv4 /24, IPv6 /56), one query with
/// EDNS Client Subnet (RFC 7871) to one server of the zone, the answer kept by the scope it
/// came with, so that networks it covers are not asked again. When the first answer says
/// the servers ignore ECS (no option echoed, or scope 0), or the first network asked again
/// (`Limits.reasks`) gets another answer (a random pick that still claims a scope, as PowerDNS LUA records do),
/// the name is asked again a few times without ECS to learn the set of answers it rotates through.
///
/// Bounded: at most `Limits.maxNetworks` networks per name, one retry per failed query,
/// `Limits.repeats` repeated asks. Only names whose answers differ at some resolver are
/// looked at (`PropagationCheck`), so a name that has converged costs nothing.
public struct GeoTruthFinder: Sendable {
    public struct Limits: Sendable, Hashable {
        /// Networks asked per name; further ones are judged by the answers already known.
        public var maxNetworks = 32
        /// Asks without ECS to learn the answers of a server that ignores it.
        public var repeats = 6
        /// The first network asked again up to this many times: a pick among two answers per
        /// query shows with probability 1 - 2^-reasks (two re-asks: 75 %; more answers, more likely).
        public var reasks = 2
        public init() {}
    }

    public let resolver: IterativeResolver
    public let limits: Limits

    public init(resolver: IterativeResolver, limits: Limits = Limits()) {
        self.resolver = resolver
        self.limits = limits
    }

    /// The geo truth for `truth`'s final RRset, asked for the networks of `addresses`, or nil
    /// when the truth has no data to compare (negative, failed, expected values, CNAME only).
    /// Whether `truth` is the kind `geo(for:addresses:)` looks into: an authority's records of
    /// the type asked (after any CNAME chain), not expected values or a negative answer.
    static func mayVaryByLocation(_ truth: Truth) -> Bool {
        guard case .authoritative = truth.source, case .data(let records)? = truth.answer, truth.type != .cname else { return false }
        return records.contains(where: { $0.type == truth.type })
    }

    public func geo(for truth: Truth, addresses: [IPAddress]) async -> (GeoTruth?, GeoStatistics) {
        var stats = GeoStatistics()
        guard Self.mayVaryByLocation(truth), case .data(let records)? = truth.answer else { return (nil, stats) }
        // The name whose records vary: the end of the CNAME chain.
        let finalOwner = records.last(where: { $0.type == truth.type })!.owner
        guard let name = DomainName(presentation: finalOwner),
              let delegation = try? await resolver.delegation(for: name) else { return (nil, stats) }
        let targets = resolver.serverAddresses(delegation.servers)
        guard !targets.isEmpty else { return (nil, stats) }
        stats.names = 1

        var networks: [ClientSubnet] = []
        for a in addresses {
            let n = ClientSubnet.network(of: a)
            if !networks.contains(n) { networks.append(n) }
        }
        stats.networks = networks.count
        var geo = GeoTruth(name: name, type: truth.type)
        geo.answerSet = [AnswerChain.finalValues(records, type: truth.type)]
        if networks.count > limits.maxNetworks {
            geo.networksSkipped = networks.count - limits.maxNetworks
            stats.skipped = geo.networksSkipped
            networks = Array(networks.prefix(limits.maxNetworks))
        }

        // The first network alone: its answer says whether the servers use ECS at all, and its
        // scope may cover the others.
        var pending = networks
        var first = true
        var rotation = 0
        while !pending.isEmpty {
            let batch = first ? [pending.removeFirst()] : pending
            if !first { pending = [] }
            var asking: [ClientSubnet] = []
            for n in batch {
                if geo.byNetwork.lookup(n) != nil { stats.fromScopeCache += 1 } else { asking.append(n) }
            }
            let answers = await ask(asking, name: name, type: truth.type, targets: targets, rotation: &rotation, stats: &stats)
            for (n, answer) in zip(asking, answers) {
                guard let (values, scope) = answer else { continue }
                guard let scope, scope > 0 else {
                    // No ECS in the answer, or scope 0: the same for every network.
                    geo.ignoresClientSubnet = true
                    var s = n
                    s.scopePrefix = 0
                    geo.byNetwork.insert(values, for: s)
                    continue
                }
                var s = n
                s.scopePrefix = scope
                geo.byNetwork.insert(values, for: s)
            }
            if first, !geo.ignoresClientSubnet, let n = asking.first, let seen = geo.byNetwork.lookup(n)?.value {
                // The same network asked once more: a server that picks at random per query
                // (and still claims a scope) gives another answer.
                for _ in 0..<limits.reasks {
                    let again = await ask([n], name: name, type: truth.type, targets: targets, rotation: &rotation, stats: &stats)
                    if let (values, _) = again.first ?? nil, values != seen {
                        geo.rotates = true
                        if !geo.answerSet.contains(seen) { geo.answerSet.append(seen) }
                        if !geo.answerSet.contains(values) { geo.answerSet.append(values) }
                        break
                    }
                }
            }
            if first && (geo.ignoresClientSubnet || geo.rotates) {
                // The servers ignore ECS for this name, or pick per query: learn the answers they rotate through.
                pending = []
                await learnAnswerSet(&geo, name: name, type: truth.type, targets: targets, rotation: &rotation, stats: &stats)
            }
            first = false
        }
        geo.queries = stats.totalQueries
        return (geo, stats)
    }

    /// One query per network, each to one server (spread over the servers); a failed or
    /// unusable one asked once more of the next server. nil where no usable answer came.
    private func ask(_ networks: [ClientSubnet], name: DomainName, type: RecordType, targets: [(String, ServerAddress)],
                     rotation: inout Int, stats: inout GeoStatistics) async -> [(Set<String>, Int?)?] {
        guard !networks.isEmpty else { return [] }
        var out: [(Set<String>, Int?)?] = Array(repeating: nil, count: networks.count)
        var remaining = Array(networks.indices)
        for _ in 0..<min(2, targets.count) {
            guard !remaining.isEmpty else { break }
            var requests: [QueryRequest] = []
            var asked: [Int] = []
            for i in remaining {
                let options = QueryOptions(recursionDesired: false, ednsOptions: [networks[i].option])
                guard let template = try? QueryTemplate(name: name, type: type, options: options) else { continue }
                requests.append(QueryRequest(server: targets[rotation % targets.count].1, query: template))
                rotation += 1
                asked.append(i)
            }
            stats.clientSubnetQueries += requests.count
            let results = await resolver.engine.results(for: requests)
            remaining = []
            for (k, r) in results.enumerated() {
                let i = asked[k]
                guard let m = r.message, m.header.flags.contains(.aa), m.rcode == .noError || m.rcode == .nxDomain else {
                    remaining.append(i)
                    continue
                }
                out[i] = (Self.finalValues(m, name: name, type: type), ClientSubnet.answerScope(in: m, asked: networks[i]))
            }
            rotation += 1
        }
        return out
    }

    /// Asks without ECS `limits.repeats` times, spread over the servers, and keeps each
    /// distinct final RRset.
    private func learnAnswerSet(_ geo: inout GeoTruth, name: DomainName, type: RecordType, targets: [(String, ServerAddress)],
                                rotation: inout Int, stats: inout GeoStatistics) async {
        guard limits.repeats > 0, let template = try? QueryTemplate(name: name, type: type, options: .authoritative) else { return }
        // One after another: a server that rotates per query shows its rotation.
        for _ in 0..<limits.repeats {
            let request = QueryRequest(server: targets[rotation % targets.count].1, query: template)
            rotation += 1
            stats.repeatedQueries += 1
            let results = await resolver.engine.results(for: [request])
            guard let m = results.first?.message, m.header.flags.contains(.aa), m.rcode == .noError else { continue }
            let values = Self.finalValues(m, name: name, type: type)
            if !values.isEmpty && !geo.answerSet.contains(values) { geo.answerSet.append(values) }
        }
    }

    static func finalValues(_ m: Message, name: DomainName, type: RecordType) -> Set<String> {
        AnswerChain.finalValues(AnswerChain.extract(from: m.answers, name: name.text, type: type), type: type)
    }
}
