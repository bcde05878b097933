/// Which stage a domain's recovery (or breakage) is at, drawn in one place from the registry's
/// status (RDAP), the TLD's delegation, the zone's own NS set and SOA, the parking signatures
/// and the resolvers' verdicts with their expiry bounds. Table, JSON and the watch screen only
/// render it. The line is plain text built partly from network text: escape it before a terminal.
public struct Diagnosis: Sendable {
    public enum Stage: String, Sendable, CaseIterable {
        /// clientHold or serverHold: nothing propagates until the hold is lifted.
        case registryHold
        /// redemptionPeriod / pendingRestore: lapsed, out of the zone, restorable.
        case redemption
        /// pendingDelete: about to be released.
        case pendingDelete
        /// The TLD delegates to parking or registrar-expiry name servers.
        case parkedDelegation
        /// The TLD does not delegate the domain (and the registry shows no hold).
        case notDelegated
        /// The registry and TLD are right; resolvers still cache the old (or parking) data.
        case cachesPending
        /// The zone's own NS set differs from the parent's.
        case delegationMismatch
        /// Nothing wrong seen.
        case healthy
        /// Too little known to say (the walk failed and no registry record).
        case unknown
    }

    public var stage: Stage
    public var line: String
    public var domain: DomainName
    /// nil: RDAP was not asked (`--no-rdap`).
    public var registry: RegistryLookup?
    public var delegation: ZoneDelegationView?
    /// The parent's NS set matches a parking or registrar-expiry signature.
    public var tldParking: ParkingSignatures.Match?
    /// The zone's SOA RNAME matches one.
    public var soaParking: ParkingSignatures.Match?
    /// Name servers of the parent's set that the zone's own set lacks or that did not answer.
    public var lameAt: [String]
    /// Resolvers that still serve old answers (stale, parked, NXDOMAIN, NODATA; following the
    /// parking or old name servers when the delegation was asked), and when the last of them is
    /// gone at the latest.
    public var resolversPending: Int
    /// Resolvers that answer SERVFAIL (and serve no old answer): failing, not pending.
    public var resolversFailing: Int
    public var followParking: Bool
    public var allGoneBy: Double?
    /// `--warn-expiry`: why the run warns (empty: no warning, or no window given).
    public var warnings: [String]

    /// The early-warning rule of `--warn-expiry`: a warning turns an otherwise successful exit into 1;
    /// a run that is already 1 or 2 keeps its status. Without warnings the outcome decides alone,
    /// so a broken RDAP server never changes the exit status.
    public static func exitStatus(outcome: VerdictPolicy.Outcome, warnings: [String]) -> Int32 {
        let base = outcome.exitStatus
        return base == 0 && !warnings.isEmpty ? 1 : base
    }

    /// `30 days`, `12 h`: a --warn-expiry window as a person reads it.
    static func window(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s % 86400 == 0 { return "\(s / 86400) day\(s == 86400 ? "" : "s")" }
        return Timestamp.duration(seconds)
    }

