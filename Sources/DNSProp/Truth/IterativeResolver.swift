/// Finds a name's authoritative servers by walking down from the root (RD=0
/// at every step), the way a recursive resolver does, but keeping everything
/// it sees: the parent's delegation, glue, servers that answered badly.
public struct IterativeResolver: Sendable {
    public struct Options: Sendable, Hashable {
        public var rootHints: RootHints = .iana
        /// Port of every authoritative server (53; other values only for tests).
        public var port: UInt16 = 53
        /// Referrals followed for one name before giving up.
        public var maxReferrals = 16
        /// Nested look-ups of name-server addresses (out-of-zone NS without glue).
        public var maxNestedLookups = 4
        public init() {}
    }

    public let engine: QueryEngine
    public let options: Options

    public init(engine: QueryEngine, options: Options = Options()) {
        self.engine = engine
        self.options = options
    }

    /// A name server and the addresses it was found at.
    public struct NameServer: Sendable, Hashable {
        public var name: String
        public var addresses: [IPAddress]
    }

    /// A server that answered badly, and how.
    public struct LameServer: Sendable, Hashable, CustomStringConvertible {
        public var server: String
        public var zone: String
        public var reason: String
        public var description: String { "\(server) for \(zone): \(reason)" }
    }

    /// Where a name lives: its zone, the servers for that zone, and the delegation above it.
    public struct Delegation: Sendable {
        public var zone: DomainName
        public var servers: [NameServer]
        /// NS names the parent zone delegates `zone` to (empty for the root).
        public var parentNS: [String]
        public var parentZone: DomainName?
        public var lame: [LameServer]
    }

    public enum LookupError: Error, Sendable, CustomStringConvertible {
        case noServers(zone: String, lame: [LameServer])
        case tooManyReferrals(String)
        case loop(String)

        public var description: String {
            switch self {
            case .noServers(let zone, let lame):
                let detail = lame.prefix(4).map(\.description).joined(separator: "; ")
                return "no server for \(zone) gave a usable answer" + (detail.isEmpty ? "" : " (\(detail))")
            case .tooManyReferrals(let name): return "too many referrals while looking up \(name)"
            case .loop(let name): return "delegation loop while looking up \(name)"
            }
        }
    }

    func serverAddresses(_ servers: [NameServer]) -> [(String, ServerAddress)] {
        var seen = Set<ServerAddress>()
        var out: [(String, ServerAddress)] = []
        for s in servers {
            for ip in s.addresses {
                let a = ServerAddress(ip: ip, port: options.port)
                if seen.insert(a).inserted { out.append((s.name, a)) }
            }
        }
        return out
    }

    func ask(_ servers: [(String, ServerAddress)], _ name: DomainName, _ type: RecordType) async -> [QueryResult] {
        guard let template = try? QueryTemplate(name: name, type: type, options: .authoritative) else { return [] }
        return await engine.results(for: servers.map { QueryRequest(server: $0.1, query: template) })
    }

