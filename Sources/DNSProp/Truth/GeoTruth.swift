/// What the authoritative servers of a CDN or GeoDNS name give to different networks
/// (issue 14): learnt by asking with EDNS Client Subnet (RFC 7871) for resolvers'
/// own networks, or, where the servers ignore ECS, by asking again a bounded number
/// of times. Attached to a `Truth`; the verdict rule that reads it is
/// `VerdictPolicy.geoMatch`, called by `VerdictClassifier`.
public struct GeoTruth: Sendable, Hashable {
    /// The name whose final RRset varies (the end of the CNAME chain, or the name itself).
    public var name: DomainName
    public var type: RecordType
    /// Answers by network, with the scope each came with (final values, normalised).
    public var byNetwork: ScopeCache<Set<String>>
    /// The authority answered without an ECS option, or with scope 0: its answers do not
    /// depend on the network asked for (or it does not say so).
    public var ignoresClientSubnet: Bool
    /// The same network asked again got another answer: the authority picks per query.
    public var rotates = false
    /// Distinct answers learnt by asking again (when the authority ignores ECS), and the
    /// one the truth itself holds. Each set is one whole final RRset.
    public var answerSet: [Set<String>]
    /// Queries sent for this name (ECS questions and repeated asks).
    public var queries: Int
    /// Networks that were not asked (past the limit), how many.
    public var networksSkipped: Int

    public init(name: DomainName, type: RecordType, byNetwork: ScopeCache<Set<String>> = ScopeCache(),
                ignoresClientSubnet: Bool = false, answerSet: [Set<String>] = [], queries: Int = 0, networksSkipped: Int = 0) {
        self.name = name
        self.type = type
        self.byNetwork = byNetwork
        self.ignoresClientSubnet = ignoresClientSubnet
        self.answerSet = answerSet
        self.queries = queries
        self.networksSkipped = networksSkipped
    }

    /// Every distinct final RRset the authority was seen to give, to any network.
    public var everyAnswer: [Set<String>] {
        var out: [Set<String>] = []
        for a in byNetwork.entries.map(\.value) + answerSet where !out.contains(a) { out.append(a) }
        return out
    }

    /// Whether the authority gave more than one answer.
    public var varies: Bool { everyAnswer.count > 1 }
}

/// How a verdict's answer was found current by the geo truth (`Verdict.geo`).
public struct GeoMatch: Sendable, Hashable {
    public enum Basis: String, Sendable, Hashable {
        /// The authority gives this answer to the resolver's own network (by ECS).
        case ownNetwork = "own-network"
        /// One of the answers the authority rotates through (it ignores ECS, or picks per query).
        case answerSet = "answer-set"
        /// The authority gives this answer to another network it was asked for, not to the
        /// resolver's own: anycast resolvers and resolvers forwarding their clients' ECS
        /// (RFC 7871 §7.1.2) reach the authority from elsewhere than their address says.
        case otherNetwork = "other-network"
    }

    public var basis: Basis
    /// The resolver's network that was asked for (`ClientSubnet.networkText`), when known.
    public var network: String?
    /// The scope the authority gave for that network.
    public var scope: Int?

    public init(basis: Basis, network: String?, scope: Int?) {
        self.basis = basis
        self.network = network
        self.scope = scope
    }

    /// "current — varies by location: …", for a person.
    public var detail: String {
        let head = "current — varies by location"
        switch basis {
        case .ownNetwork:
            return head + ": what the authority gives to \(network ?? "the resolver's network")" + (scope.map { " (scope /\($0))" } ?? "")
        case .answerSet:
            return head + ": one of the answers the authority rotates through"
        case .otherNetwork:
            return head + ": what the authority gives to another network (for \(network ?? "the resolver's network") it gives another answer)"
        }
    }
}

/// Counts of the geo truth's extra queries, for `--verbose`.
public struct GeoStatistics: Sendable, Hashable, CustomStringConvertible {
    /// Names whose geo truth was looked at.
    public var names = 0
    /// Distinct resolver networks (IPv4 /24, IPv6 /56) to judge.
    public var networks = 0
    /// Networks answered from the scope cache without a query.
    public var fromScopeCache = 0
    /// Networks not asked (past the per-name limit).
    public var skipped = 0
    /// Queries with an ECS option.
    public var clientSubnetQueries = 0
    /// Repeated asks without ECS (authorities that ignore it).
    public var repeatedQueries = 0

    public init() {}

    public var totalQueries: Int { clientSubnetQueries + repeatedQueries }

    public var description: String {
        "\(totalQueries) queries (\(clientSubnetQueries) with a client subnet, \(repeatedQueries) repeated) for \(networks) resolver network\(networks == 1 ? "" : "s")"
            + " of \(names) name\(names == 1 ? "" : "s"), \(fromScopeCache) from the scope cache"
            + (skipped > 0 ? ", \(skipped) not asked (limit)" : "")
    }

    public static func += (a: inout GeoStatistics, b: GeoStatistics) {
        a.names += b.names; a.networks += b.networks; a.fromScopeCache += b.fromScopeCache
        a.skipped += b.skipped; a.clientSubnetQueries += b.clientSubnetQueries; a.repeatedQueries += b.repeatedQueries
    }
}
