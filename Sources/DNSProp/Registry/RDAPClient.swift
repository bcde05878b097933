import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The registry's view of one registrable domain, or why it could not be had.
public struct RegistryLookup: Sendable {
    /// The registrable domain that was looked up (Public Suffix List, ICANN section).
    public var domain: DomainName
    /// The RDAP URL asked; nil when there was none to ask.
    public var url: String?
    public var record: RegistrationRecord?
    /// Why there is no record: a clear note, never a crash (network text inside is escaped by the renderers).
    public var problem: String?
    public var httpStatus: Int?
    public var checkedAt: Double

    public init(domain: DomainName, url: String? = nil, record: RegistrationRecord? = nil, problem: String? = nil,
                httpStatus: Int? = nil, checkedAt: Double) {
        self.domain = domain
        self.url = url
        self.record = record
        self.problem = problem
        self.httpStatus = httpStatus
        self.checkedAt = checkedAt
    }
}

/// Asks the registry's RDAP service (RFC 9082 `domain/<name>`) for a domain, with a short
/// timeout and a body cap. Every failure becomes a `RegistryLookup.problem`; nothing here
/// throws or waits longer than `timeout`, and the DNS check never waits for it to decide a verdict.
public struct RDAPClient: Sendable {
    public static let defaultTimeout: Double = 5
    public var bootstrap: RDAPBootstrap
    public var suffixes: PublicSuffixList
    /// `--rdap-url`: this base URL instead of the bootstrap registry's.
    public var baseURL: URL?
    public var timeout: Double
    private let transport: HTTPTransport

    public init(bootstrap: RDAPBootstrap = .bundled, suffixes: PublicSuffixList = .bundled, baseURL: URL? = nil,
                timeout: Double = RDAPClient.defaultTimeout) {
        self.bootstrap = bootstrap
        self.suffixes = suffixes
        self.baseURL = baseURL
        self.timeout = timeout
        transport = HTTPTransport(redirects: .crossOrigin(limit: 3), timeout: timeout)
    }

    /// RFC 9082 §3.1.3: `<base>domain/<A-label name, no final dot>`; the base ends with "/"
    /// (RFC 9224 §3), and one is added when a user's `--rdap-url` lacks it.
    public static func domainURL(base: URL, domain: DomainName) -> URL? {
        var text = base.absoluteString
        if !text.hasSuffix("/") { text += "/" }
        return URL(string: text + "domain/" + domain.text.dropLast())
    }

    /// The registrable domain of `name`, or nil when `name` is a public suffix itself.
    public func registrableDomain(of name: DomainName) -> DomainName? { suffixes.registrableDomain(of: name) }

    public func lookUp(_ domain: DomainName) async -> RegistryLookup {
        let started = WallClock.now()
        guard let base = baseURL ?? bootstrap.baseURLs(for: domain).first else {
            let tld = domain.labels.last.map(String.init) ?? "?"
            return RegistryLookup(domain: domain, problem: "IANA's RDAP bootstrap registry lists no RDAP service for .\(tld) (give one with --rdap-url)", checkedAt: started)
        }
        guard let url = Self.domainURL(base: base, domain: domain) else {
            return RegistryLookup(domain: domain, problem: "cannot form an RDAP URL from \(base.absoluteString)", checkedAt: started)
        }
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)
        // RFC 7480 §4.2: ask for application/rdap+json; application/json as a fallback for servers that refuse it.
        request.setValue("application/rdap+json, application/json;q=0.9", forHTTPHeaderField: "Accept")
        request.setValue("dnsprop/\(DNSPropVersion.string)", forHTTPHeaderField: "User-Agent")
        var lookup = RegistryLookup(domain: domain, url: url.absoluteString, checkedAt: started)
        let data: Data, response: HTTPURLResponse
        do {
            let prepared = request
            let transport = self.transport
            (data, response) = try await withTimeout(timeout + 1) { try await transport.send(prepared, cap: RDAPDomainParser.maxBytes) }
        } catch let f as HTTPTransport.Failure {
            switch f {
            case .tooLarge(let n): lookup.problem = "the RDAP server's answer is larger than \(n) bytes"
            case .redirectRefused(let u): lookup.problem = "the RDAP server redirected to \(u), which is not followed (HTTPS to HTTP, or too many redirects)"
            case .transport(let m): lookup.problem = "the RDAP server could not be reached: \(m)"
            case .notHTTP: lookup.problem = "the RDAP server's answer is not HTTP"
            case .timedOut: lookup.problem = "the RDAP server did not answer within \(Int(timeout)) s"
            }
            return lookup
        } catch {
            lookup.problem = "the RDAP server did not answer within \(Int(timeout)) s"
            return lookup
        }
        lookup.httpStatus = response.statusCode
        switch response.statusCode {
        case 200:
            do {
                lookup.record = try RDAPDomainParser.parse(data)
            } catch {
                lookup.problem = "\(error)"
            }
        case 404:
            lookup.problem = "the registry has no record of \(domain.text.dropLast()) (RDAP 404): not registered, or deleted"
        case 429:
            let retry = response.value(forHTTPHeaderField: "Retry-After").map { String($0.prefix(40)) }
            lookup.problem = "the RDAP server is rate limiting (429)" + (retry.map { ", retry after \($0)" + (Int($0.trimmingSpaces) != nil ? " s" : "") } ?? "")
        case 500...599:
            lookup.problem = "the RDAP server failed (HTTP \(response.statusCode))"
        default:
            lookup.problem = "the RDAP server answered HTTP \(response.statusCode)"
        }
        return lookup
    }

    public func invalidate() { transport.invalidate() }
}

/// Runs `work`, giving up after `seconds` (the work is cancelled, not awaited).
func withTimeout<T: Sendable>(_ seconds: Double, _ work: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await work() }
        group.addTask {
            try await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
            throw HTTPTransport.Failure.timedOut
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}