    /// Walks from the root to the zone that holds `name`.
    public func delegation(for name: DomainName, nesting: Int = 0, visiting: Set<String> = []) async throws -> Delegation {
        var zone = DomainName(validatedRoot: ())
        var servers = options.rootHints.servers.map { NameServer(name: $0.name, addresses: $0.addresses) }
        var parentNS: [String] = []
        var parentZone: DomainName? = nil
        var lame: [LameServer] = []
        for _ in 0..<options.maxReferrals {
            let targets = serverAddresses(servers)
            guard !targets.isEmpty else { throw LookupError.noServers(zone: zone.text, lame: lame) }
            let results = await ask(targets, name, .ns)
            var referral: Message? = nil
            var authoritative: Message? = nil
            for (i, result) in results.enumerated() {
                let label = "\(targets[i].0) (\(targets[i].1))"
                switch result.outcome {
                case .failure(let error):
                    lame.append(LameServer(server: label, zone: zone.text, reason: error.description))
                case .success(let m):
                    if m.rcode != .noError && m.rcode != .nxDomain {
                        lame.append(LameServer(server: label, zone: zone.text, reason: "answered \(m.rcode)"))
                    } else if m.header.flags.contains(.aa) {
                        if authoritative == nil { authoritative = m }
                    } else if let cut = Self.referralZone(m, for: name, below: zone) {
                        if referral == nil { referral = m; _ = cut }
                    } else {
                        lame.append(LameServer(server: label, zone: zone.text, reason: "not authoritative and no referral (lame delegation)"))
                    }
                }
            }
            if let m = authoritative {
                var found = zone
                if let ns = m.answers.first(where: { $0.type == .ns && DomainName.equalPresentation($0.owner, name.text) }),
                   let apex = DomainName(presentation: ns.owner) {
                    found = apex
                } else if let soa = m.authority.first(where: { $0.type == .soa }), let apex = DomainName(presentation: soa.owner),
                          name.isSubdomain(of: apex), apex.isSubdomain(of: zone) {
                    found = apex
                }
                if found != zone {
                    // The same servers serve parent and child: the parent's NS set for the child
                    // is then not visible on this path; the child's servers are these.
                    parentZone = zone
                    parentNS = []
                }
                return Delegation(zone: found, servers: servers, parentNS: parentNS, parentZone: parentZone, lame: lame)
            }
            guard let m = referral, let cut = Self.referralZone(m, for: name, below: zone) else {
                throw LookupError.noServers(zone: zone.text, lame: lame)
            }
            let nsNames = Self.unique(m.authority.filter { $0.type == .ns && DomainName.equalPresentation($0.owner, cut.text) }
                .map { $0.rdata.lowercased() })
            var next: [NameServer] = []
            for ns in nsNames {
                let glue = m.additional.filter { ($0.type == .a || $0.type == .aaaa) && DomainName.equalPresentation($0.owner, ns) }
                    .compactMap { IPAddress($0.rdata) }
                next.append(NameServer(name: ns, addresses: glue))
            }
            if next.allSatisfy({ $0.addresses.isEmpty }) || next.contains(where: { $0.addresses.isEmpty }) {
                for i in next.indices where next[i].addresses.isEmpty {
                    guard nesting < options.maxNestedLookups, !visiting.contains(next[i].name),
                          let nsName = DomainName(presentation: next[i].name) else { continue }
                    // In-bailiwick NS without glue cannot be resolved through itself.
                    if nsName.isSubdomain(of: cut) { continue }
                    next[i].addresses = await addresses(of: nsName, nesting: nesting + 1, visiting: visiting.union([name.text]))
                }
            }
            parentZone = zone
            parentNS = nsNames
            zone = cut
            servers = next
        }
        throw LookupError.tooManyReferrals(name.text)
    }

    /// The addresses of a name server, looked up from the root.
    public func addresses(of name: DomainName, nesting: Int, visiting: Set<String>) async -> [IPAddress] {
        guard let d = try? await delegation(for: name, nesting: nesting, visiting: visiting) else { return [] }
        let targets = serverAddresses(d.servers)
        var out: [IPAddress] = []
        for type in [RecordType.a, .aaaa] {
            for result in await ask(targets, name, type) {
                guard let m = result.message, m.header.flags.contains(.aa), m.rcode == .noError else { continue }
                let found = m.answers.filter { $0.type == type }.compactMap { IPAddress($0.rdata) }
                if !found.isEmpty { out += found; break }
            }
        }
        return out
    }

    /// The zone a referral hands over to: NS records in the authority section
    /// for a zone strictly below `zone` that contains `name`.
    static func referralZone(_ m: Message, for name: DomainName, below zone: DomainName) -> DomainName? {
        guard m.rcode == .noError, m.answers.isEmpty || m.answers.allSatisfy({ $0.type != .ns }) else { return nil }
        for rr in m.authority where rr.type == .ns {
            guard let cut = DomainName(presentation: rr.owner) else { continue }
            if cut != zone && cut.isSubdomain(of: zone) && name.isSubdomain(of: cut) { return cut }
        }
        return nil
    }

    static func unique(_ names: [String]) -> [String] {
        var seen = Set<String>()
        return names.filter { seen.insert($0).inserted }
    }
}

extension DomainName {
    init(validatedRoot: Void) { self = try! DomainName(".") }
}
