/// How the query engine paces and retries. The defaults are meant to be
/// polite to public resolvers: a handful of queries in flight per server, a
/// bounded rate per server, and a few retries with backoff.
public struct EngineConfiguration: Sendable, Hashable {
    /// Time to wait for an answer to one UDP attempt, in seconds.
    public var timeout: Double = 2.0
    /// Further attempts after the first one times out.
    public var retries: Int = 2
    /// Each retry waits this many times longer than the previous attempt.
    public var backoff: Double = 1.5
    /// Time allowed for a whole TCP exchange (connect, send, answer), in seconds.
    public var tcpTimeout: Double = 4.0
    /// Queries in flight at once, across all servers.
    public var maxInFlight: Int = 2000
    /// Queries in flight at once to one server.
    public var maxInFlightPerServer: Int = 4
    /// New queries per second to one server (retries are not counted twice).
    public var maxRatePerServer: Double = 50
    /// UDP sockets per address family; each has its own kernel-chosen source port.
    public var socketsPerFamily: Int = 8
    /// Granularity of the engine's single timer, in seconds.
    public var tick: Double = 0.005

    public init() {}

    /// The longest a query can take on UDP: every attempt timing out.
    public var udpBudget: Double {
        var total = 0.0, t = timeout
        for _ in 0...max(0, retries) { total += t; t *= backoff }
        return total
    }
}
