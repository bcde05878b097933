/// What a name should resolve to: the data, or a negative answer.
public enum TruthAnswer: Sendable, Hashable {
    /// CNAMEs from the name (if any), then the final RRset; TTLs as the authoritative servers gave them.
    case data([ResourceRecord])
    case nxdomain(soa: ResourceRecord?)
    case nodata(soa: ResourceRecord?)

    public var records: [ResourceRecord] { if case .data(let r) = self { return r } else { return [] } }
}

/// The truth for one (name, type), where it came from, and what was odd on the way.
public struct Truth: Sendable {
    public enum Source: Sendable, Hashable {
        /// Asked directly of the zone's servers (RD=0).
        case authoritative(zone: String, servers: [String], serial: UInt32?)
        /// Given by the user (`--expect TYPE=VALUE`).
        case expected
    }

    public var name: DomainName
    public var type: RecordType
    /// nil when it could not be established (see `failure`).
    public var answer: TruthAnswer?
    /// For `--expect`: the values, normalised; compared with the final RRset only.
    public var expectedValues: [String]?
    public var source: Source
    /// Disagreements between authoritative servers, lame servers, parent/child NS differences.
    public var notes: [String]
    public var failure: String?
    /// The chain of trust from the trust anchor to this answer (`ChainOfTrust`); nil when not validated.
    public var dnssec: DNSSECValidation? = nil
    /// What the authority gives to other networks (CDN and GeoDNS names): set by
    /// `GeoTruthFinder` when some resolver's answer differs from `answer`.
    public var geo: GeoTruth? = nil
    /// For a zone's NS set: the parent's NS set (normalised), where it differs from the zone's
    /// own (a lame or mismatched delegation). A resolver that serves it follows the TLD's
    /// delegation as it stands, from the referral (a parent-centric resolver keeps doing so):
    /// nothing it caches will expire into the zone's own set.
    public var parentNS: [String]? = nil
}

/// Establishes truths by asking every authoritative server of a zone.
public struct TruthFinder: Sendable {
    public let resolver: IterativeResolver
    public static let maxCNAMEChain = 8

    public init(resolver: IterativeResolver) { self.resolver = resolver }

    /// One server's authoritative reply for (name, type) and the zone serial it reported.
    struct ServerReply {
        var server: String
        var message: Message?
        var error: String?
        var serial: UInt32?
    }

    /// The truth for (name, type), within one budget (`IterativeResolver.Options`) for
    /// its whole walk, name-server look-ups and CNAME targets included.
    public func truth(for name: DomainName, type: RecordType) async -> Truth {
        await truth(for: name, type: type, chain: [], depth: 0, budget: LookupBudget(options: resolver.options))
    }

