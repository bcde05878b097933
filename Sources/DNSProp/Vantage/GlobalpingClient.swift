import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A client for Globalping's API that keeps within its limits by itself:
/// anonymous use is capped at 50 probes a measurement (500 with a token),
/// results are polled 500 ms after each response with ETags, and 429/422
/// become clear errors instead of retries in a loop.
public final class GlobalpingClient: @unchecked Sendable {   // immutable after init
    public static let defaultBaseURL = URL(string: "https://api.globalping.io/v1")!
    public let baseURL: URL
    public let token: String?
    public let session: URLSession
    /// How long to poll one measurement before giving up (the service finishes within 30 s).
    public var pollTimeout: Double = 60
    public var pollInterval: Double = 0.5

    public var maxProbesPerMeasurement: Int { token == nil ? 50 : 500 }

    public init(baseURL: URL = GlobalpingClient.defaultBaseURL, token: String? = nil, session: URLSession = .shared) {
        self.baseURL = baseURL
        self.token = token
        self.session = session
    }

    public enum ClientError: Error, Sendable, CustomStringConvertible {
        case rateLimited(retryAfter: Int?, detail: String)
        case noProbesFound(String)
        case invalidRequest(String)
        case http(status: Int, detail: String)
        case transport(String)
        case timedOut(id: String)
        case badResponse(String)

        public var description: String {
            switch self {
            case .rateLimited(let after, let detail):
                return "Globalping rate limit reached\(after.map { "; try again in \($0) s" } ?? "")\(detail.isEmpty ? "" : " (\(detail))"); a token (GLOBALPING_TOKEN) raises the limits"
            case .noProbesFound(let m): return "Globalping found no probes for these locations: \(m)"
            case .invalidRequest(let m): return "Globalping rejected the request: \(m)"
            case .http(let s, let d): return "Globalping answered HTTP \(s)\(d.isEmpty ? "" : ": \(d)")"
            case .transport(let m): return "cannot reach Globalping: \(m)"
            case .timedOut(let id): return "Globalping measurement \(id) did not finish in time"
            case .badResponse(let m): return "unexpected answer from Globalping: \(m)"
            }
        }
    }

    /// What the last response said about the remaining budget (for verbose output).
    public struct Budget: Sendable { public var rateLimitRemaining: Int?; public var creditsRemaining: Int? }
    private let budgetLock = NSLock()
    private var _budget = Budget(rateLimitRemaining: nil, creditsRemaining: nil)
    public var budget: Budget { budgetLock.withLock { _budget } }

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

    private func send(_ r: URLRequest) async throws -> (Data, HTTPURLResponse) {
        let data: Data, response: URLResponse
        do {
            (data, response) = try await session.data(for: r)
        } catch {
            throw ClientError.transport(error.localizedDescription)
        }
        guard let http = response as? HTTPURLResponse else { throw ClientError.badResponse("not HTTP") }
        budgetLock.withLock {
            if let v = http.value(forHTTPHeaderField: "X-RateLimit-Remaining").flatMap(Int.init) { _budget.rateLimitRemaining = v }
            if let v = http.value(forHTTPHeaderField: "X-Credits-Remaining").flatMap(Int.init) { _budget.creditsRemaining = v }
        }
        return (data, http)
    }

    private func errorDetail(_ data: Data) -> String {
        let message = (try? JSONDecoder().decode(Globalping.ErrorBody.self, from: data))?.error?.message
        return TerminalText.escape(message ?? String(decoding: data.prefix(200), as: UTF8.self))
    }

    /// Creates a DNS measurement; `probes` is capped at what this client may ask for.
    public func createDNSMeasurement(target: String, type: RecordType, resolver: String?,
                                     locations: Globalping.MeasurementRequest.LocationsOrID, probes: Int) async throws -> Globalping.Created {
        let body = Globalping.MeasurementRequest(
            target: target, locations: locations, limit: min(max(1, probes), maxProbesPerMeasurement),
            measurementOptions: .init(query: .init(type: type.name), resolver: resolver))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let (data, http) = try await send(request(baseURL.appendingPathComponent("measurements"), method: "POST",
                                                  body: try encoder.encode(body)))
        switch http.statusCode {
        case 200, 201, 202:
            do { return try JSONDecoder().decode(Globalping.Created.self, from: data) } catch {
                throw ClientError.badResponse("measurement id missing: \(error)")
            }
        case 422: throw ClientError.noProbesFound(errorDetail(data))
        case 400: throw ClientError.invalidRequest(errorDetail(data))
        case 429:
            throw ClientError.rateLimited(retryAfter: http.value(forHTTPHeaderField: "Retry-After").flatMap(Int.init), detail: errorDetail(data))
        default: throw ClientError.http(status: http.statusCode, detail: errorDetail(data))
        }
    }

    /// Polls until the measurement is no longer in progress: 500 ms after each response, with ETags.
    public func waitForMeasurement(id: String) async throws -> Globalping.Measurement {
        let url = baseURL.appendingPathComponent("measurements").appendingPathComponent(id)
        let started = Date()
        var etag: String? = nil
        var last: Globalping.Measurement? = nil
        while true {
            let (data, http) = try await send(request(url, method: "GET", etag: etag))
            switch http.statusCode {
            case 200:
                do { last = try JSONDecoder().decode(Globalping.Measurement.self, from: data) } catch {
                    throw ClientError.badResponse("measurement \(id): \(error)")
                }
                etag = http.value(forHTTPHeaderField: "ETag") ?? etag
            case 304:
                break
            case 429:
                throw ClientError.rateLimited(retryAfter: http.value(forHTTPHeaderField: "Retry-After").flatMap(Int.init), detail: errorDetail(data))
            default:
                throw ClientError.http(status: http.statusCode, detail: errorDetail(data))
            }
            if let m = last, m.status != "in-progress" { return m }
            if Date().timeIntervalSince(started) > pollTimeout { throw ClientError.timedOut(id: id) }
            try await Task.sleep(nanoseconds: UInt64(pollInterval * 1e9))
        }
    }
}
