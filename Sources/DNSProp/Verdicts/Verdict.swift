/// The status of one resolver for one (name, type).
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

    /// Statuses that mean "answered, but not yet converged" (exit status 1).
    public var isNotConverged: Bool {
        switch self {
        case .stale, .parked, .nxdomain, .nodata, .servfail: return true
        default: return false
        }
    }

    /// Whether the resolver gave a DNS answer at all (counts towards the "answering" base).
    public var isAnswering: Bool {
        switch self {
        case .timeout, .error, .refused: return false
        default: return true
        }
    }
}

/// One row of a check: a resolver, a question, what it answered, and the verdict.
public struct Verdict: Sendable {
    public var resolver: Resolver
    public var name: String
    public var type: RecordType
    public var status: VerdictStatus
    public var reason: String
    /// The answer records relevant to the question, in presentation form.
    public var answers: [String]
    /// The smallest TTL the resolver reported for what decided the verdict (remaining cache time).
    public var ttl: UInt32?
    /// When this cached answer should expire (wall-clock seconds), for non-current answers.
    public var expiresAt: Double?
    public var rcode: String?
    public var rttMs: Double?
    public var attempts: Int
    public var transport: Transport
    /// A SERVFAIL was asked again once after a pause before this verdict.
    public var retriedAfterServfail: Bool
    public var parking: ParkingSignatures.Match?
    public var checkedAt: Double
    /// This check was not about an asked record type but the zone's delegation (its NS set).
    public var isDelegationCheck: Bool
    /// Seen in a watch: still served after the expiry its TTL announced in an earlier round.
    public var servedPastExpiry: Bool = false
}