    private func truth(for name: DomainName, type: RecordType, chain: [ResourceRecord], depth: Int, budget: LookupBudget) async -> Truth {
        var notes: [String] = []
        let delegation: IterativeResolver.Delegation
        do {
            delegation = try await resolver.delegation(for: name, budget: budget)
        } catch {
            return Truth(name: name, type: type, answer: nil, source: .authoritative(zone: "", servers: [], serial: nil),
                         notes: [], failure: "cannot find the authoritative servers of \(name): \(error)")
        }
        for l in delegation.lame { notes.append("lame server \(l)") }
        let unaddressed = delegation.servers.filter(\.addresses.isEmpty).map(\.name)
        if !unaddressed.isEmpty {
            notes.append("name servers of \(delegation.zone) not asked (no glue, and no address found or looked up within the limits): \(unaddressed.joined(separator: " "))")
        }
        let targets = resolver.serverAddresses(delegation.servers)
        let answers: [QueryResult], soas: [QueryResult]
        do {
            async let answersTask = resolver.ask(targets, name, type, zone: delegation.zone, budget: budget)
            async let soaTask = resolver.ask(targets, delegation.zone, .soa, zone: delegation.zone, budget: budget)
            (answers, soas) = try await (answersTask, soaTask)
        } catch {
            return Truth(name: name, type: type, answer: nil, source: .authoritative(zone: delegation.zone.text, servers: [], serial: nil),
                         notes: notes, failure: "cannot ask the authoritative servers of \(delegation.zone) for \(name) \(type): \(error)")
        }
        var replies: [ServerReply] = []
        for (i, result) in answers.enumerated() {
            let label = "\(targets[i].0) (\(targets[i].1))"
            var reply = ServerReply(server: label)
            switch result.outcome {
            case .success(let m): reply.message = m
            case .failure(let e): reply.error = e.description
            }
            if i < soas.count, let s = soas[i].message,
               let soa = s.answers.first(where: { $0.type == .soa }), soa.rdataFields.count >= 7 {
                reply.serial = UInt32(soa.rdataFields[2])
            }
            replies.append(reply)
        }
        let good = replies.filter { r in
            guard let m = r.message else { return false }
            return m.header.flags.contains(.aa) && (m.rcode == .noError || m.rcode == .nxDomain)
        }
        for r in replies where !good.contains(where: { $0.server == r.server }) {
            if let e = r.error { notes.append("authoritative server \(r.server): \(e)") }
            else if let m = r.message { notes.append("authoritative server \(r.server) answered \(m.rcode)\(m.header.flags.contains(.aa) ? "" : " without AA")") }
        }
        let serverNames = Array(Set(delegation.servers.map(\.name))).sorted()
        guard !good.isEmpty else {
            return Truth(name: name, type: type, answer: nil,
                         source: .authoritative(zone: delegation.zone.text, servers: serverNames, serial: nil),
                         notes: notes, failure: "no authoritative server of \(delegation.zone) answered for \(name) \(type)")
        }
        let serials = Set(good.compactMap(\.serial))
        let newest = serials.max()
        var chosen = good
        if serials.count > 1, let newest {
            let listing = good.map { "\($0.server)=\($0.serial.map(String.init) ?? "?")" }.joined(separator: ", ")
            notes.append("authoritative servers disagree on the SOA serial of \(delegation.zone) (\(listing)); answers from serial \(newest) count as current")
            chosen = good.filter { $0.serial == newest }
        }
        // Distinct answers among the chosen servers.
        var groups: [String: (answer: TruthAnswer, servers: [String])] = [:]
        for r in chosen {
            let a = Self.answer(from: r.message!, name: name, type: type)
            let key = Self.key(a)
            groups[key, default: (a, [])].servers.append(r.server)
        }
        let ranked = groups.values.sorted { $0.servers.count > $1.servers.count }
        if ranked.count > 1 {
            let listing = ranked.map { "\(Self.summary($0.answer)) from \($0.servers.joined(separator: ", "))" }.joined(separator: "; ")
            notes.append("authoritative servers disagree on \(name) \(type): \(listing)")
        }
        var answer = ranked[0].answer
        // Follow a CNAME into whatever zone holds its target.
        // Only when the chain stops at a CNAME: its target is in another zone, whose own servers must say.
        if case .data(let records) = answer, type != .cname, let cname = records.last, cname.type == .cname {
            let targetText = cname.rdata.lowercased()
            // A target that is already an owner on the chain (this answer's records included:
            // a CNAME to itself) loops; following it would repeat the same records.
            if depth >= Self.maxCNAMEChain || (chain + records).contains(where: { DomainName.equalPresentation($0.owner, targetText) }) {
                notes.append("CNAME chain from \(name) is too long or loops")
            } else if let target = DomainName(presentation: targetText) {
                let next = await truth(for: target, type: type, chain: chain + records, depth: depth + 1, budget: budget)
                notes += next.notes
                if let nextAnswer = next.answer {
                    switch nextAnswer {
                    case .data(let rest): answer = .data(records + rest)
                    case .nxdomain, .nodata: answer = .data(records)   // a dangling CNAME: the chain itself is the data
                    }
                } else if let failure = next.failure {
                    notes.append("CNAME target: \(failure)")
                }
            }
        }
        return Truth(name: name, type: type, answer: answer,
                     source: .authoritative(zone: delegation.zone.text, servers: serverNames, serial: newest),
                     notes: notes, failure: nil)
    }

    /// The delegation of a zone as the parent publishes it and as the zone itself does.
    public func delegationNotes(for zone: DomainName) async -> [String] {
        await delegationMismatch(for: zone).map { [$0.note] } ?? []
    }

    /// The parent's and the zone's own NS sets of `zone`, when they differ (the first
    /// authoritative answer of the zone's servers decides).
    public struct DelegationMismatch: Sendable, Equatable {
        public var zone: String
        public var parentZone: String?
        public var parentNS: [String]
        public var childNS: [String]
        public var note: String {
            "the parent zone \(parentZone ?? "?") delegates \(zone) to \(parentNS.joined(separator: " ")) but the zone itself lists \(childNS.joined(separator: " "))"
        }
    }

