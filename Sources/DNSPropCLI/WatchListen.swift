import DNSProp
#if DNSPROP_SERVER
import DNSPropServe

/// `watch --listen`: a `Dashboard` following the session, served by a `DashboardServer`.
enum WatchListen {
    /// The server while it runs.
    struct Running: Sendable {
        let server: DashboardServer
        func stop() async { await server.stop() }
    }

    static func validate(_ text: String) throws { _ = try address(text) }

    static func address(_ text: String) throws -> ListenAddress {
        do { return try ListenAddress(parsing: text) } catch { throw usageFailure("--listen \(error)") }
    }

    static func start(_ text: String, session: WatchSession, plan: PropagationCheck.Plan) async throws -> Running {
        let address = try address(text)
        var budget: (@Sendable () -> Dashboard.Budget?)?
        if let remote = plan.remote {
            budget = {
                let b = remote.client.budget
                return Dashboard.Budget(rateLimitRemaining: b.rateLimitRemaining, creditsRemaining: b.creditsRemaining)
            }
        }
        let dashboard = Dashboard(names: plan.names, interval: session.options.interval, minCurrent: session.options.minCurrent,
                                  started: session.state.started, budget: budget)
        dashboard.attach(to: session)
        let routes = DashboardRoutes(dashboard: dashboard, page: StatusPage(mapData: StatusPageMap.data))
        let server: DashboardServer
        do {
            server = try await DashboardServer.start(address, routes: routes)
        } catch {
            throw usageFailure("--listen \(address): cannot listen: \(error)")
        }
        Console.diagnostic("serving http://\(server.boundAddress)/ (status page), /metrics and /status.json")
        return Running(server: server)
    }
}
#else
/// A build without the HTTP server (`DNSPROP_NO_SERVER=1 swift build`, used by the sanitizer
/// runs so that they do not compile SwiftNIO twice more): `--listen` says so.
enum WatchListen {
    struct Running: Sendable {
        func stop() async {}
    }

    static func validate(_ text: String) throws {
        throw usageFailure("--listen: this dnsprop was built without the status-page server (DNSPROP_NO_SERVER)")
    }

    static func start(_ text: String, session: WatchSession, plan: PropagationCheck.Plan) async throws -> Running {
        try validate(text)
        return Running()
    }
}
#endif
