/// The status of one resolver for one question.
public enum VerdictStatus: String, Sendable, Hashable, CaseIterable, Codable {
    /// The answer equals the truth.
    case current
    /// An answer that differs from the truth and is not parking.
    case stale
    /// An answer matching a parking or registrar-expiry signature while the truth does not.
    case parked
    /// NXDOMAIN where the truth has data (e.g. a registry hold still cached).
    case nxdomain
    /// An empty answer where the truth has data.
    case nodata
    case servfail
    case refused
    case timeout
    /// Malformed answer, transport failure, or not a recursive answer.
    case error
}

/// What a check asks every resolver: a name and a type, either for its own sake
/// (`record`) or as the zone's NS set, to see which delegation a resolver follows.
public struct CheckQuestion: Hashable, Sendable, Comparable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable, Codable {
        /// A record type the user asked about.
        case record
        /// The zone's NS set, asked to see which name servers a resolver still follows.
        case delegation
    }

    public var name: DomainName
    public var type: RecordType
    public var kind: Kind

    public init(name: DomainName, type: RecordType, kind: Kind = .record) {
        self.name = name
        self.type = type
        self.kind = kind
    }

    public var isDelegation: Bool { kind == .delegation }

    /// `victim.com. A`, or `victim.com. NS (delegation)`.
    public var description: String { "\(name.text) \(type.name)" + (isDelegation ? " (delegation)" : "") }

    public static func < (a: CheckQuestion, b: CheckQuestion) -> Bool {
        (a.name.text, a.type.rawValue, a.kind == .delegation ? 1 : 0) < (b.name.text, b.type.rawValue, b.kind == .delegation ? 1 : 0)
    }
}

/// One resolver's answer to one question, judged against the truth.
public struct Verdict: Sendable {
    public var resolver: Resolver
    public var question: CheckQuestion
    public var status: VerdictStatus
    public var reason: String
    /// The answer records relevant to the question, in presentation form.
    public var answers: [String]
    /// The smallest TTL the resolver reported for what decided the verdict (remaining cache time).
    public var ttl: UInt32?
    /// When this cached answer should expire (wall-clock seconds), for non-current answers:
    /// the earliest moment, when its own TTL runs out.
    public var expiresAt: Double?
    /// An upper bound on when a non-current answer is gone (see `ExpiryBound`); nil when
    /// none can be stated (no TTL in the answer).
    public var latestAt: Double?
    /// How `latestAt` was reached, for a person.
    public var latestBasis: String?
    /// The resolver's own cached delegation of the zone is itself not current (it still
    /// follows these name servers): records it re-fetches come from them.
    public var followsStaleDelegation: [String]?
    /// `watch`: this round did not ask the resolver this question, on purpose, until then
    /// (a query in the last seconds of a stale record's TTL can make the resolver refresh it);
    /// the verdict is the last one seen.
    public var deferredUntil: Double?
    /// The response code of the answer; nil when no answer came (timeout, transport failure).
    public var rcode: ResponseCode?
    public var rttMs: Double?
    /// The anycast site (or server) that answered, as it names itself in its NSID (RFC 5001);
    /// nil when it sent none. Network text.
    public var site: String?
    public var attempts: Int
    public var transport: Transport
    /// A SERVFAIL was asked again once after a pause before this verdict.
    public var retriedAfterServfail: Bool
    public var parking: ParkingSignatures.Match?
    public var checkedAt: Double
    /// Seen in a watch: still served after the expiry its TTL announced in an earlier round.
    public var servedPastExpiry: Bool = false
    /// Stale or parked at a service that offers a cache purge: where, and what to flush.
    public var purge: PurgeAdvice?
    /// The AD bit of the answer: the resolver validated it with DNSSEC (it was asked with AD=1).
    public var authenticatedData: Bool = false
    /// Extended DNS Errors (RFC 8914) the answer carried. Network text inside: escape.
    public var extendedErrors: [ExtendedDNSError] = []
    /// A SERVFAIL that is a DNSSEC validation failure (it answers with CD=1); see `DNSSECFailure`.
    public var dnssecFailure: DNSSECFailure? = nil
    /// Current only because the answer varies by location (CDN, GeoDNS): how it was matched.
    public var geo: GeoMatch?

    public init(resolver: Resolver, question: CheckQuestion, status: VerdictStatus, reason: String, answers: [String] = [],
                ttl: UInt32? = nil, expiresAt: Double? = nil, rcode: ResponseCode? = nil, rttMs: Double? = nil,
                attempts: Int = 1, transport: Transport = .udp, retriedAfterServfail: Bool = false,
                parking: ParkingSignatures.Match? = nil, checkedAt: Double, servedPastExpiry: Bool = false,
                latestAt: Double? = nil, latestBasis: String? = nil) {
        self.resolver = resolver
        self.question = question
        self.status = status
        self.reason = reason
        self.answers = answers
        self.ttl = ttl
        self.expiresAt = expiresAt
        self.rcode = rcode
        self.rttMs = rttMs
        self.attempts = attempts
        self.transport = transport
        self.retriedAfterServfail = retriedAfterServfail
        self.parking = parking
        self.checkedAt = checkedAt
        self.servedPastExpiry = servedPastExpiry
        self.latestAt = latestAt
        self.latestBasis = latestBasis
    }

    public var name: DomainName { question.name }
    public var type: RecordType { question.type }
    public var isDelegationCheck: Bool { question.isDelegation }
}
