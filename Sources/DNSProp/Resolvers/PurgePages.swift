/// Public resolver services whose operators let anyone flush a name from their cache,
/// keyed by service (`Resolver.service`, the list's `[key]`).
///
/// Sources (the operators' own pages; each form takes a name and a record type):
/// - Google Public DNS, "Flush Cache": https://developers.google.com/speed/public-dns/cache
///   (linked from Google Public DNS's FAQ and troubleshooting pages). Google's guidance there:
///   when name servers changed, flush the zone's NS records first, then the other records.
/// - Cloudflare 1.1.1.1, "Purge Cache": https://one.one.one.one/purge-cache/
///   (Cloudflare's 1.1.1.1 documentation, "Purge cache").
/// - Cisco OpenDNS / Umbrella, "CacheCheck": https://cachecheck.opendns.com/
///   (refreshes a name in OpenDNS's caches).
/// Not checked live from here (no Internet on the build machine): the addresses are the ones
/// the operators publish; `Scripts/check-resolver-list` is where a maintainer re-reads them.
public struct PurgePage: Hashable, Sendable {
    /// The service key (`Resolver.service`).
    public var service: String
    /// Who offers it, for people.
    public var title: String
    public var url: String

    public init(service: String, title: String, url: String) {
        self.service = service
        self.title = title
        self.url = url
    }

    public static let bundled: [String: PurgePage] = Dictionary(uniqueKeysWithValues: [
        PurgePage(service: "google", title: "Google Public DNS Flush Cache", url: "https://developers.google.com/speed/public-dns/cache"),
        PurgePage(service: "cloudflare", title: "Cloudflare 1.1.1.1 Purge Cache", url: "https://one.one.one.one/purge-cache/"),
        PurgePage(service: "opendns", title: "OpenDNS CacheCheck", url: "https://cachecheck.opendns.com/"),
    ].map { ($0.service, $0) })
}

/// Where a resolver still serving an old answer can be told to forget it, and what to flush:
/// the zone's NS set and apex first when the delegation changed (Google's guidance), then the name.
public struct PurgeAdvice: Hashable, Sendable {
    public var page: PurgePage
    /// `NAME TYPE` pairs, in the order to flush them.
    public var names: [String]

    public init(page: PurgePage, names: [String]) {
        self.page = page
        self.names = names
    }

    /// Every stale or parked verdict of a resolver with a purge page gets its advice.
    /// The delegation counts as changed for a resolver when its answer to the zone's NS
    /// question is not current, or it follows a stale delegation.
    public static func annotate(_ reports: [QuestionReport], pages: [String: PurgePage] = PurgePage.bundled) -> [QuestionReport] {
        // Zones whose delegation a resolver has not caught up with, by resolver address.
        var staleZones: [ServerAddress: [DomainName]] = [:]
        for q in reports where q.question.isDelegation {
            for v in q.verdicts where v.status != .current && v.status != .timeout && v.status != .error && v.status != .refused {
                staleZones[v.resolver.address, default: []].append(q.question.name)
            }
        }
        var out = reports
        for i in out.indices {
            for j in out[i].verdicts.indices {
                let v = out[i].verdicts[j]
                guard v.status == .stale || v.status == .parked, let page = pages[v.resolver.service] else { continue }
                var names: [String] = []
                let zones = (staleZones[v.resolver.address] ?? []).filter { v.name.isSubdomain(of: $0) }
                for zone in zones {
                    names.append("\(zone.text) NS")
                    names.append("\(zone.text) \(v.type.name)")
                }
                if v.followsStaleDelegation != nil && zones.isEmpty, let zone = out[i].truth.zoneName {
                    names.append("\(zone.text) NS")
                }
                names.append("\(v.name.text) \(v.type.name)")
                var seen = Set<String>()
                names = names.filter { seen.insert($0).inserted }
                out[i].verdicts[j].purge = PurgeAdvice(page: page, names: names)
            }
        }
        return out
    }
}

extension Truth {
    /// The zone the truth came from, when it came from authoritative servers.
    var zoneName: DomainName? {
        if case .authoritative(let zone, _, _) = source { return DomainName(presentation: zone) }
        return nil
    }
}
