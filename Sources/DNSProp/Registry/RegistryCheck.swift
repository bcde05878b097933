import Foundation

/// The registry side of a check: which domain to ask RDAP about, the lookup itself (run beside
/// the DNS work, never in its way), and the diagnosis drawn once the verdicts are in.
/// A class shared by every copy of a plan, so that `watch` asks RDAP once per `refresh`
/// interval, not every round. All state behind `lock`.
public final class RegistrySource: @unchecked Sendable {
    public let client: RDAPClient
    /// How long a lookup stays good in a watch (RDAP servers rate-limit; registry state moves slowly).
    public var refresh: Double
    private let lock = NSLock()
    private var last: RegistryLookup?

    public init(client: RDAPClient, refresh: Double = 600) {
        self.client = client
        self.refresh = refresh
    }

    func lookUp(_ domain: DomainName) async -> RegistryLookup {
        let now = WallClock.now()
        if let cached = lock.withLock({ last }), cached.domain == domain, now - cached.checkedAt < refresh { return cached }
        let fresh = await client.lookUp(domain)
        lock.withLock { last = fresh }
        return fresh
    }
}

extension PropagationCheck {
    /// The registrable domain the diagnosis is about: the first name's (ICANN section of the PSL).
    var diagnosedDomain: DomainName? {
        guard let first = plan.names.first else { return nil }
        return PublicSuffixList.bundled.registrableDomain(of: first)
    }

    /// Starts the RDAP lookup at once, so that it runs while the DNS work does.
    func startRegistryLookup() -> Task<RegistryLookup?, Never>? {
        guard plan.diagnose, let source = plan.registry, let domain = diagnosedDomain else { return nil }
        return Task { await source.lookUp(domain) }
    }

    /// The report with its diagnosis. The verdicts are decided before this runs and are not changed.
    func diagnose(_ report: PropagationReport, iterative: IterativeResolver, lookup: Task<RegistryLookup?, Never>?) async -> PropagationReport {
        guard plan.diagnose, let domain = diagnosedDomain else { return report }
        let view = await ZoneDelegationView.observe(domain, iterative: iterative)
        let registry = await lookup?.value
        var out = report
        out.diagnosis = Diagnosis.build(domain: domain, registry: registry, delegation: view, report: report,
                                        signatures: plan.signatures, warnExpiry: plan.warnExpiry, now: WallClock.now())
        if plan.names.contains(where: { PublicSuffixList.bundled.registrableDomain(of: $0) != domain }) {
            out.notes.append("the diagnosis covers \(domain.text) only (the names belong to several registered domains)")
        }
        return out
    }
}