    public static func build(domain: DomainName, registry: RegistryLookup?, delegation: ZoneDelegationView?,
                             report: PropagationReport, signatures: ParkingSignatures,
                             warnExpiry: Double? = nil, now: Double) -> Diagnosis {
        let record = registry?.record
        func nsRecords(_ names: [String]) -> [ResourceRecord] {
            names.map { ResourceRecord(owner: domain.text, type: .ns, ttl: 0, rdataFields: [$0]) }
        }
        let tldParking = delegation.flatMap { $0.delegated ? signatures.match(nsRecords($0.parentNS)) : nil }
        let soaParking = delegation?.soaRname.flatMap {
            signatures.match(ResourceRecord(owner: domain.text, type: .soa, ttl: 0, rdataFields: [".", $0, "0", "0", "0", "0", "0"]))
        }
        var lameAt: [String] = []
        var mismatch = false
        if let d = delegation, d.delegated, let child = d.childNS {
            mismatch = Set(child) != Set(d.parentNS)
            lameAt = d.parentNS.filter { !child.contains($0) || d.lameServers.contains($0) }
        }
        if let d = delegation, d.delegated, d.childNS == nil { lameAt = d.lameServers }

        // Resolvers not current yet: by the delegation question when it was asked and some
        // resolver serves an old NS set there (which name servers they follow), else by any question.
        let delegationVerdicts = report.questions.filter { $0.question.isDelegation && $0.question.name == domain }.flatMap(\.verdicts)
        // (A resolver that serves the parent's NS set where the zone's own differs is current:
        // the classifier's rule, `Truth.parentNS`.)
        let pendingDelegation = VerdictPolicy.standings(delegationVerdicts).filter {
            VerdictPolicy.isNotConverged($0.worst.status)
        }.map(\.worst.status)
        let byDelegation = pendingDelegation.contains { $0 != .servfail }
        // Else every question counts: each resolver by its worst status (one pass over the verdicts).
        let notConverged = byDelegation ? pendingDelegation
            : VerdictPolicy.worstStatuses(report.questions.map(\.verdicts)).filter(VerdictPolicy.isNotConverged)
        // A resolver whose worst is SERVFAIL serves no old answer: it fails to resolve (a lame or
        // unreachable server, a DNSSEC failure). Counted apart, never as a cache still pending.
        let pending = notConverged.filter { $0 != .servfail }
        let failing = notConverged.count - pending.count
        let followParking = pending.contains(.parked)
        let allGoneBy = report.summary.lastLatestExpiry ?? report.summary.lastExpiry

        // The registry's clause.
        let name = String(domain.text.dropLast())
        func day(_ t: Double) -> String { String(Timestamp.rfc3339(t).prefix(10)) }
        func since(_ t: Double?) -> String { t.map { " since " + Timestamp.clock($0, reference: now) } ?? "" }
        var registryClause: String? = nil
        var stage: Stage? = nil
        var consequence = ""
        if let registry {
            if let record {
                if let hold = record.hold {
                    stage = .registryHold
                    registryClause = "registry: \(hold.name)\(since(record.lastChanged))"
                    consequence = hold.name == "clientHold"
                        ? " — the registrar still holds the domain; nothing will propagate until they lift it"
                        : " — the registry holds the domain; nothing will propagate until the hold is lifted"
                } else if let r = record.redemption {
                    stage = .redemption
                    registryClause = "registry: \(r.name)\(since(record.lastChanged))"
                    consequence = " — the registration lapsed and the domain is out of the TLD zone; only a restore by the registrar brings it back"
                } else if let p = record.pendingDelete {
                    stage = .pendingDelete
                    registryClause = "registry: \(p.name)\(since(record.lastChanged))"
                    consequence = " — the domain is about to be deleted and released; it can no longer be restored"
                } else {
                    var text = "registry: "
                    if let renewal = record.renewal {
                        text += "renewed" + (record.lastChanged.map { " " + Timestamp.clock($0, reference: now).replacingOccurrences(of: " UTC", with: "") } ?? "") + " (\(renewal.name))"
                    } else {
                        let shown = record.statuses.filter { $0.name == "ok" || $0.name == "inactive" }.first?.name ?? record.statuses.first?.name ?? "no status"
                        text += shown == "ok" ? "active" : shown
                    }
                    if let e = record.expiration {
                        text += ", expires \(day(e))"
                        let days = Int(((e - now) / 86400).rounded(.down))
                        if e < now { text += " (expired)" } else if days < 60 { text += " (in \(days) day\(days == 1 ? "" : "s"))" }
                    }
                    registryClause = text
                }
            } else {
                registryClause = "registry: unknown (\(registry.problem ?? "no answer"))"
            }
        }

        // The DNS side.
        var dnsClause = ""
        let registryNS = record.map { Set($0.nameservers) } ?? []
        if stage == nil || stage == .redemption || stage == .pendingDelete || stage == .registryHold {
            // A hold explains everything; the DNS side is only worth a word when it contradicts it.
            if stage == nil {
                if let d = delegation {
                    if let problem = d.problem, !d.delegated {
                        stage = .unknown
                        dnsClause = problem
                    } else if !d.delegated {
                        stage = .notDelegated
                        if registry?.httpStatus == 404 {
                            dnsClause = "the TLD does not delegate \(name) either: not registered, or deleted"
                            registryClause = "registry: no record of \(name)"
                        } else {
                            dnsClause = "the TLD \(d.parentZone ?? "") does not delegate \(name)" +
                                (record != nil ? " — the registry's state has not reached the TLD zone yet (or a hold RDAP does not show)" : "")
                        }
                    } else if let p = tldParking {
                        stage = .parkedDelegation
                        dnsClause = "the TLD delegates to \(p.provider)'s \(p.kind == "parking" ? "parking" : "expiry") name servers (\(p.indicator)) — the registration lapsed or the registrar parked the domain"
                    } else if mismatch {
                        stage = .delegationMismatch
                        let agree = !registryNS.isEmpty && registryNS == Set(d.parentNS)
                        let head = agree ? "registry and TLD agree, but" : (record != nil && !registryNS.isEmpty ? "the TLD delegates to \(d.parentNS.joined(separator: " ")) (the registry lists \(registryNS.sorted().joined(separator: " "))), and" : "")
                        let what = lameAt.isEmpty
                            ? "(it lists \(Set(d.childNS ?? []).subtracting(d.parentNS).sorted().joined(separator: " ")) that the parent does not)"
                            : "(lame delegation at \(lameAt.map { String($0.dropLast()) }.joined(separator: ", ")))"
                        dnsClause = (head.isEmpty ? "" : head + " ") + "the zone's own NS set differs from the parent's " + what
                        registryClause = agree ? nil : registryClause
                    } else {
                        let real = d.childNS.map { Set($0) == Set(d.parentNS) } ?? false
                        if !pending.isEmpty {
                            stage = .cachesPending
                            dnsClause = real || (!registryNS.isEmpty && registryNS == Set(d.parentNS))
                                ? "the TLD delegates to the real nameservers"
                                : "the TLD delegates to \(d.parentNS.joined(separator: " "))"
                        } else {
                            stage = .healthy
                            dnsClause = "the TLD and the zone agree on \(d.parentNS.map { String($0.dropLast()) }.joined(separator: " "))"
                        }
                    }
                } else {
                    stage = pending.isEmpty ? .healthy : .cachesPending
                }
            } else if let d = delegation, d.delegated, stage == .registryHold || stage == .redemption {
                dnsClause = "yet the TLD still delegates to \(d.parentNS.map { String($0.dropLast()) }.joined(separator: " "))"
            }
        }
        var cachesClause = ""
        if stage != .registryHold, stage != .redemption, stage != .pendingDelete {
            if !pending.isEmpty {
                cachesClause = "\(pending.count) resolver\(pending.count == 1 ? "" : "s") still "
                    + (!byDelegation ? "serve\(pending.count == 1 ? "s" : "") old answers" : "follow\(pending.count == 1 ? "s" : "") the \(followParking ? "parking" : "old") nameservers")
                    + (allGoneBy.map { ", all gone by ≤ \(Timestamp.clock($0, reference: now))" } ?? "")
            }
            if failing > 0 {
                cachesClause += (cachesClause.isEmpty ? "" : "; ") + "\(failing) resolver\(failing == 1 ? "" : "s") answer\(failing == 1 ? "s" : "") SERVFAIL"
            }
        }
        if let s = soaParking, stage == .healthy || stage == .cachesPending {
            dnsClause += (dnsClause.isEmpty ? "" : "; ") + "the zone's SOA contact matches \(s.provider) (\(s.indicator))"
        }
        var line = (registryClause ?? "") + consequence
        for part in [dnsClause, cachesClause] where !part.isEmpty {
            line += (line.isEmpty ? "" : "; ") + part
        }
        if line.isEmpty { line = "no registry or delegation information" }

        var warnings: [String] = []
        if let window = warnExpiry {
            if let e = record?.expiration, e - now <= window {
                warnings.append(e < now ? "the registration expired on \(day(e))"
                                        : "the registration expires on \(day(e)), within \(Self.window(window))")
            }
            for status in record?.statuses ?? [] where status.isHold || status.isRedemption || status.isPendingDelete {
                warnings.append("the registry status is \(status.name)")
            }
            if let p = tldParking { warnings.append("the TLD delegates to \(p.provider) name servers (\(p.indicator))") }
            if let s = soaParking { warnings.append("the zone's SOA contact matches \(s.provider) (\(s.indicator))") }
        }
        return Diagnosis(stage: stage ?? .unknown, line: line, domain: domain, registry: registry, delegation: delegation,
                         tldParking: tldParking, soaParking: soaParking, lameAt: lameAt, resolversPending: pending.count, resolversFailing: failing,
                         followParking: followParking, allGoneBy: pending.isEmpty ? nil : allGoneBy, warnings: warnings)
    }
}
