/// Validates the truth's chain of trust from a trust anchor down to the truth's
/// RRset (RFC 4035 §5): at each zone cut the DS RRset at the parent, signed by
/// the parent's keys, must stand for a DNSKEY of the child that signs the
/// child's DNSKEY RRset; then the RRset itself must carry a valid signature by
/// the zone's keys. Every signature check and DS match is ldns's own
/// (`DNSSECVerifier`).
///
/// Polite like the walk it reuses: the zone cuts, their servers and (with DO set
/// on the walk's queries) the DS RRsets come from the `DelegationCache`; each
/// zone's DNSKEY RRset and the final signed RRset are asked of one server at a
/// time and kept in the same cache with their TTLs, so a second name, type or
/// watch round asks the root and TLD servers nothing more.
public struct ChainOfTrust: Sendable {
    public let resolver: IterativeResolver
    public let anchor: TrustAnchor
    /// Seconds since the epoch at which signatures must be valid (replaceable for tests).
    public let now: @Sendable () -> Int
    /// Zone cuts followed from the root at most.
    public static let maxDepth = 16

    public init(resolver: IterativeResolver, anchor: TrustAnchor, now: @escaping @Sendable () -> Int = { Int(WallClock.now()) }) {
        self.resolver = resolver
        self.anchor = anchor
        self.now = now
    }

    /// The DNSSEC status of a truth found at its authoritative servers; nil for a truth
    /// given with `--expect` or one that could not be established (nothing to validate).
    public func validate(_ truth: Truth) async -> DNSSECValidation? {
        guard case .authoritative = truth.source, let answer = truth.answer else { return nil }
        let budget = LookupBudget(options: resolver.options)
        var trail: [String] = []
        func result(_ state: DNSSECValidation.State, _ finding: String?) -> DNSSECValidation {
            DNSSECValidation(state: state, finding: finding, trail: trail)
        }

        // The zones from the root down to the one that holds the name.
        let zones: [ZoneStep]
        do {
            zones = try await chain(to: truth.name, budget: budget)
        } catch {
            return result(.indeterminate, "cannot follow the zone cuts to \(truth.name): \(error)")
        }

        // The root's keys, trusted through the anchor.
        var keys: [ResourceRecord] = []
        for (i, step) in zones.enumerated() {
            let zone = step.zone
            guard let keyMessage = await fetch(zone, .dnskey, at: step, budget: budget) else {
                return result(.indeterminate, "no server of \(zone) answered for its DNSKEY set")
            }
            let dnskeys = keyMessage.answers.filter { $0.type == .dnskey && DomainName.equalPresentation($0.owner, zone.text) }
            let keySigs = keyMessage.answers.filter { $0.type == .rrsig && DomainName.equalPresentation($0.owner, zone.text) }
            var entry: [ResourceRecord]
            var dsText: String
            if i == 0 {
                let anchorKeys = dnskeys.filter { k in anchor.dnskeys.contains { $0.owner.lowercased() == k.owner.lowercased() && $0.rdata == k.rdata } }
                entry = anchorKeys + DNSSECVerifier.keysMatching(ds: anchor.ds, keys: dnskeys)
                dsText = "the trust anchor (\(anchor.summary))"
                if dnskeys.isEmpty {
                    return result(.bogus, "\(zone) has no DNSKEY records, so nothing matches \(dsText)")
                }
                if entry.isEmpty {
                    return result(.bogus, "no DNSKEY of \(zone) matches \(dsText); \(zone) has \(Self.tags(dnskeys))")
                }
            } else {
                let parent = zones[i - 1].zone
                // The DS RRset at the parent, signed by the parent's keys.
                guard let dsMessage = await dsAnswer(for: zone, at: zones[i - 1], step: step, budget: budget) else {
                    return result(.indeterminate, "no server of \(parent) answered for the DS set of \(zone)")
                }
                let ds = dsMessage.answers.filter { $0.type == .ds && DomainName.equalPresentation($0.owner, zone.text) }
                if ds.isEmpty {
                    // No DS: the child is unsigned (insecure), if the parent's denial is signed.
                    let denial = dsMessage.authority.filter { [.nsec, .nsec3, .rrsig].contains($0.type) }
                    for (rrset, sigs) in Self.rrsets(denial) {
                        let check = DNSSECVerifier.verify(rrset: rrset, signatures: sigs, keys: keys, at: now())
                        if !check.isValid {
                            return result(.bogus, Self.describe(check, rrset: rrset, signer: parent))
                        }
                    }
                    trail.append("\(parent): no DS for \(zone)" + (denial.isEmpty ? " (and no NSEC/NSEC3 proof)" : " (signed denial)"))
                    return result(.insecure, nil)
                }
                let dsSigs = dsMessage.answers.filter { $0.type == .rrsig && DomainName.equalPresentation($0.owner, zone.text) }
                let dsCheck = DNSSECVerifier.verify(rrset: ds, signatures: dsSigs, keys: keys, at: now())
                guard dsCheck.isValid else { return result(.bogus, Self.describe(dsCheck, rrset: ds, signer: parent)) }
                trail.append("\(parent): DS for \(zone) (\(Self.dsTags(ds))) signed by \(parent)")
                guard ds.contains(where: DNSSECVerifier.canCheck) else {
                    trail.append("\(parent): every DS for \(zone) uses a key algorithm or digest type ldns cannot check (treated as unsigned, RFC 4035 §5.2)")
                    return result(.insecure, nil)
                }
                if dnskeys.isEmpty {
                    return result(.bogus, "DS at \(parent) for \(zone) (\(Self.dsTags(ds))) but \(zone) has no DNSKEY records")
                }
                entry = DNSSECVerifier.keysMatching(ds: ds, keys: dnskeys)
                dsText = "the DS at \(parent)"
                if entry.isEmpty {
                    return result(.bogus, "DS at \(parent) matches no DNSKEY of \(zone) (DS \(Self.dsTags(ds)); \(zone) has \(Self.tags(dnskeys)))")
                }
            }
            // The DNSKEY RRset, signed by a key the parent (or the anchor) vouches for.
            let keyCheck = DNSSECVerifier.verify(rrset: dnskeys, signatures: keySigs, keys: entry, at: now())
            guard keyCheck.isValid else {
                return result(.bogus, Self.describe(keyCheck, rrset: dnskeys, signer: zone) + " (the keys \(dsText) stands for: \(Self.tags(entry)))")
            }
            trail.append("\(zone): DNSKEY set (\(Self.tags(dnskeys))) signed by \(Self.tags(entry))")
            keys = dnskeys
        }

        // The RRset itself (or, for a negative answer, the SOA and NSEC/NSEC3 that prove it).
        guard let last = zones.last, let m = await fetch(truth.name, truth.type, at: last, budget: budget) else {
            return result(.indeterminate, "no server of \(zones.last?.zone.text ?? "?") answered \(truth.name) \(truth.type) with signatures")
        }
        let signer = last.zone
        var checked: [([ResourceRecord], [ResourceRecord])] = []
        if case .data = answer {
            let owned = m.answers.filter { DomainName.equalPresentation($0.owner, truth.name.text) }
            let wanted = owned.filter { $0.type == truth.type }
            let rrset = wanted.isEmpty ? owned.filter { $0.type == .cname } : wanted
            guard !rrset.isEmpty else {
                return result(.indeterminate, "\(truth.name) \(truth.type) came back without data when asked with DNSSEC records")
            }
            checked = [(rrset, owned.filter { $0.type == .rrsig })]
        } else {
            checked = Self.rrsets(m.authority.filter { [.soa, .nsec, .nsec3, .rrsig].contains($0.type) })
        }
        for (rrset, sigs) in checked {
            let check = DNSSECVerifier.verify(rrset: rrset, signatures: sigs, keys: keys, at: now())
            guard check.isValid else { return result(.bogus, Self.describe(check, rrset: rrset, signer: signer)) }
            trail.append("\(rrset[0].owner) \(rrset[0].type): signed by \(signer)")
        }
        return result(.secure, nil)
    }

