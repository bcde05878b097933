import DNSProp
import DNSPropServe

/// `watch --listen`: a `Dashboard` following the session, served by a `DashboardServer`.
enum WatchListen {
    static func address(_ text: String) throws -> ListenAddress {
        do { return try ListenAddress(parsing: text) } catch { throw usageFailure("--listen \(error)") }
    }

    static func start(_ text: String, session: WatchSession, plan: PropagationCheck.Plan) async throws -> DashboardServer {
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
        return server
    }
}
