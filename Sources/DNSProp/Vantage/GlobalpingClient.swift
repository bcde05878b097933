import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A client for Globalping's API (v1) that keeps within its limits and trusts none of
/// its answers. Limits are those of jsdelivr/globalping's `src/lib/rate-limiter/`:
/// creating measurements costs one point per online probe from an hourly budget
/// (250 anonymous — also for a token without an account — 500 for an account, then
/// credits); a 429 there carries `X-RateLimit-Reset` and ends the round. Reading a
/// measurement is limited per measurement (a 429 with `Retry-After`), which is waited out.
///
/// Safety: the token is sent only over HTTPS (or plain HTTP to a loopback host) and never
/// to another origin on redirect; bodies are capped; ids must look like Globalping's
/// (alphanumeric); every piece of server text is escaped before it reaches a message.
public final class GlobalpingClient: @unchecked Sendable {   // `settings` and `_budget` behind `lock`; the transport is thread-safe
    public static let defaultBaseURL = URL(string: "https://api.globalping.io/v1")!
    public let baseURL: URL
    public let token: String?
    private let transport = GlobalpingTransport()
    private let lock = NSLock()

    public struct Settings: Sendable {
        /// How long to poll one measurement before giving up (the service finishes within 30 s).
        public var pollTimeout: Double = 60
        public var pollInterval: Double = 0.5
        /// The largest response body read (a measurement of 500 probes is a few MB).
        public var maxResponseBytes = 16 << 20
        /// The longest `Retry-After` waited out while polling.
        public var maxRetryAfter: Double = 30
        /// The clock the budget's reset times are read on (tests move it).
        public var now: @Sendable () -> Date = { Date() }
    }
    private var settings = Settings()
    public var pollTimeout: Double { get { lock.withLock { settings.pollTimeout } } set { lock.withLock { settings.pollTimeout = newValue } } }
    public var pollInterval: Double { get { lock.withLock { settings.pollInterval } } set { lock.withLock { settings.pollInterval = newValue } } }
    public var maxResponseBytes: Int { get { lock.withLock { settings.maxResponseBytes } } set { lock.withLock { settings.maxResponseBytes = newValue } } }
    public var maxRetryAfter: Double { get { lock.withLock { settings.maxRetryAfter } } set { lock.withLock { settings.maxRetryAfter = newValue } } }
    public var now: @Sendable () -> Date { get { lock.withLock { settings.now } } set { lock.withLock { settings.now = newValue } } }

    /// At most this many probes in one measurement: 50 without an account (also for a
    /// token that GET /v1/limits reports as `ip`), 500 with one.
    public var maxProbesPerMeasurement: Int {
        token == nil || budget.accountType == "ip" ? GlobalpingRequestBuilder.anonymousProbeCap : GlobalpingRequestBuilder.userProbeCap
    }

    public init(baseURL: URL = GlobalpingClient.defaultBaseURL, token: String? = nil) {
        self.baseURL = baseURL
        self.token = token.flatMap { $0.isEmpty ? nil : $0 }
    }

    deinit { transport.invalidate() }

    /// Refuses to send a token in clear: HTTPS, or plain HTTP only to a loopback host.
    public static func checkTransport(baseURL: URL, token: String?) throws(ClientError) {
        guard let token, !token.isEmpty else { return }
        let scheme = baseURL.scheme?.lowercased()
        if scheme == "https" { return }
        let host = (baseURL.host ?? "").lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        let loopback = host == "localhost" || IPAddress(host).map { ip -> Bool in
            switch ip {
            case .v4(let a): return a >> 24 == 127
            case .v6(let hi, let lo): return hi == 0 && lo == 1
            }
        } ?? false
        if scheme == "http" && loopback { return }
        throw .insecureTransport(baseURL.absoluteString)
    }

    public enum ClientError: Error, Sendable, CustomStringConvertible {
        case rateLimited(RateLimit)
        case noProbesFound(String)
        /// 400 `validation_error` with the API's field → message pairs.
        case invalidRequest(message: String, params: [String: String])
        case unauthorized(String)
        case http(status: Int, detail: String)
        case transport(String)
        case insecureTransport(String)
        case redirectRefused(String)
        case tooLarge(Int)
        case timedOut(id: String)
        case badResponse(String)
        case request(GlobalpingRequestBuilder.BuildError)

