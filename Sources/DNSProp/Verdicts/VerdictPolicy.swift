/// Every rule that turns verdicts into decisions lives here: which statuses
/// count as answering or as not converged, the one severity order, how a
/// resolver's several verdicts add up, when the world has converged and what
/// exit status that gives, and what only history shows (an answer served past
/// the expiry it announced). Output, watch and the CLI render or act on what
/// these functions decide; none of them decides anything of its own.
public enum VerdictPolicy {
    /// Statuses that mean "answered, but not yet converged" (exit status 1).
    public static func isNotConverged(_ s: VerdictStatus) -> Bool {
        switch s {
        case .stale, .parked, .nxdomain, .nodata, .servfail: return true
        case .current, .refused, .timeout, .error: return false
        }
    }

    /// Whether the resolver gave a DNS answer at all (counts towards the "answering" base).
    public static func isAnswering(_ s: VerdictStatus) -> Bool {
        switch s {
        case .timeout, .error, .refused: return false
        case .current, .stale, .parked, .nxdomain, .nodata, .servfail: return true
        }
    }

    /// The one severity order, worst first: what an operator must see first.
    /// Parked (the Marketo failure) before stale, negative answers, failures of
    /// resolution, then resolvers that did not answer, then current.
    public static let severityOrder: [VerdictStatus] = [.parked, .stale, .nxdomain, .nodata, .servfail, .error, .timeout, .refused, .current]

    /// 0 for the worst status; larger is better.
    public static func severityRank(_ s: VerdictStatus) -> Int {
        switch s {
        case .parked: return 0
        case .stale: return 1
        case .nxdomain: return 2
        case .nodata: return 3
        case .servfail: return 4
        case .error: return 5
        case .timeout: return 6
        case .refused: return 7
        case .current: return 8
        }
    }

    /// Sorts worst first; ties by question, then by resolver address.
    public static func worstFirst(_ a: Verdict, _ b: Verdict) -> Bool {
        let ra = severityRank(a.status), rb = severityRank(b.status)
        if ra != rb { return ra < rb }
        if a.question != b.question { return a.question < b.question }
        return a.resolver.address < b.resolver.address
    }

    // MARK: Resolvers

    /// A resolver's several verdicts (one per question) taken together.
    public struct Standing: Sendable {
        public var resolver: Resolver
        public var verdicts: [Verdict]
        /// The verdict that shows its worst status (ties: the first question).
        public var worst: Verdict
        /// At least one of its verdicts is a DNS answer.
        public var isAnswering: Bool
        /// Every one of its verdicts is current.
        public var isCurrent: Bool
    }

    /// One standing per resolver (by address), worst first, then by address.
    public static func standings(_ verdicts: [Verdict]) -> [Standing] {
        var order: [ServerAddress] = []
        var byResolver: [ServerAddress: [Verdict]] = [:]
        for v in verdicts {
            if byResolver[v.resolver.address] == nil { order.append(v.resolver.address) }
            byResolver[v.resolver.address, default: []].append(v)
        }
        let list = order.map { address -> Standing in
            let mine = byResolver[address]!
            let worst = mine.min(by: worstFirst)!
            return Standing(resolver: mine[0].resolver, verdicts: mine, worst: worst,
                            isAnswering: mine.contains { isAnswering($0.status) },
                            isCurrent: mine.allSatisfy { $0.status == .current })
        }
        return list.sorted { a, b in
            let ra = severityRank(a.worst.status), rb = severityRank(b.worst.status)
            return ra != rb ? ra < rb : a.resolver.address < b.resolver.address
        }
    }

    /// Resolvers counted as `standings` sees them (answering: at least one verdict is a DNS
    /// answer; current: every verdict is), and services (`serviceKey`): a service answers
    /// when any of its addresses does, and is current when every one of them is. One pass,
    /// no verdict copied (a check's summary is drawn over every verdict).
    public struct Tally: Sendable, Equatable {
        public var resolvers = 0, resolversAnswering = 0, resolversCurrent = 0
        public var services = 0, servicesAnswering = 0, servicesCurrent = 0
    }

    /// Each resolver's worst status (`Standing.worst.status`), in the order resolvers first
    /// appear, over the verdicts `include` accepts: one pass, no verdict copied.
    public static func worstStatuses(_ verdictLists: [[Verdict]], where include: (Verdict) -> Bool = { _ in true }) -> [VerdictStatus] {
        var index: [ServerAddress: Int] = [:]
        var worst: [VerdictStatus] = []
        for list in verdictLists {
            for v in list where include(v) {
                if let i = index[v.resolver.address] {
                    if severityRank(v.status) < severityRank(worst[i]) { worst[i] = v.status }
                } else {
                    index[v.resolver.address] = worst.count
                    worst.append(v.status)
                }
            }
        }
        return worst
    }

    private struct Seen { var answering = false; var current = true; var service: Int }