    // MARK: the zone cuts

    /// A zone on the way down, with the servers to ask.
    struct ZoneStep: Sendable {
        var zone: DomainName
        var servers: [IterativeResolver.NameServer]
        /// The DS answer the parent gave in its referral (when the walk saw one).
        var referralDS: Message?
    }

    /// Root first, then each zone cut down to the zone that holds `name`.
    func chain(to name: DomainName, budget: LookupBudget) async throws(IterativeResolver.LookupError) -> [ZoneStep] {
        let d = try await resolver.delegation(for: name, budget: budget)
        var steps = [ZoneStep(zone: d.zone, servers: d.servers, referralDS: resolver.cache.referralDS(for: d.zone))]
        var parent = d.parentZone
        while let p = parent, steps.count <= Self.maxDepth {
            if p.isRoot {
                steps.append(ZoneStep(zone: p, servers: resolver.options.rootHints.servers.map { .init(name: $0.name, addresses: $0.addresses) }))
                return steps.reversed()
            }
            if let cut = resolver.cache.cut(of: p) {
                steps.append(ZoneStep(zone: p, servers: cut.servers, referralDS: resolver.cache.referralDS(for: p)))
                parent = cut.parentZone
            } else {
                let up = try await resolver.delegation(for: p, budget: budget)
                guard up.zone == p else { throw .noServers(zone: p.text, lame: []) }
                steps.append(ZoneStep(zone: p, servers: up.servers, referralDS: resolver.cache.referralDS(for: p)))
                parent = up.parentZone
            }
        }
        if d.zone.isRoot { return steps }
        throw .tooManyReferrals(name.text)
    }