        public var description: String {
            switch self {
            case .rateLimited(let r): return r.description
            case .noProbesFound(let m): return "Globalping found no probes for these locations: \(TerminalText.escape(m))"
            case .invalidRequest(let m, let params):
                let details = params.sorted { $0.key < $1.key }.map { "\(TerminalText.escape($0.key.isEmpty ? "request" : $0.key)): \(TerminalText.escape($0.value))" }
                return "Globalping rejected the request: \(TerminalText.escape(m))\(details.isEmpty ? "" : " (" + details.joined(separator: "; ") + ")")"
            case .unauthorized(let m): return "Globalping refused the token\(m.isEmpty ? "" : ": \(TerminalText.escape(m))")"
            case .http(let s, let d): return "Globalping answered HTTP \(s)\(d.isEmpty ? "" : ": \(TerminalText.escape(d))")"
            case .transport(let m): return "cannot reach Globalping: \(TerminalText.escape(m))"
            case .insecureTransport(let u):
                return "not sending the Globalping token over plain HTTP to \(TerminalText.escape(u)); use https:// (plain http only to a loopback host)"
            case .redirectRefused(let u): return "Globalping redirected to another server (\(TerminalText.escape(u))); not followed, the token stays with the API"
            case .tooLarge(let n): return "Globalping's answer is larger than \(n) bytes; not read"
            case .timedOut(let id): return "Globalping measurement \(TerminalText.escape(id)) did not finish in time"
            case .badResponse(let m): return "unexpected answer from Globalping: \(TerminalText.escape(m))"
            case .request(let e): return e.description
            }
        }
    }

    /// A 429, with what its headers said (rate-limiter-post.ts / rate-limiter-get.ts).
    public struct RateLimit: Sendable, CustomStringConvertible {
        public enum Kind: String, Sendable { case hourly = "rate_limit_exceeded", credits = "insufficient_credits", polling = "too_many_requests" }
        public var kind: Kind
        /// POST: seconds until the hourly budget resets (`X-RateLimit-Reset`).
        public var resetIn: Int?
        /// GET: seconds to wait (`Retry-After`).
        public var retryAfter: Int?
        public var remaining: Int?
        /// What the refused measurement would have cost (`X-Request-Cost`).
        public var cost: Int?
        public var message: String
        /// Whether a token was sent (a token says nothing about GET limits or credits).
        public var withToken: Bool

        public var description: String {
            var parts: [String] = []
            switch kind {
            case .hourly:
                parts.append("Globalping rate limit reached: the hourly budget of tests is used up")
                if let cost, let remaining { parts.append("this round needs \(cost), \(remaining) left") }
                if let resetIn { parts.append("it resets in \(Self.seconds(resetIn))") }
                if !withToken { parts.append("an account's token (GLOBALPING_TOKEN) raises it to 500 an hour") }
            case .credits:
                parts.append("Globalping rate limit reached and not enough credits")
                if let cost { parts.append("this round needs \(cost)") }
                if let resetIn { parts.append("the free budget resets in \(Self.seconds(resetIn))") }
            case .polling:
                parts.append("Globalping rate limit for reading results reached")
                if let retryAfter { parts.append("retry in \(retryAfter) s") }
            }
            if !message.isEmpty { parts.append("(\(TerminalText.escape(message)))") }
            return parts.joined(separator: "; ")
        }

        static func seconds(_ s: Int) -> String { s < 120 ? "\(s) s" : "\(s / 60) min \(s % 60) s" }
    }

    /// What the API's headers and GET /v1/limits said about the budget.
    public struct Budget: Sendable {
        public var rateLimitLimit: Int?
        public var rateLimitRemaining: Int?
        /// When the hourly window resets, on `now`'s clock.
        public var resetAt: Date?
        public var lastRequestCost: Int?
        public var creditsRemaining: Int?
        /// `ip` or `user` (GET /v1/limits).
        public var accountType: String?
    }
    private var _budget = Budget()
    public var budget: Budget { lock.withLock { _budget } }

