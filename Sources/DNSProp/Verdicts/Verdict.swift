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
///
/// A value with its fields behind one reference (copy on write): a check copies each verdict
/// into per-question lists, reports, standings and watch state, and a copy is then one retain
/// instead of some 670 bytes and two dozen retains.
public struct Verdict: Sendable {
    struct Fields {
        var resolver: Resolver
        var question: CheckQuestion
        var status: VerdictStatus
        var reason: String
        var answers: [String] = []
        var ttl: UInt32? = nil
        var expiresAt: Double? = nil
        var latestAt: Double? = nil
        var latestBasis: String? = nil
        var followsStaleDelegation: [String]? = nil
        var deferredUntil: Double? = nil
        var rcode: ResponseCode? = nil
        var rttMs: Double? = nil
        var site: String? = nil
        var attempts: Int = 1
        var transport: Transport = .udp
        var retriedAfterServfail: Bool = false
        var parking: ParkingSignatures.Match? = nil
        var checkedAt: Double
        var servedPastExpiry: Bool = false
        var purge: PurgeAdvice? = nil
        var authenticatedData: Bool = false
        var extendedErrors: [ExtendedDNSError] = []
        var dnssecFailure: DNSSECFailure? = nil
        var geo: GeoMatch? = nil
    }

    /// Mutated only while uniquely referenced (`fields`' modify accessor copies it first).
    final class Storage: @unchecked Sendable {
        var fields: Fields
        init(_ fields: Fields) { self.fields = fields }
    }

    private var storage: Storage

    private var fields: Fields {
        get { storage.fields }
        _modify {
            if !isKnownUniquelyReferenced(&storage) { storage = Storage(storage.fields) }
            yield &storage.fields
        }
    }

    public var resolver: Resolver { get { storage.fields.resolver } set { fields.resolver = newValue } }
    public var question: CheckQuestion { get { storage.fields.question } set { fields.question = newValue } }
    public var status: VerdictStatus { get { storage.fields.status } set { fields.status = newValue } }
    public var reason: String { get { storage.fields.reason } set { fields.reason = newValue } }
    /// The answer records relevant to the question, in presentation form.
    public var answers: [String] { get { storage.fields.answers } set { fields.answers = newValue } }
    /// The smallest TTL the resolver reported for what decided the verdict (remaining cache time).
    public var ttl: UInt32? { get { storage.fields.ttl } set { fields.ttl = newValue } }
    /// When this cached answer should expire (wall-clock seconds), for non-current answers:
    /// the earliest moment, when its own TTL runs out.
    public var expiresAt: Double? { get { storage.fields.expiresAt } set { fields.expiresAt = newValue } }
    /// An upper bound on when a non-current answer is gone (see `ExpiryBound`); nil when
    /// none can be stated (no TTL in the answer).
    public var latestAt: Double? { get { storage.fields.latestAt } set { fields.latestAt = newValue } }
    /// How `latestAt` was reached, for a person.
    public var latestBasis: String? { get { storage.fields.latestBasis } set { fields.latestBasis = newValue } }
    /// The resolver's own cached delegation of the zone is itself not current (it still
    /// follows these name servers): records it re-fetches come from them.
    public var followsStaleDelegation: [String]? { get { storage.fields.followsStaleDelegation } set { fields.followsStaleDelegation = newValue } }
    /// `watch`: this round did not ask the resolver this question, on purpose, until then
    /// (a query in the last seconds of a stale record's TTL can make the resolver refresh it);
    /// the verdict is the last one seen.
    public var deferredUntil: Double? { get { storage.fields.deferredUntil } set { fields.deferredUntil = newValue } }
    /// The response code of the answer; nil when no answer came (timeout, transport failure).
    public var rcode: ResponseCode? { get { storage.fields.rcode } set { fields.rcode = newValue } }
    public var rttMs: Double? { get { storage.fields.rttMs } set { fields.rttMs = newValue } }
    /// The anycast site (or server) that answered, as it names itself in its NSID (RFC 5001);
    /// nil when it sent none. Network text.
    public var site: String? { get { storage.fields.site } set { fields.site = newValue } }
    public var attempts: Int { get { storage.fields.attempts } set { fields.attempts = newValue } }
    public var transport: Transport { get { storage.fields.transport } set { fields.transport = newValue } }
    /// A SERVFAIL was asked again once after a pause before this verdict.
    public var retriedAfterServfail: Bool { get { storage.fields.retriedAfterServfail } set { fields.retriedAfterServfail = newValue } }
    public var parking: ParkingSignatures.Match? { get { storage.fields.parking } set { fields.parking = newValue } }
    public var checkedAt: Double { get { storage.fields.checkedAt } set { fields.checkedAt = newValue } }
    /// Seen in a watch: still served after the expiry its TTL announced in an earlier round.
    public var servedPastExpiry: Bool { get { storage.fields.servedPastExpiry } set { fields.servedPastExpiry = newValue } }
    /// Stale or parked at a service that offers a cache purge: where, and what to flush.
    public var purge: PurgeAdvice? { get { storage.fields.purge } set { fields.purge = newValue } }
    /// The AD bit of the answer: the resolver validated it with DNSSEC (it was asked with AD=1).
    public var authenticatedData: Bool { get { storage.fields.authenticatedData } set { fields.authenticatedData = newValue } }
    /// Extended DNS Errors (RFC 8914) the answer carried. Network text inside: escape.
    public var extendedErrors: [ExtendedDNSError] { get { storage.fields.extendedErrors } set { fields.extendedErrors = newValue } }
    /// A SERVFAIL that is a DNSSEC validation failure (it answers with CD=1); see `DNSSECFailure`.
    public var dnssecFailure: DNSSECFailure? { get { storage.fields.dnssecFailure } set { fields.dnssecFailure = newValue } }
    /// Current only because the answer varies by location (CDN, GeoDNS): how it was matched.
    public var geo: GeoMatch? { get { storage.fields.geo } set { fields.geo = newValue } }

    public init(resolver: Resolver, question: CheckQuestion, status: VerdictStatus, reason: String, answers: [String] = [],
                ttl: UInt32? = nil, expiresAt: Double? = nil, rcode: ResponseCode? = nil, rttMs: Double? = nil,
                attempts: Int = 1, transport: Transport = .udp, retriedAfterServfail: Bool = false,
                parking: ParkingSignatures.Match? = nil, checkedAt: Double, servedPastExpiry: Bool = false,
                latestAt: Double? = nil, latestBasis: String? = nil) {
        var f = Fields(resolver: resolver, question: question, status: status, reason: reason, checkedAt: checkedAt)
        f.answers = answers
        f.ttl = ttl
        f.expiresAt = expiresAt
        f.rcode = rcode
        f.rttMs = rttMs
        f.attempts = attempts
        f.transport = transport
        f.retriedAfterServfail = retriedAfterServfail
        f.parking = parking
        f.servedPastExpiry = servedPastExpiry
        f.latestAt = latestAt
        f.latestBasis = latestBasis
        storage = Storage(f)
    }

    public var name: DomainName { question.name }
    public var type: RecordType { question.type }
    public var isDelegationCheck: Bool { question.isDelegation }
}
