/// The delegation of a registrable domain as the three parties see it that the diagnosis
/// compares: the TLD (the parent's NS set, from the walk from the root), the zone's own
/// servers (their NS set and SOA), and (in `Diagnosis`) the registry.
public struct ZoneDelegationView: Sendable, Equatable {
    public var zone: DomainName
    /// The zone that delegates (or would delegate) `zone`: `com.`.
    public var parentZone: String?
    /// Whether the parent delegates `zone` at all (no: a hold, or no registration).
    public var delegated: Bool
    /// NS names the parent delegates to, lower case, absolute, sorted.
    public var parentNS: [String]
    /// NS names the zone's own servers list (nil: none answered).
    public var childNS: [String]?
    /// The SOA RNAME (contact mailbox) the zone's servers give.
    public var soaRname: String?
    /// Servers of the parent's NS set that did not answer for the zone with authority.
    public var lameServers: [String]
    /// Why the view is incomplete (the walk failed), if it is.
    public var problem: String?

    public init(zone: DomainName, parentZone: String? = nil, delegated: Bool, parentNS: [String] = [], childNS: [String]? = nil,
                soaRname: String? = nil, lameServers: [String] = [], problem: String? = nil) {
        self.zone = zone
        self.parentZone = parentZone
        self.delegated = delegated
        self.parentNS = parentNS
        self.childNS = childNS
        self.soaRname = soaRname
        self.lameServers = lameServers
        self.problem = problem
    }

    /// Walks to `zone` (reusing the check's cached delegations) and asks the zone's servers
    /// for its NS set and SOA: a few queries, within the walk's budget.
    static func observe(_ zone: DomainName, iterative: IterativeResolver) async -> ZoneDelegationView {
        let budget = LookupBudget(options: iterative.options)
        let d: IterativeResolver.Delegation
        do {
            d = try await iterative.delegation(for: zone, budget: budget)
        } catch {
            return ZoneDelegationView(zone: zone, delegated: false, problem: "cannot follow the delegation of \(zone): \(error)")
        }
        guard d.zone == zone else {
            // The walk ended above: the parent does not delegate the domain (NXDOMAIN or no cut).
            return ZoneDelegationView(zone: zone, parentZone: d.zone.text, delegated: false)
        }
        var view = ZoneDelegationView(zone: zone, parentZone: d.parentZone?.text, delegated: true,
                                      parentNS: Array(Set(d.parentNS.map { Self.absolute($0) })).sorted())
        let targets = iterative.serverAddresses(d.servers)
        async let nsTask = try? iterative.ask(targets, zone, .ns, zone: d.zone, budget: budget)
        async let soaTask = try? iterative.ask(targets, zone, .soa, zone: d.zone, budget: budget)
        let (nsResults, soaResults) = await (nsTask, soaTask)
        var answered = Set<String>()
        for (i, result) in (nsResults ?? []).enumerated() where i < targets.count {
            guard let m = result.message, m.header.flags.contains(.aa), m.rcode == .noError else { continue }
            answered.insert(Self.absolute(targets[i].0))
            let names = m.answers.filter { $0.type == .ns }.map { Self.absolute($0.rdata) }
            if view.childNS == nil, !names.isEmpty { view.childNS = Array(Set(names)).sorted() }
        }
        for result in soaResults ?? [] {
            if let m = result.message, m.header.flags.contains(.aa),
               let soa = m.answers.first(where: { $0.type == .soa }), soa.rdataFields.count >= 2 {
                view.soaRname = Self.absolute(soa.rdataFields[1])
                break
            }
        }
        let asked = Set(targets.map { Self.absolute($0.0) })
        let lameByWalk = Set(d.lame.map { Self.absolute($0.server.split(separator: " ").first.map(String.init) ?? $0.server) })
        view.lameServers = view.parentNS.filter { (asked.contains($0) && !answered.contains($0)) || lameByWalk.contains($0) }
        return view
    }

    static func absolute(_ name: String) -> String {
        let l = name.lowercased()
        return l.hasSuffix(".") ? l : l + "."
    }
}