    private func request(_ url: URL, method: String, body: Data? = nil, etag: String? = nil) -> URLRequest {
        var r = URLRequest(url: url)
        r.httpMethod = method
        r.setValue("application/json", forHTTPHeaderField: "Accept")
        r.setValue("dnsprop/\(DNSPropVersion.string)", forHTTPHeaderField: "User-Agent")
        if let body {
            r.httpBody = body
            r.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        if let etag { r.setValue(etag, forHTTPHeaderField: "If-None-Match") }
        if let token { r.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        return r
    }

    private func send(_ r: URLRequest) async throws(ClientError) -> (Data, HTTPURLResponse) {
        try Self.checkTransport(baseURL: baseURL, token: token)
        let result: (Data, HTTPURLResponse)
        do {
            result = try await transport.send(r, cap: maxResponseBytes)
        } catch let f as GlobalpingTransport.Failure {
            switch f {
            case .tooLarge(let n): throw .tooLarge(n)
            case .redirectRefused(let u): throw .redirectRefused(u)
            case .transport(let m): throw .transport(m)
            case .notHTTP: throw .badResponse("not HTTP")
            case .timedOut: throw .transport("timed out")
            }
        } catch {
            throw .transport("\(error)")
        }
        let http = result.1
        if r.httpMethod == "POST" {
            let header = { (name: String) -> Int? in http.value(forHTTPHeaderField: name).flatMap { Int($0.trimmingSpaces) }.flatMap { $0 >= 0 ? $0 : nil } }
            let now = self.now()
            lock.withLock {
                if let v = header("X-RateLimit-Limit") { _budget.rateLimitLimit = v }
                if let v = header("X-RateLimit-Remaining") { _budget.rateLimitRemaining = v }
                if let v = header("X-RateLimit-Reset"), v <= 86_400 { _budget.resetAt = now.addingTimeInterval(Double(v)) }
                if let v = header("X-Request-Cost") { _budget.lastRequestCost = v }
                if let v = header("X-Credits-Remaining") { _budget.creditsRemaining = v }
            }
        }
        return result
    }

    private func errorBody(_ data: Data) -> Globalping.ErrorBody.Inner? {
        (try? JSONDecoder().decode(Globalping.ErrorBody.self, from: data))?.error
    }
    private func errorDetail(_ data: Data) -> String {
        errorBody(data)?.message ?? String(decoding: data.prefix(200), as: UTF8.self)
    }

    /// Measurement ids are base62 (src/measurement/id.ts; the GET route takes `[a-zA-Z0-9]+`).
    static func isMeasurementID(_ id: String) -> Bool {
        (1...64).contains(id.utf8.count) && id.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) }
    }

    /// Creates a measurement from a request the builder made.
    public func createMeasurement(_ body: Globalping.MeasurementRequest) async throws(ClientError) -> Globalping.Created {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data: Data
        do { data = try encoder.encode(body) } catch { throw .badResponse("cannot encode the request: \(error)") }
        let (answer, http) = try await send(request(baseURL.appendingPathComponent("measurements"), method: "POST", body: data))
        switch http.statusCode {
        case 200, 201, 202:
            guard let created = try? JSONDecoder().decode(Globalping.Created.self, from: answer) else {
                throw .badResponse("no measurement id in \(String(decoding: answer.prefix(200), as: UTF8.self))")
            }
            guard Self.isMeasurementID(created.id) else { throw .badResponse("measurement id '\(String(created.id.prefix(80)))' is not a Globalping id") }
            guard (0...Globalping.maxResults).contains(created.probesCount) else { throw .badResponse("probesCount \(created.probesCount)") }
            return created
        case 400:
            let e = errorBody(answer)
            throw .invalidRequest(message: e?.message ?? String(decoding: answer.prefix(200), as: UTF8.self), params: e?.params ?? [:])
        case 401, 403: throw .unauthorized(errorBody(answer)?.message ?? "")
        case 422: throw .noProbesFound(errorDetail(answer))
        case 429: throw .rateLimited(rateLimit(http, answer))
        default: throw .http(status: http.statusCode, detail: errorDetail(answer))
        }
    }