    public static func tally(_ verdictLists: [[Verdict]]) -> Tally {
        var index: [ServerAddress: Int] = [:]
        var seen: [Seen] = []
        var serviceIndex: [String: Int] = [:]
        for list in verdictLists {
            for v in list {
                let i: Int
                if let known = index[v.resolver.address] {
                    i = known
                } else {
                    i = seen.count
                    index[v.resolver.address] = i
                    let key = serviceKey(v.resolver)
                    let service = serviceIndex[key] ?? serviceIndex.count
                    serviceIndex[key] = service
                    seen.append(Seen(service: service))
                }
                if isAnswering(v.status) { seen[i].answering = true }
                if v.status != .current { seen[i].current = false }
            }
        }
        var t = Tally()
        var services = Array(repeating: (answering: false, current: true), count: serviceIndex.count)
        for r in seen {
            t.resolvers += 1
            if r.answering { t.resolversAnswering += 1; services[r.service].answering = true }
            if r.current { t.resolversCurrent += 1 } else { services[r.service].current = false }
        }
        t.services = services.count
        t.servicesAnswering = services.filter(\.answering).count
        t.servicesCurrent = services.filter(\.current).count
        return t
    }

    /// The cache view a resolver belongs to: the addresses of one service (Google's
    /// four, Quad9's six) reach the same nearby site from one machine, so they are
    /// one view, not several. A remote probe's resolver is its own view.
    public static func serviceKey(_ r: Resolver) -> String {
        r.vantage != nil ? "probe " + r.address.description : r.service
    }

    // MARK: Location (CDN and GeoDNS names)

    /// The network the authoritative servers see a resolver ask from: its own address's
    /// (IPv4 /24, IPv6 /56). A remote probe's resolver is taken at its own address too
    /// (Globalping does not give the probe's address).
    public static func geoNetwork(of r: Resolver) -> ClientSubnet {
        ClientSubnet.network(of: r.address.ip)
    }

    /// An answer (final values, after a CNAME chain equal to the truth's) that differs from
    /// the truth asked from here is still current when the authority gives it to someone:
    /// to the resolver's own network (by ECS), as one of the answers it rotates through
    /// (when it ignores ECS or picks per query), or to another network asked (anycast resolvers, resolvers
    /// forwarding their clients' subnet). `stale` stays for answers it gives to nobody.
    public static func geoMatch(values: Set<String>, geo: GeoTruth, network: ClientSubnet) -> GeoMatch? {
        guard !values.isEmpty else { return nil }
        let own = geo.byNetwork.lookup(network)
        if let own, own.subnet.scopePrefix > 0, own.value == values, !geo.rotates {
            return GeoMatch(basis: .ownNetwork, network: network.networkText, scope: own.subnet.scopePrefix)
        }
        if geo.answerSet.contains(values) {
            return GeoMatch(basis: .answerSet, network: network.networkText, scope: nil)
        }
        guard geo.everyAnswer.contains(values) else { return nil }
        return GeoMatch(basis: .otherNetwork, network: network.networkText, scope: own?.subnet.scopePrefix)
    }

    // MARK: History

    /// Seconds of grace after an announced expiry before calling an answer overdue
    /// (rounding of TTLs, the time between rounds).
    public static let expirySlack: Double = 2

    /// A later look at the same resolver and question: if it still serves the same
    /// non-current answer after the expiry that the earlier look announced, the TTL
    /// does not explain it (RFC 8767 serve-stale, or records re-fetched through a
    /// delegation that is itself still stale), and the verdict says so. The first
    /// announcement is kept, so the overdue time keeps growing round after round.
    public static func carryingHistory(_ current: Verdict, previous: Verdict?) -> Verdict {
        guard let previous, isNotConverged(current.status), current.status == previous.status,
              current.answers == previous.answers, let announced = previous.expiresAt,
              current.checkedAt > announced + expirySlack else { return current }
        var v = current
        let overdue = Int((v.checkedAt - announced).rounded())
        if let servers = v.followsStaleDelegation {
            // The TTL restarted because the resolver fetched the record again, through the
            // delegation it still caches: from the parking (or old) name servers.
            v.reason += "; still served \(overdue) s after the expiry its TTL announced: re-fetched from the "
                + (v.status == .parked ? "parking" : "old") + " servers its cached delegation still points to ("
                + servers.prefix(2).joined(separator: " ") + ")"
        } else {
            v.reason += "; still served \(overdue) s after the expiry its TTL announced (serve-stale, RFC 8767, or a stale delegation refreshing it)"
        }
        v.servedPastExpiry = true
        v.expiresAt = announced
        return v
    }

    // MARK: Convergence

    /// What a set of verdicts means for the question "has the world converged?".
    public enum Outcome: String, Sendable, Hashable {
        /// Every answering resolver is current (or `--min-current` is met).
        case converged
        /// Some answering resolver is stale, parked, negative or failing to resolve.
        case notConverged
        /// The truth could not be established, or no resolver answered.
        case cannotTell

