import Foundation
#if canImport(Glibc)
import Glibc
#endif
@testable import DNSProp

/// A tiny HTTP/1.1 server on loopback for the Globalping client tests: one
/// request per connection, answered by a scripted handler.
final class TestHTTPServer: @unchecked Sendable {   // `requests` guarded by `lock`
    struct Request { var method: String; var path: String; var headers: [String: String]; var body: Data }
    struct Response { var status: Int; var headers: [String: String] = [:]; var body: String = "" }

    let port: UInt16
    private let fd: Int32
    private let handler: @Sendable (Request) -> Response
    private let lock = NSLock()
    private var _requests: [Request] = []
    var requests: [Request] { lock.withLock { _requests } }
    var baseURL: URL { URL(string: "http://127.0.0.1:\(port)/v1")! }

    init(handler: @escaping @Sendable (Request) -> Response) throws {
        self.handler = handler
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var on: Int32 = 1
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        _ = ServerAddress(ip: IPAddress("127.0.0.1")!, port: 0).withSockAddr { bind(s, $0, $1) }
        listen(s, 16)
        fd = s
        port = TestResponder.localPort(s)
        let thread = Thread { [weak self] in self?.serve() }
        thread.start()
    }

    /// Wakes the accept loop, which closes the socket itself: closing it here could let the
    /// next server reuse the descriptor number while this loop still accepts on it.
    func stop() { shutdown(fd, Int32(SHUT_RDWR)) }

    private func serve() {
        defer { close(fd) }
        while true {
            let c = accept(fd, nil, nil)
            if c < 0 { return }
            handle(c)
            close(c)
        }
    }

    private func handle(_ c: Int32) {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        var headerEnd: Range<Data.Index>? = nil
        var contentLength = 0
        while true {
            let n = recv(c, &buffer, buffer.count, 0)
            if n <= 0 { return }
            data.append(contentsOf: buffer[0..<n])
            if headerEnd == nil, let r = data.range(of: Data("\r\n\r\n".utf8)) {
                headerEnd = r
                let head = String(decoding: data[..<r.lowerBound], as: UTF8.self)
                for line in head.split(separator: "\r\n").dropFirst() {
                    let parts = line.split(separator: ":", maxSplits: 1)
                    if parts.count == 2, parts[0].lowercased() == "content-length" { contentLength = Int(parts[1].trimmingCharacters(in: .whitespaces)) ?? 0 }
                }
            }
            if let r = headerEnd, data.count - r.upperBound >= contentLength { break }
        }
        let r = headerEnd!
        let head = String(decoding: data[..<r.lowerBound], as: UTF8.self).split(separator: "\r\n")
        let requestLine = head[0].split(separator: " ")
        var headers: [String: String] = [:]
        for line in head.dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2 { headers[parts[0].lowercased()] = parts[1].trimmingCharacters(in: .whitespaces) }
        }
        let request = Request(method: String(requestLine[0]), path: String(requestLine[1]), headers: headers,
                              body: data[r.upperBound...].prefix(contentLength))
        lock.withLock { _requests.append(request) }
        let response = handler(request)
        let reason = [200: "OK", 202: "Accepted", 304: "Not Modified", 307: "Temporary Redirect", 400: "Bad Request", 401: "Unauthorized",
                      404: "Not Found", 422: "Unprocessable Entity", 429: "Too Many Requests", 503: "Service Unavailable"][response.status] ?? "Status"
        var out = "HTTP/1.1 \(response.status) \(reason)\r\nConnection: close\r\nContent-Length: \(response.body.utf8.count)\r\n"
        if !response.body.isEmpty { out += "Content-Type: application/json\r\n" }
        for (k, v) in response.headers { out += "\(k): \(v)\r\n" }
        out += "\r\n" + response.body
        let bytes = Array(out.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { send(c, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            offset += n
        }
    }
}
