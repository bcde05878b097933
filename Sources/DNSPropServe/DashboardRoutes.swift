import DNSProp

/// What the server answers, as a pure function of the request line and the dashboard (tested
/// without a socket). Only GET and HEAD; any other method is 405, any other path 404.
public struct DashboardRoutes: Sendable {
    public struct Response: Sendable {
        public var status: Int
        public var contentType: String
        public var body: [UInt8]
        public var headers: [(String, String)] = []
    }

    public let dashboard: Dashboard
    public let page: StatusPage

    public init(dashboard: Dashboard, page: StatusPage) {
        self.dashboard = dashboard
        self.page = page
    }

    /// Sent with every response: nothing may load from elsewhere, no inline script runs, nothing is cached.
    public static let securityHeaders: [(String, String)] = [
        ("Content-Security-Policy",
         "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
        ("Cache-Control", "no-store"),
    ]

    static func text(_ status: Int, _ type: String, _ body: String) -> Response {
        Response(status: status, contentType: type, body: Array(body.utf8))
    }

    /// The response to `method uri` at `now`. HEAD gets GET's status and headers (the server drops the body).
    public func respond(method: String, uri: String, now: Double) -> Response {
        guard method == "GET" || method == "HEAD" else {
            var r = Self.text(405, "text/plain; charset=utf-8", "405 method not allowed: only GET and HEAD\n")
            r.headers.append(("Allow", "GET, HEAD"))
            return r
        }
        // The path alone: a query string or fragment is ignored.
        let path = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? uri
        switch path {
        case "/", "/index.html":
            return Self.text(200, "text/html; charset=utf-8", page.page(dashboard.snapshot, now: now))
        case "/live":
            return Self.text(200, "text/html; charset=utf-8", page.live(dashboard.snapshot, now: now))
        case "/app.css":
            return Self.text(200, "text/css; charset=utf-8", StatusPageAssets.css)
        case "/app.js":
            return Self.text(200, "text/javascript; charset=utf-8", StatusPageAssets.js)
        case "/status.json":
            let s = dashboard.snapshot
            guard let report = s.report, let outcome = s.outcome else {
                return Self.text(503, "application/json", JSONValue.object([("error", .string("no round has finished yet"))]).serialized() + "\n")
            }
            return Self.text(200, "application/json", StatusJSON.document(report, outcome: outcome))
        case "/metrics":
            return Self.text(200, "text/plain; version=0.0.4; charset=utf-8", DashboardMetrics.render(dashboard, now: now))
        default:
            return Self.text(404, "text/plain; charset=utf-8", "404 not found\n")
        }
    }
}

/// `/status.json`: the latest round as `check --format json` writes it (docs/output-schema.md).
public enum StatusJSON {
    public static func document(_ report: PropagationReport, outcome: VerdictPolicy.Outcome) -> String {
        CheckReportJSON.document(report, outcome: outcome).serialized(pretty: true) + "\n"
    }
}