    private func rateLimit(_ http: HTTPURLResponse, _ data: Data) -> RateLimit {
        let e = errorBody(data)
        let int = { (name: String) -> Int? in http.value(forHTTPHeaderField: name).flatMap { Int($0.trimmingSpaces) }.flatMap { (0...864_000).contains($0) ? $0 : nil } }
        let kind = e?.type.flatMap(RateLimit.Kind.init(rawValue:)) ?? (http.value(forHTTPHeaderField: "Retry-After") != nil ? .polling : .hourly)
        return RateLimit(kind: kind, resetIn: int("X-RateLimit-Reset"), retryAfter: int("Retry-After"), remaining: int("X-RateLimit-Remaining"),
                         cost: int("X-Request-Cost"), message: e?.message ?? "", withToken: token != nil)
    }

    /// Polls until the measurement is no longer in progress: `pollInterval` after each response, with
    /// ETags; a 429 is waited out as its `Retry-After` says. At most `probes` results are accepted.
    public func waitForMeasurement(id: String, probes: Int) async throws(ClientError) -> Globalping.Measurement {
        guard Self.isMeasurementID(id) else { throw .badResponse("measurement id '\(String(id.prefix(80)))' is not a Globalping id") }
        let url = baseURL.appendingPathComponent("measurements").appendingPathComponent(id)
        let started = Date()
        var etag: String? = nil
        var last: Globalping.Measurement? = nil
        while true {
            var pause = pollInterval
            let (data, http) = try await send(request(url, method: "GET", etag: etag))
            switch http.statusCode {
            case 200:
                let m: Globalping.Measurement
                do { m = try JSONDecoder().decode(Globalping.Measurement.self, from: data) } catch {
                    throw .badResponse("measurement \(id): \(error)")
                }
                guard m.results.count <= max(probes, 0) else {
                    throw .badResponse("measurement \(id) has \(m.results.count) results for \(probes) probes")
                }
                last = m
                etag = http.value(forHTTPHeaderField: "ETag").flatMap { $0.utf8.count <= 256 ? $0 : nil } ?? etag
            case 304:
                break
            case 429:
                let limit = rateLimit(http, data)
                pause = max(pause, min(Double(limit.retryAfter ?? 1), maxRetryAfter))
                if Date().timeIntervalSince(started) + pause > pollTimeout { throw .rateLimited(limit) }
            default:
                throw .http(status: http.statusCode, detail: errorDetail(data))
            }
            if let m = last, m.status != "in-progress" { return m }
            if Date().timeIntervalSince(started) > pollTimeout { throw .timedOut(id: id) }
            try? await Task.sleep(nanoseconds: UInt64(max(0, pause) * 1e9))
        }
    }

    /// GET /v1/limits (free): the hourly budget and whether the token belongs to an account.
    @discardableResult
    public func fetchLimits() async throws(ClientError) -> Globalping.Limits {
        let (data, http) = try await send(request(baseURL.appendingPathComponent("limits"), method: "GET"))
        guard http.statusCode == 200 else {
            if http.statusCode == 401 || http.statusCode == 403 { throw .unauthorized(errorBody(data)?.message ?? "") }
            throw .http(status: http.statusCode, detail: errorDetail(data))
        }
        guard let limits = try? JSONDecoder().decode(Globalping.Limits.self, from: data) else { throw .badResponse("limits: not the documented shape") }
        let now = self.now()
        lock.withLock {
            if let c = limits.create {
                if let t = c.type, t == "ip" || t == "user" { _budget.accountType = t }
                if let v = c.limit, v >= 0 { _budget.rateLimitLimit = v }
                if let v = c.remaining, v >= 0 { _budget.rateLimitRemaining = v }
                if let v = c.reset, (0...86_400).contains(v) { _budget.resetAt = v == 0 ? nil : now.addingTimeInterval(Double(v)) }
            }
            if let v = limits.credits?.remaining, v >= 0 { _budget.creditsRemaining = v }
        }
        return limits
    }
}
