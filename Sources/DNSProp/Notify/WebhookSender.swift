import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `--webhook URL`: POSTs each notification as `application/json` with a plain
/// `text` field, which Slack's and Mattermost's incoming webhooks post as the
/// message, and the structured event under `dnsprop` (both services ignore keys
/// they do not know). Mattermost needs `text` unless there are attachments, and
/// answers 200 "ok"; Slack answers 200 "ok" too. Any 2xx counts as delivered.
///
/// Uses the URLSession transport of the Globalping client with redirects off (a
/// POST is not replayed to wherever a 3xx points) and the reply read only up to
/// `replyCap` bytes. The URL carries the hook's secret (Slack's and Mattermost's
/// are bearer URLs), so it is never printed: `redacted` names only scheme, host, port.
public final class WebhookSender: Sendable {
    public enum Failure: Error, CustomStringConvertible, Sendable {
        case status(Int, String)
        case redirected(Int)
        case transport(String)
        case timedOut

        public var description: String {
            switch self {
            case .status(let code, let body): return "HTTP \(code)" + (body.isEmpty ? "" : ": \(body)")
            case .redirected(let code): return "HTTP \(code) redirect, not followed for a POST"
            case .transport(let s): return s
            case .timedOut: return "no answer in time"
            }
        }
    }

    public let url: URL
    public static let replyCap = 16 * 1024
    private let transport = HTTPTransport(redirects: .never)

    /// nil unless http(s) with a host.
    public init?(url: URL) {
        guard let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = url.host, !host.isEmpty else { return nil }
        self.url = url
    }

    deinit { transport.invalidate() }

    /// scheme://host[:port]/… — what may be shown of the URL.
    public var redacted: String {
        "\(url.scheme?.lowercased() ?? "?")://\(url.host ?? "?")" + (url.port.map { ":\($0)" } ?? "") + "/…"
    }

    public static func body(_ event: WatchNotification) -> String {
        JSONValue.object([("text", .string(event.text())), ("dnsprop", event.json())]).serialized()
    }

    /// One POST, waiting at most `timeout` seconds. Blocking: call it off any queue
    /// that must stay responsive (the notifier's own queue).
    public func post(_ event: WatchNotification, timeout: Double) -> Failure? {
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("dnsprop/\(DNSPropVersion.string)", forHTTPHeaderField: "User-Agent")
        request.httpBody = Data(Self.body(event).utf8)
        request.timeoutInterval = timeout
        let done = DispatchSemaphore(value: 0)
        let result = ResultBox()
        let transport = self.transport
        let task = Task {
            do {
                let (data, response) = try await transport.send(request, cap: Self.replyCap)
                if (200..<300).contains(response.statusCode) {
                    result.set(nil)
                } else if (300..<400).contains(response.statusCode) {
                    result.set(.redirected(response.statusCode))
                } else {
                    let text = String(decoding: data.prefix(300), as: UTF8.self)
                    result.set(.status(response.statusCode, text.trimmingCharacters(in: .whitespacesAndNewlines)))
                }
            } catch let f as HTTPTransport.Failure {
                switch f {
                case .redirectRefused: result.set(.transport("redirect not followed for a POST"))
                case .tooLarge(let cap): result.set(.transport("reply larger than \(cap) bytes"))
                case .transport(let s): result.set(.transport(s))
                case .notHTTP: result.set(.transport("not an HTTP reply"))
                case .timedOut: result.set(.transport("timed out"))
                }
            } catch {
                result.set(.transport("\(error)"))
            }
            done.signal()
        }
        if done.wait(timeout: .now() + timeout + 1) == .timedOut {
            task.cancel()
            return .timedOut
        }
        return result.value
    }

    private final class ResultBox: @unchecked Sendable {   // all state behind `lock`
        private let lock = NSLock()
        private var stored: Failure?
        func set(_ f: Failure?) { lock.withLock { stored = f } }
        var value: Failure? { lock.withLock { stored } }
    }
}
