import Foundation

/// Asks Globalping's probes the check's questions and turns every probe's
/// answer into the same kind of result a local query gives, so that truth,
/// verdicts, expiry and output are exactly those of a local check.
public final class GlobalpingVantage: @unchecked Sendable {   // mutable state guarded by `lock`
    public let client: GlobalpingClient
    public let locations: [Globalping.Location]
    public let probes: Int
    /// Ask this resolver from every probe; nil: each probe's own resolvers.
    public let resolver: String?
    private let lock = NSLock()
    /// The first measurement of each question: later rounds reuse its probes.
    private var firstMeasurement: [String: String] = [:]
    /// A stable identity for each probe across rounds (see `identity`).
    private var probeIDs: [String: Int] = [:]

    public init(client: GlobalpingClient, locations: [Globalping.Location], probes: Int, resolver: String?) {
        self.client = client
        self.locations = locations
        self.probes = probes
        self.resolver = resolver
    }

    public struct Observation: Sendable {
        public var resolver: Resolver
        public var result: QueryResult
    }

    /// Parses what users think in: `DE,US` (countries), `Europe`, `South America` (continents),
    /// `AS3320` (networks), `eyeball` / `datacenter` (network kinds), anything else (`Sydney`,
    /// `Bavaria`) as a free-form place. Probes are shared out between the locations.
    public static func parseLocations(_ spec: String, probes: Int) throws -> [Globalping.Location] {
        let items = spec.split(separator: ",").map { String($0).trimmingSpaces }.filter { !$0.isEmpty }
        guard !items.isEmpty else { return [Globalping.Location(magic: "world", limit: probes)] }
        let share = max(1, probes / items.count)
        return try items.map { item in
            let lower = item.lowercased()
            if lower == "eyeball" || lower == "eyeballs" { return Globalping.Location(tags: ["eyeball-network"], limit: share) }
            if lower == "datacenter" || lower == "datacentre" { return Globalping.Location(tags: ["datacenter-network"], limit: share) }
            if lower.hasPrefix("as"), let n = Int(lower.dropFirst(2)), n > 0 { return Globalping.Location(asn: n, limit: share) }
            if item.count == 2, item.allSatisfy(\.isLetter) {
                guard Continent.of(country: item.uppercased()) != nil else {
                    throw GlobalpingClient.ClientError.invalidRequest("'\(TerminalText.escape(item))' is not an ISO country code (continents: write Europe, Asia, …)")
                }
                return Globalping.Location(country: item.uppercased(), limit: share)
            }
            if let c = Continent(userInput: lower), item.count > 2 {
                return Globalping.Location(continent: c.rawValue, limit: share)
            }
            guard item.unicodeScalars.allSatisfy({ !TerminalText.needsEscape($0) }) else {
                throw GlobalpingClient.ClientError.invalidRequest("location '\(TerminalText.escape(item))' contains control characters")
            }
            return Globalping.Location(magic: item, limit: share)
        }
    }

    /// Runs one measurement per question; results come back labelled with their probes.
    public func observe(_ questions: [QueryTemplate]) async throws -> [[Observation]] {
        var out: [[Observation]] = []
        for template in questions {
            let q = template.question
            let key = "\(q.name) \(q.type.name)"
            let previous = lock.withLock { firstMeasurement[key] }
            let target = q.name.hasSuffix(".") && q.name != "." ? String(q.name.dropLast()) : q.name
            let created = try await client.createDNSMeasurement(
                target: target, type: q.type, resolver: resolver,
                locations: previous.map { .measurement($0) } ?? .locations(locations), probes: probes)
            lock.withLock { if firstMeasurement[key] == nil { firstMeasurement[key] = created.id } }
            let measurement = try await client.waitForMeasurement(id: created.id)
            out.append(measurement.results.map { convert($0, template: template) })
        }
        return out
    }

    /// Probes have no address of ours; give each a stable private identity (from 100::/64,
    /// the discard-only prefix, never sent to) so that rounds line up by probe.
    private func identity(_ p: Globalping.Probe, resolver: String?) -> ServerAddress {
        let key = "\(p.asn ?? 0)|\(p.country ?? "")|\(p.city ?? "")|\(p.network ?? "")|\(resolver ?? "")"
        let n = lock.withLock { () -> Int in
            if let n = probeIDs[key] { return n }
            let n = probeIDs.count + 1
            probeIDs[key] = n
            return n
        }
        return ServerAddress(ip: .v6(0x0100_0000_0000_0000, UInt64(n)), port: 53)
    }

    func convert(_ r: Globalping.ProbeResult, template: QueryTemplate) -> Observation {
        let p = r.probe
        let vantage = Vantage(network: "globalping", continent: p.continent, country: p.country, city: p.city, asn: p.asn,
                              provider: p.network, tags: p.tags ?? [], resolver: r.result.resolver ?? p.resolvers?.first)
        var resolver = Resolver(address: identity(p, resolver: vantage.resolver),
                                operatorName: p.network.map { "\($0)" }, countryCode: p.country,
                                location: p.city, origin: "globalping")
        resolver.vantage = vantage
        let now = MonotonicTime.wall()
        let outcome: Result<Message, TransportError>
        switch r.result.status {
        case "finished":
            let rcode = ResponseCode(name: r.result.statusCodeName ?? "") ?? ResponseCode(rawValue: UInt16(r.result.statusCode ?? 0))
            let answers = (r.result.answers ?? []).map { a in
                ResourceRecord(owner: a.name, type: RecordType(name: a.type) ?? RecordType(rawValue: 0), ttl: a.ttl,
                               rdataFields: [a.value])
            }
            outcome = .success(Message(header: Header(id: 0, opcode: 0, rcode: rcode, flags: [.qr, .rd, .ra]),
                                       questions: [template.question], answers: answers, authority: [], additional: [], edns: nil))
        case "offline":
            outcome = .failure(.unreachable("the Globalping probe went offline"))
        default:
            let detail = r.result.rawOutput.map { String($0.prefix(120)) } ?? r.result.status
            if detail.lowercased().contains("timed out") || detail.lowercased().contains("timeout") {
                outcome = .failure(.timeout(attempts: 1))
            } else {
                outcome = .failure(.unreachable("the probe's query failed: \(detail)"))
            }
        }
        let result = QueryResult(index: 0, request: QueryRequest(server: resolver.address, query: template), outcome: outcome,
                                 attempts: 1, transport: .udp, rtt: r.result.timings?.total.map { $0 / 1000 },
                                 completedAt: now, dropped: 0)
        return Observation(resolver: resolver, result: result)
    }
}