    /// The DS answer for `zone`: the one the referral carried, or asked of the parent's servers.
    func dsAnswer(for zone: DomainName, at parent: ZoneStep, step: ZoneStep, budget: LookupBudget) async -> Message? {
        if let m = step.referralDS { return m }
        return await fetch(zone, .ds, at: parent, budget: budget)
    }

    /// (name, type) asked of the servers of `step.zone` with DO set, one server at a time,
    /// kept in the delegation cache for the answer's TTL.
    func fetch(_ name: DomainName, _ type: RecordType, at step: ZoneStep, budget: LookupBudget) async -> Message? {
        let cache = resolver.cache
        if let m = cache.signedAnswer(name, type) { return m }
        let targets = resolver.serverAddresses(step.servers)
        let answer = await resolver.askOneAtATime(targets, name, type, zone: step.zone, budget: budget, options: Self.queryOptions) { m in
            guard m.header.flags.contains(.aa) else { return "answered without AA" }
            return m.rcode == .noError || m.rcode == .nxDomain ? nil : "answered \(m.rcode)"
        }
        guard let m = answer.message else { return nil }
        let ttl = (m.answers + m.authority).map(\.ttl).min().map(Double.init) ?? 0
        cache.store(signedAnswer: m, name, type, ttl: min(ttl, resolver.options.maxCacheTTL))
        return m
    }

    /// Authoritative (RD=0) with DO: signatures wanted.
    static let queryOptions = QueryOptions(recursionDesired: false, dnssecOK: true)

    // MARK: wording

    /// RRsets of `records` (RRSIGs apart) with the RRSIGs that cover them.
    static func rrsets(_ records: [ResourceRecord]) -> [([ResourceRecord], [ResourceRecord])] {
        var order: [String] = []
        var sets: [String: [ResourceRecord]] = [:]
        for r in records where r.type != .rrsig {
            let key = r.owner.lowercased() + " " + r.type.name
            if sets[key] == nil { order.append(key) }
            sets[key, default: []].append(r)
        }
        return order.map { key in
            let set = sets[key]!
            let sigs = records.filter { $0.type == .rrsig && DomainName.equalPresentation($0.owner, set[0].owner) }
            return (set, sigs)
        }
    }

    /// "RRSIG of victim.com. A expired 2020-01-01 00:00:00 UTC".
    static func describe(_ check: SignatureCheck, rrset: [ResourceRecord], signer: DomainName) -> String {
        let what = "\(rrset.first?.owner ?? "?") \(rrset.first?.type.name ?? "?")"
        switch check {
        case .valid: return "\(what) is validly signed"
        case .unsigned: return "\(what) carries no RRSIG although \(signer) is signed"
        case .expired(let t): return "RRSIG of \(what) expired \(date(t))"
        case .notYetValid(let t): return "RRSIG of \(what) is not valid before \(date(t))"
        case .noMatchingKey(let tags):
            return "RRSIG of \(what) is made with key tag \(tags.map(String.init).joined(separator: ", ")), which is no DNSKEY of \(signer)"
        case .bogus(let why): return "RRSIG of \(what) does not verify with the DNSKEYs of \(signer) (\(why))"
        case .malformed(let why): return "the records of \(what) cannot be checked (\(why))"
        }
    }

    /// `20200101000000` → `2020-01-01 00:00:00 UTC` (other forms as given).
    static func date(_ t: String) -> String {
        guard t.count == 14, t.allSatisfy(\.isNumber) else { return t }
        let c = Array(t)
        return "\(String(c[0..<4]))-\(String(c[4..<6]))-\(String(c[6..<8])) \(String(c[8..<10])):\(String(c[10..<12])):\(String(c[12..<14])) UTC"
    }

    /// `DNSKEY 12345 (KSK), 23456`.
    static func tags(_ keys: [ResourceRecord]) -> String {
        let list = keys.map { k -> String in
            let tag = DNSSECVerifier.keyTag(k).map(String.init) ?? "?"
            return k.rdataFields.first == "257" ? "\(tag) (KSK)" : tag
        }
        return "DNSKEY " + list.joined(separator: ", ")
    }

    static func dsTags(_ ds: [ResourceRecord]) -> String {
        "key tag " + Array(Set(ds.compactMap { $0.rdataFields.first })).sorted().joined(separator: ", ")
    }
}

