import Foundation

/// The registry side of a check: which domain to ask RDAP about, the lookup itself (run beside
/// the DNS work, never in its way), and the diagnosis drawn once the verdicts are in.
/// A class shared by every copy of a plan, so that `watch` asks RDAP once per `refresh`
/// interval, not every round. All state behind `lock`.
public final class RegistrySource: @unchecked Sendable {
    public let client: RDAPClient
    /// How long a lookup stays good in a watch (RDAP servers rate-limit; registry state moves slowly).
    public var refresh: Double
    /// Seconds a check waits for a slow RDAP server once its DNS work is done (unless
    /// `--warn-expiry` needs the answer); past it the diagnosis says the registry is still being
    /// asked, and in a watch the answer, when it comes, serves the later rounds.
    public var grace: Double
    private let lock = NSLock()
    private var last: RegistryLookup?
    private var inFlight: (domain: DomainName, task: Task<RegistryLookup, Never>)?

    public init(client: RDAPClient, refresh: Double = 600, grace: Double = 1.5) {
        self.client = client
        self.refresh = refresh
        self.grace = grace
    }

    func lookUp(_ domain: DomainName) async -> RegistryLookup {
        let now = WallClock.now()
        let task = lock.withLock { () -> Task<RegistryLookup, Never>? in
            if let cached = last, cached.domain == domain, now - cached.checkedAt < refresh { return nil }
            if let f = inFlight, f.domain == domain { return f.task }       // one lookup at a time
            let client = self.client
            let t = Task { await client.lookUp(domain) }
            inFlight = (domain, t)
            return t
        }
        guard let task else { return lock.withLock { last! } }
        let fresh = await task.value
        lock.withLock {
            last = fresh
            if inFlight?.domain == domain { inFlight = nil }
        }
        return fresh
    }

    /// The lookup's answer, or (after `grace` seconds) a lookup that says it is still under way.
    /// Whichever comes first resumes the caller; the lookup itself runs on (a watch keeps it).
    func answer(of lookup: Task<RegistryLookup?, Never>, domain: DomainName, waitFully: Bool) async -> RegistryLookup? {
        if waitFully { return await lookup.value }
        let pending = RegistryLookup(domain: domain,
                                     problem: "the RDAP server has not answered yet (not waited for past the DNS work; --warn-expiry waits up to \(Int(client.timeout)) s)",
                                     checkedAt: WallClock.now())
        return await firstOf(lookup, orAfter: grace, otherwise: pending)
    }
}

/// `task`'s value, or `otherwise` once `seconds` have passed, whichever comes first; the task runs on.
func firstOf<T: Sendable>(_ task: Task<T, Never>, orAfter seconds: Double, otherwise: T) async -> T {
    let once = ResumeOnce()
    return await withCheckedContinuation { (c: CheckedContinuation<T, Never>) in
        Task { let v = await task.value; once.run { c.resume(returning: v) } }
        Task {
            try? await Task.sleep(nanoseconds: UInt64(max(0, seconds) * 1e9))
            once.run { c.resume(returning: otherwise) }
        }
    }
}

/// Runs the first closure given to it and ignores the rest (a continuation resumed once).
private final class ResumeOnce: @unchecked Sendable {   // `done` guarded by `lock`
    private let lock = NSLock()
    private var done = false
    func run(_ body: () -> Void) {
        let first = lock.withLock { () -> Bool in defer { done = true }; return !done }
        if first { body() }
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

    /// Starts the walk to the diagnosed domain's delegation (`ZoneDelegationView`), so that it
    /// runs while the resolvers are asked.
    func startDelegationView(_ iterative: IterativeResolver) -> Task<ZoneDelegationView, Never>? {
        guard plan.diagnose, let domain = diagnosedDomain else { return nil }
        return Task { await ZoneDelegationView.observe(domain, iterative: iterative) }
    }

    /// Seconds the diagnosis waits for the delegation view once the verdicts are in (unless
    /// `--warn-expiry` needs it): where the root or TLD servers cannot be reached (a firewall
    /// that lets DNS through to resolvers only), the walk would otherwise hold the check for
    /// its timeouts.
    static let delegationViewGrace: Double = 1.5

    /// The report with its diagnosis. The verdicts are decided before this runs and are not changed.
    func diagnose(_ report: PropagationReport, delegationView: Task<ZoneDelegationView, Never>?,
                  iterative: IterativeResolver, lookup: Task<RegistryLookup?, Never>?) async -> PropagationReport {
        guard plan.diagnose, let domain = diagnosedDomain, let delegationView else { return report }
        let waitFully = plan.warnExpiry != nil
        let unseen = ZoneDelegationView(zone: domain, delegated: false,
                                        problem: "the TLD's delegation of \(domain) was not seen within \(String(format: "%g", Self.delegationViewGrace)) s of the resolvers' answers (the root or TLD servers are slow or unreachable; --warn-expiry waits)")
        // Both waits at once: the registry's grace and the delegation view's run side by side.
        async let viewWait = waitFully ? await delegationView.value
            : await firstOf(delegationView, orAfter: Self.delegationViewGrace, otherwise: unseen)
        var registry: RegistryLookup? = nil
        if let lookup, let source = plan.registry {
            registry = await source.answer(of: lookup, domain: domain, waitFully: waitFully)
        }
        let view = await viewWait
        var out = report
        out.iteration = iterative.statistics      // the walk's queries for the diagnosis count too
        out.diagnosis = Diagnosis.build(domain: domain, registry: registry, delegation: view, report: report,
                                        signatures: plan.signatures, warnExpiry: plan.warnExpiry, now: WallClock.now())
        if plan.names.contains(where: { PublicSuffixList.bundled.registrableDomain(of: $0) != domain }) {
            out.notes.append("the diagnosis covers \(domain.text) only (the names belong to several registered domains)")
        }
        return out
    }
}
