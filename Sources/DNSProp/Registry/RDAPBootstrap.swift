import Foundation

/// IANA's RDAP bootstrap registry for DNS (RFC 9224): which RDAP service answers for which TLD.
/// `services` is an array of `[[labels…], [base URLs…]]`; a name is looked up by the longest
/// matching label sequence (RFC 9224 §4: "the longest match"), and HTTPS base URLs are preferred
/// (RFC 9224 §3: a client SHOULD use HTTPS when both are listed). The registry is shipped in the
/// binary (Scripts/sync-registry-data); `--rdap-url` replaces it for one run.
public struct RDAPBootstrap: Sendable {
    public enum ParseError: Error, CustomStringConvertible {
        case notJSON, missing(String), badEntry(Int)
        public var description: String {
            switch self {
            case .notJSON: return "the RDAP bootstrap file is not a JSON object"
            case .missing(let field): return "the RDAP bootstrap file has no \(field)"
            case .badEntry(let i): return "RDAP bootstrap service #\(i + 1) is not [[labels], [URLs]]"
            }
        }
    }

    private struct Contents: Sendable {
        /// "labels" (lower case, A-labels, no final dot) → base URLs, HTTPS first.
        var services: [String: [URL]]
        var publication: String
        var description: String
    }
    /// nil: the bundled registry, parsed when it is first asked (in a check, by the registry
    /// look-up that runs beside the resolvers' queries, not before them).
    private let own: Contents?
    private var contents: Contents { own ?? Self.bundledContents }
    private var services: [String: [URL]] { contents.services }
    public var publication: String { contents.publication }
    public var description: String { contents.description }

    public static let bundled = RDAPBootstrap(own: nil)

    private static let bundledContents: Contents = {
        // The bundled file is checked by a test; a failure here would be a build defect.
        (try? RDAPBootstrap(json: Data(BundledRDAPBootstrap.text.utf8)))?.own ?? Contents(services: [:], publication: "", description: "")
    }()

    private init(own: Contents?) { self.own = own }

    init(services: [String: [URL]], publication: String, description: String) {
        self.own = Contents(services: services, publication: publication, description: description)
    }

    public init(json: Data) throws {
        guard let object = try? JSONSerialization.jsonObject(with: json), let top = object as? [String: Any] else { throw ParseError.notJSON }
        guard let list = top["services"] as? [Any] else { throw ParseError.missing("services") }
        var map: [String: [URL]] = [:]
        for (i, item) in list.enumerated() {
            guard let pair = item as? [Any], pair.count == 2, let entries = pair[0] as? [String], let urls = pair[1] as? [String] else {
                throw ParseError.badEntry(i)
            }
            let parsed = urls.compactMap { text -> URL? in
                guard let u = URL(string: text), let s = u.scheme?.lowercased(), s == "https" || s == "http", u.host != nil else { return nil }
                return u
            }.sorted { ($0.scheme?.lowercased() == "https" ? 0 : 1) < ($1.scheme?.lowercased() == "https" ? 0 : 1) }
            guard !parsed.isEmpty else { continue }
            for entry in entries {
                var key = entry.lowercased()
                if key.hasSuffix(".") { key.removeLast() }
                guard !key.isEmpty else { continue }
                map[key, default: []] += parsed
            }
        }
        self.init(services: map, publication: top["publication"] as? String ?? "", description: top["description"] as? String ?? "")
    }

    /// The base URLs of the RDAP service for `name`, HTTPS first; empty when the registry
    /// lists none (many ccTLDs publish no RDAP service).
    public func baseURLs(for name: DomainName) -> [URL] {
        let labels = name.labels.map { $0.lowercased() }
        // Longest match first: "example.com" before "com" (entries may hold several labels).
        for start in labels.indices {
            let key = labels[start...].joined(separator: ".")
            if let urls = services[key] { return urls }
        }
        return []
    }

    public var serviceCount: Int { services.count }
}
