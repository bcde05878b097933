import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// HTTP over URLSession with the limits a hostile or broken server needs: a response body
/// is read only up to a cap (the transfer is cancelled past it), every request has a timeout,
/// and redirects follow a policy chosen per transport:
/// - `.sameOrigin` (Globalping): only within the same origin (scheme, host, port), so that an
///   `Authorization` header never reaches another server;
/// - `.crossOrigin(limit:)` (RDAP): RDAP bootstrap and redirect servers legitimately send a
///   client to another origin (RFC 7480 §5.2, RFC 9224 §5); followed up to `limit` hops, never
///   from HTTPS down to plain HTTP. Such a transport sends no credentials.
public final class HTTPTransport: NSObject, URLSessionDataDelegate, @unchecked Sendable {   // `tasks` and `madeSession` guarded by `lock`
    public enum Failure: Error, Sendable { case tooLarge(Int), redirectRefused(String), transport(String), notHTTP, timedOut }
    /// `never`: no redirect is followed at all (a webhook POST must not be replayed elsewhere).
    public enum RedirectPolicy: Sendable, Equatable { case never, sameOrigin, crossOrigin(limit: Int) }

    private struct Pending {
        var data = Data()
        var cap: Int
        var redirects = 0
        var response: HTTPURLResponse?
        var failure: Failure?
        var continuation: CheckedContinuation<(Data, HTTPURLResponse), Error>
    }

    public let redirects: RedirectPolicy
    private let lock = NSLock()
    private var tasks: [Int: Pending] = [:]
    private let timeout: Double
    /// Made by the first request (under `lock`): a URLSession starts libcurl, which costs a
    /// check milliseconds when no request is made at all (no RDAP service for the TLD).
    private var madeSession: URLSession?

    public init(redirects: RedirectPolicy = .sameOrigin, timeout: Double = 30) {
        self.redirects = redirects
        self.timeout = timeout
        super.init()
    }

    private var session: URLSession {
        lock.withLock {
            if let madeSession { return madeSession }
            let configuration = URLSessionConfiguration.ephemeral
            configuration.timeoutIntervalForRequest = timeout
            configuration.timeoutIntervalForResource = timeout
            configuration.httpCookieStorage = nil
            configuration.urlCache = nil
            let made = URLSession(configuration: configuration, delegate: self, delegateQueue: nil)
            madeSession = made
            return made
        }
    }

    public func invalidate() { lock.withLock { madeSession }?.finishTasksAndInvalidate() }

    /// Cancelling the calling task cancels the transfer (the call then throws).
    public func send(_ request: URLRequest, cap: Int) async throws -> (Data, HTTPURLResponse) {
        let task = session.dataTask(with: request)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                lock.withLock { tasks[task.taskIdentifier] = Pending(cap: cap, continuation: continuation) }
                task.resume()
            }
        } onCancel: {
            task.cancel()
        }
    }

    public static func sameOrigin(_ a: URL?, _ b: URL?) -> Bool {
        guard let a, let b else { return false }
        func port(_ u: URL) -> Int? { u.port ?? (u.scheme?.lowercased() == "https" ? 443 : u.scheme?.lowercased() == "http" ? 80 : nil) }
        return a.scheme?.lowercased() == b.scheme?.lowercased() && a.host?.lowercased() == b.host?.lowercased() && port(a) == port(b)
    }

    /// Whether a redirect from `from` to `to`, the `hop`-th of its request, may be followed.
    public static func allows(_ policy: RedirectPolicy, from: URL?, to: URL?, hop: Int) -> Bool {
        switch policy {
        case .never:
            return false
        case .sameOrigin:
            return sameOrigin(from, to)
        case .crossOrigin(let limit):
            guard hop <= limit, let to, let scheme = to.scheme?.lowercased(), scheme == "https" || scheme == "http", to.host != nil else { return false }
            // Never from HTTPS down to plain HTTP.
            return !(from?.scheme?.lowercased() == "https" && scheme == "http")
        }
    }

    public func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                           newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void) {
        let allowed = lock.withLock { () -> Bool in
            guard var p = tasks[task.taskIdentifier] else { return false }
            p.redirects += 1
            let from = redirects == .sameOrigin ? task.originalRequest?.url : (task.currentRequest?.url ?? task.originalRequest?.url)
            let ok = Self.allows(redirects, from: from, to: request.url, hop: p.redirects)
            if !ok { p.failure = .redirectRefused(request.url?.absoluteString ?? "?") }
            tasks[task.taskIdentifier] = p
            return ok
        }
        completionHandler(allowed ? request : nil)
    }

    public func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                           completionHandler: @escaping @Sendable (URLSession.ResponseDisposition) -> Void) {
        let proceed = lock.withLock { () -> Bool in
            guard var p = tasks[dataTask.taskIdentifier] else { return false }
            p.response = response as? HTTPURLResponse
            if response.expectedContentLength > Int64(p.cap) { p.failure = .tooLarge(p.cap) }
            tasks[dataTask.taskIdentifier] = p
            return p.failure == nil
        }
        completionHandler(proceed ? .allow : .cancel)
    }

    public func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        let over = lock.withLock { () -> Bool in
            guard var p = tasks[dataTask.taskIdentifier], p.failure == nil else { return false }
            if p.data.count + data.count > p.cap {
                p.failure = .tooLarge(p.cap)
                p.data = Data()
                tasks[dataTask.taskIdentifier] = p
                return true
            }
            p.data.append(data)
            tasks[dataTask.taskIdentifier] = p
            return false
        }
        if over { dataTask.cancel() }
    }

    public func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        guard let p = lock.withLock({ tasks.removeValue(forKey: task.taskIdentifier) }) else { return }
        if let f = p.failure {
            // A refused redirect completes normally with the 3xx response; report it as what it is.
            p.continuation.resume(throwing: f)
        } else if let error {
            if let u = error as? URLError, u.code == .timedOut {
                p.continuation.resume(throwing: Failure.timedOut)
            } else {
                p.continuation.resume(throwing: Failure.transport(error.localizedDescription))
            }
        } else if let r = p.response ?? (task.response as? HTTPURLResponse) {
            p.continuation.resume(returning: (p.data, r))
        } else {
            p.continuation.resume(throwing: Failure.notHTTP)
        }
    }
}
