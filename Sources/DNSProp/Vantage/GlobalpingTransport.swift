import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// HTTP for the Globalping client with the limits a hostile or broken API needs:
/// a response body is read only up to a cap (the transfer is cancelled past it), and a
/// redirect is followed only within the same origin (scheme, host, port), so that the
/// `Authorization` header never reaches another server.
final class GlobalpingTransport: NSObject, URLSessionDataDelegate, @unchecked Sendable {   // `tasks` guarded by `lock`; `session` written once, in init
    enum Failure: Error { case tooLarge(Int), redirectRefused(String), transport(String), notHTTP }

    private struct Pending {
        var data = Data()
        var cap: Int
        var response: HTTPURLResponse?
        var failure: Failure?
        var continuation: CheckedContinuation<(Data, HTTPURLResponse), Error>
    }

    private let lock = NSLock()
    private var tasks: [Int: Pending] = [:]
    private var session: URLSession!
    /// false: no redirect is followed at all (a webhook POST must not be replayed elsewhere).
    private let followsRedirects: Bool

    init(followsRedirects: Bool = true) {
        self.followsRedirects = followsRedirects
        super.init()
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 30
        configuration.httpCookieStorage = nil
        configuration.urlCache = nil
        session = URLSession(configuration: configuration, delegate: self, delegateQueue: nil)
    }

    func invalidate() { session.finishTasksAndInvalidate() }

    func send(_ request: URLRequest, cap: Int) async throws -> (Data, HTTPURLResponse) {
        try await withCheckedThrowingContinuation { continuation in
            let task = session.dataTask(with: request)
            lock.withLock { tasks[task.taskIdentifier] = Pending(cap: cap, continuation: continuation) }
            task.resume()
        }
    }

    static func sameOrigin(_ a: URL?, _ b: URL?) -> Bool {
        guard let a, let b else { return false }
        func port(_ u: URL) -> Int? { u.port ?? (u.scheme?.lowercased() == "https" ? 443 : u.scheme?.lowercased() == "http" ? 80 : nil) }
        return a.scheme?.lowercased() == b.scheme?.lowercased() && a.host?.lowercased() == b.host?.lowercased() && port(a) == port(b)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void) {
        if followsRedirects && Self.sameOrigin(task.originalRequest?.url, request.url) {
            completionHandler(request)
        } else {
            lock.withLock { tasks[task.taskIdentifier]?.failure = .redirectRefused(request.url?.absoluteString ?? "?") }
            completionHandler(nil)
        }
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
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

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
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

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        guard let p = lock.withLock({ tasks.removeValue(forKey: task.taskIdentifier) }) else { return }
        if let f = p.failure {
            // A refused redirect completes normally with the 3xx response; report it as what it is.
            p.continuation.resume(throwing: f)
        } else if let error {
            p.continuation.resume(throwing: Failure.transport(error.localizedDescription))
        } else if let r = p.response ?? (task.response as? HTTPURLResponse) {
            p.continuation.resume(returning: (p.data, r))
        } else {
            p.continuation.resume(throwing: Failure.notHTTP)
        }
    }
}