        /// 0, 1 or 2: the exit status of `check`, and of `watch --until-propagated` when it stops.
        public var exitStatus: Int32 {
            switch self {
            case .converged: return 0
            case .notConverged: return 1
            case .cannotTell: return 2
            }
        }
    }

    /// The decision. `minCurrent` is a percentage of answering verdicts.
    public static func outcome(_ s: Summary, minCurrent: Double?) -> Outcome {
        if !s.truthEstablished || s.answeringVerdicts == 0 { return .cannotTell }
        if let minCurrent { return s.currentPercent >= minCurrent ? .converged : .notConverged }
        return s.notConvergedVerdicts == 0 ? .converged : .notConverged
    }
}

extension VerdictStatus {
    /// See `VerdictPolicy.isNotConverged`.
    public var isNotConverged: Bool { VerdictPolicy.isNotConverged(self) }
    /// See `VerdictPolicy.isAnswering`.
    public var isAnswering: Bool { VerdictPolicy.isAnswering(self) }
}

/// Counts of a report, and through `VerdictPolicy` the convergence decision.
public struct Summary: Sendable {
    public var counts: [VerdictStatus: Int]
    /// Resolvers asked (local ones and remote probes' resolvers).
    public var resolverCount: Int
    /// Resolvers whose every verdict is current.
    public var resolversCurrent: Int
    /// Resolvers that answered at least one question.
    public var resolversAnswering: Int
    /// Services among the resolvers (see `VerdictPolicy.serviceKey`): one cache view each from here.
    public var serviceCount: Int
    /// Services with at least one answering address.
    public var servicesAnswering: Int
    /// Services whose every address has every verdict current.
    public var servicesCurrent: Int
    /// The moment the last known non-current cache should expire, by the TTLs resolvers gave (earliest).
    public var lastExpiry: Double?
    /// The moment by which every known non-current cache should be gone at the latest
    /// (`ExpiryBound`: stale delegations re-fetching, resolver ceilings).
    public var lastLatestExpiry: Double?
    /// Parking providers seen, most frequent first.
    public var parkingProviders: [(provider: String, results: Int)]
    /// Every question has a truth (established or expected).
    public var truthEstablished: Bool

    public init(verdicts: [Verdict], truths: [Truth], resolverCount: Int) {
        self.init(verdictLists: [verdicts], truths: truths, resolverCount: resolverCount)
    }

    /// The summary of verdicts given question by question (no copy of them is made).
    public init(verdictLists: [[Verdict]], truths: [Truth], resolverCount: Int) {
        var counts: [VerdictStatus: Int] = [:]
        var lastExpiry: Double? = nil, lastLatestExpiry: Double? = nil
        var providers: [String: Int] = [:]
        for list in verdictLists {
            for v in list {
                counts[v.status, default: 0] += 1
                if v.status.isNotConverged {
                    if let e = v.expiresAt { lastExpiry = max(lastExpiry ?? e, e) }
                    if let l = v.latestAt ?? v.expiresAt { lastLatestExpiry = max(lastLatestExpiry ?? l, l) }
                }
                if let p = v.parking { providers[p.provider, default: 0] += 1 }
            }
        }
        self.counts = counts
        self.lastExpiry = lastExpiry
        self.lastLatestExpiry = lastLatestExpiry
        let tally = VerdictPolicy.tally(verdictLists)
        self.resolverCount = max(resolverCount, tally.resolvers)
        resolversCurrent = tally.resolversCurrent
        resolversAnswering = tally.resolversAnswering
        (serviceCount, servicesAnswering, servicesCurrent) = (tally.services, tally.servicesAnswering, tally.servicesCurrent)
        parkingProviders = providers.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            .map { (provider: $0.key, results: $0.value) }
        truthEstablished = !truths.isEmpty && truths.allSatisfy { $0.answer != nil || $0.expectedValues != nil }
    }

    public func count(_ s: VerdictStatus) -> Int { counts[s] ?? 0 }

    /// Verdicts that are DNS answers (current ones among them).
    public var answeringVerdicts: Int { VerdictStatus.allCases.filter(\.isAnswering).reduce(0) { $0 + count($1) } }
    /// Verdicts that keep the world from having converged.
    public var notConvergedVerdicts: Int { VerdictStatus.allCases.filter(\.isNotConverged).reduce(0) { $0 + count($1) } }
    public var currentPercent: Double {
        answeringVerdicts == 0 ? 0 : Double(count(.current)) * 100 / Double(answeringVerdicts)
    }

    public func outcome(minCurrent: Double?) -> VerdictPolicy.Outcome { VerdictPolicy.outcome(self, minCurrent: minCurrent) }
    /// 0 converged, 1 not converged, 2 cannot tell.
    public func exitStatus(minCurrent: Double?) -> Int32 { outcome(minCurrent: minCurrent).exitStatus }
}
