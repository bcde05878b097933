import DNSProp

/// Where `watch --listen` serves: `PORT` (on 127.0.0.1), `ADDR:PORT` or `[IPv6]:PORT`.
/// The address is an IP literal (no name lookup); port 0 takes a free port.
public struct ListenAddress: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public struct Invalid: Error, CustomStringConvertible {
        public var input: String
        public var problem: String
        public var description: String { "'\(TerminalText.escape(input))': \(problem)" }
    }

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public init(parsing text: String) throws(Invalid) {
        func fail(_ problem: String) -> Invalid { Invalid(input: text, problem: problem) }
        var host = "127.0.0.1"
        var portText = Substring(text)
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw fail("'[' without a closing ']'") }
            host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw fail("write [ADDRESS]:PORT") }
            portText = rest.dropFirst()
            guard case .v6? = IPAddress(host) else { throw fail("'\(host)' is not an IPv6 address") }
        } else if let colon = text.lastIndex(of: ":") {
            host = String(text[..<colon])
            portText = text[text.index(after: colon)...]
            if host.contains(":") { throw fail("write an IPv6 address in brackets: [ADDRESS]:PORT") }
            if host.isEmpty { host = "127.0.0.1" }
            guard case .v4? = IPAddress(host) else { throw fail("'\(host)' is not an IPv4 address (names are not looked up)") }
        }
        guard !portText.isEmpty, portText.allSatisfy({ $0.isASCII && $0.isNumber }), portText.count <= 5,
              let port = Int(portText), port <= 65535 else { throw fail("the port must be a number from 0 to 65535") }
        self.host = host
        self.port = port
    }

    /// `127.0.0.1:9100`, `[::1]:9100`.
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