/// The outcome of validating one truth's chain of trust.
public struct DNSSECValidation: Sendable, Hashable {
    public enum State: String, Sendable, Hashable, Codable {
        /// Every link from the trust anchor to the RRset verifies.
        case secure
        /// A parent proves there is no DS: the zone (or the one above it) is unsigned. Not an error.
        case insecure
        /// A link is broken: `finding` says which.
        case bogus
        /// The chain could not be followed (no answer, budget): `finding` says why.
        case indeterminate
    }

    public var state: State
    /// For a person: "DS at com. matches no DNSKEY of victim.com. (…)". Network text inside: escape.
    public var finding: String?
    /// Each link checked, top down.
    public var trail: [String]

    public init(state: State, finding: String?, trail: [String]) {
        self.state = state
        self.finding = finding
        self.trail = trail
    }
}

/// The keys validation starts from: DS or DNSKEY records of the root.
public struct TrustAnchor: Sendable, Hashable {
    public var ds: [ResourceRecord]
    public var dnskeys: [ResourceRecord]

    public init(ds: [ResourceRecord], dnskeys: [ResourceRecord]) {
        self.ds = ds
        self.dnskeys = dnskeys
    }

    /// The root zone's KSKs as IANA publishes them (https://data.iana.org/root-anchors/root-anchors.xml):
    /// KSK-2017 (key tag 20326) and KSK-2024 (key tag 38696), both RSASHA256, SHA-256 digests.
    public static let ianaRoot = TrustAnchor(ds: [
        ResourceRecord(owner: ".", type: .ds, ttl: 172800,
                       rdataFields: ["20326", "8", "2", "E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D"]),
        ResourceRecord(owner: ".", type: .ds, ttl: 172800,
                       rdataFields: ["38696", "8", "2", "683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16"]),
    ], dnskeys: [])

    /// `DS key tag 20326, 38696`.
    public var summary: String {
        var parts: [String] = []
        if !ds.isEmpty { parts.append("DS " + ChainOfTrust.dsTags(ds)) }
        if !dnskeys.isEmpty { parts.append(ChainOfTrust.tags(dnskeys)) }
        return parts.joined(separator: "; ")
    }

    public enum ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        case badLine(line: Int, reason: String)
        case notRoot(line: Int, owner: String)
        case wrongType(line: Int, type: String)
        case empty

        public var description: String {
            switch self {
            case .badLine(let n, let why): return "line \(n): not a DS or DNSKEY record (\(why))"
            case .notRoot(let n, let owner): return "line \(n): the anchor must be for the root (.), not \(owner)"
            case .wrongType(let n, let type): return "line \(n): \(type) is neither DS nor DNSKEY"
            case .empty: return "no DS or DNSKEY record in it"
            }
        }
    }

    /// Reads DS and DNSKEY lines in zone-file form (`. IN DS 20326 8 2 E06D…`); `;` starts a comment.
    public static func parse(_ text: String) -> Result<TrustAnchor, ParseError> {
        var anchor = TrustAnchor(ds: [], dnskeys: [])
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init)?.trimmingSpaces ?? ""
            if line.isEmpty { continue }
            switch DNSSECVerifier.parseRecord(line) {
            case .failure(let e): return .failure(.badLine(line: i + 1, reason: e.reason))
            case .success(let rr):
                guard rr.owner == "." else { return .failure(.notRoot(line: i + 1, owner: rr.owner)) }
                switch rr.type {
                case .ds: anchor.ds.append(rr)
                case .dnskey: anchor.dnskeys.append(rr)
                default: return .failure(.wrongType(line: i + 1, type: rr.type.name))
                }
            }
        }
        return anchor.ds.isEmpty && anchor.dnskeys.isEmpty ? .failure(.empty) : .success(anchor)
    }
}

extension ChainOfTrust {
    /// The walk's NS queries: RD=0 with DO, so signed referrals carry the DS RRset.
    static let walkOptions = QueryOptions(recursionDesired: false, dnssecOK: true)

    /// From a referral to `cut`: its DS RRset and RRSIGs as the answer, NSEC/NSEC3 proof of no DS
    /// as the authority; nil when the server did not take up DO (its referral says nothing about DS).
    static func referralDS(_ m: Message, for cut: DomainName) -> Message? {
        guard m.edns?.dnssecOK == true else { return nil }
        let owned = m.authority.filter { DomainName.equalPresentation($0.owner, cut.text) }
        let ds = owned.filter { $0.type == .ds || ($0.type == .rrsig && $0.rdataFields.first == "DS") }
        let denial = m.authority.filter { $0.type == .nsec || $0.type == .nsec3
            || ($0.type == .rrsig && ["NSEC", "NSEC3"].contains($0.rdataFields.first ?? "")) }
        // An unsigned parent: no signatures at all, so no statement about DS either way.
        guard !ds.isEmpty || !denial.isEmpty else { return nil }
        return Message(header: m.header, questions: m.questions, answers: ds, authority: denial, additional: [], edns: m.edns)
    }
}