    public func delegationMismatch(for zone: DomainName) async -> DelegationMismatch? {
        let budget = LookupBudget(options: resolver.options)
        guard let d = try? await resolver.delegation(for: zone, budget: budget), !d.parentNS.isEmpty else { return nil }
        let targets = resolver.serverAddresses(d.servers)
        guard let results = try? await resolver.ask(targets, zone, .ns, zone: d.zone, budget: budget) else { return nil }
        for result in results {
            guard let m = result.message, m.header.flags.contains(.aa) else { continue }
            let child = Set(m.answers.filter { $0.type == .ns }.map { AnswerChain.normalise($0.rdata, type: .ns) })
            let parent = Set(d.parentNS.map { AnswerChain.normalise($0, type: .ns) })
            return child == parent ? nil : DelegationMismatch(zone: zone.text, parentZone: d.parentZone?.text, parentNS: parent.sorted(), childNS: child.sorted())
        }
        return nil
    }

    static func answer(from m: Message, name: DomainName, type: RecordType) -> TruthAnswer {
        let soa = m.authority.first { $0.type == .soa }
        if m.rcode == .nxDomain { return .nxdomain(soa: soa) }
        let chain = AnswerChain.extract(from: m.answers, name: name.text, type: type)
        return chain.isEmpty ? .nodata(soa: soa) : .data(chain)
    }

    static func key(_ a: TruthAnswer) -> String {
        switch a {
        case .data(let r): return "data:" + AnswerChain.comparisonKey(r).sorted().joined(separator: "|")
        case .nxdomain: return "nxdomain"
        case .nodata: return "nodata"
        }
    }

    static func summary(_ a: TruthAnswer) -> String {
        switch a {
        case .data(let r): return r.map(\.rdata).joined(separator: " ")
        case .nxdomain: return "NXDOMAIN"
        case .nodata: return "no data"
        }
    }
}

/// The part of an answer section that answers the question: the CNAME chain
/// from the name, then the records of the asked type at the chain's end.
public enum AnswerChain {
    public static func extract(from answers: [ResourceRecord], name: String, type: RecordType) -> [ResourceRecord] {
        // The usual answer: the asked type's records, owned by the name, and nothing else.
        if answers.allSatisfy({ $0.type == type && DomainName.equalPresentation($0.owner, name) }) { return answers }
        var out: [ResourceRecord] = []
        var current = name
        func key(_ s: String) -> String { let l = s.lowercased(); return l.hasSuffix(".") ? l : l + "." }
        // The name itself counts as seen: a CNAME to itself (or back to any earlier
        // owner) ends the chain after that CNAME is taken once.
        var seen: Set<String> = [key(name)]
        for _ in 0...TruthFinder.maxCNAMEChain {
            let here = answers.filter { DomainName.equalPresentation($0.owner, current) }
            let finals = here.filter { $0.type == type }
            if !finals.isEmpty { return out + finals }
            guard type != .cname, let cname = here.first(where: { $0.type == .cname }) else { return out }
            out.append(cname)
            current = cname.rdata
            guard seen.insert(key(current)).inserted else { return out }
        }
        return out
    }

    /// Order-, case- and TTL-independent identity of records.
    public static func comparisonKey(_ records: [ResourceRecord]) -> Set<String> {
        Set(records.map { "\($0.owner.lowercased()) \($0.type.name) \($0.comparableRdata)" })
    }

    /// The final RRset's values (after the CNAME chain), normalised.
    public static func finalValues(_ records: [ResourceRecord], type: RecordType) -> Set<String> {
        Set(records.filter { $0.type == type }.map { normalise($0.comparableRdata, type: type) })
    }

    /// Values as users type them: names absolute and lower-case, TXT without its quotes.
    public static func normalise(_ value: String, type: RecordType) -> String {
        var v = value.trimmingSpaces
        if type == .txt, v.hasPrefix("\""), v.hasSuffix("\""), v.count >= 2 { v = String(v.dropFirst().dropLast()) }
        if type.rdataHasNames {
            v = v.lowercased()
            if !v.hasSuffix(".") { v += "." }
        }
        if type == .aaaa || type == .a, let ip = IPAddress(v) { v = ip.description }
        return v
    }
}
