/// How the query engine paces and retries. The defaults are meant to be
/// polite to public resolvers: a handful of queries in flight per server, a
/// bounded rate per server, and a few retries with backoff.
public struct EngineConfiguration: Sendable, Hashable {
    /// Longest wait for an answer to one UDP attempt, in seconds: an upper bound on
    /// the retransmission timeout, which follows each server's measured round trip
    /// (see `QueryEngine`).
    public var timeout: Double = 2.0
    /// Further attempts after the first one times out.
    public var retries: Int = 2
    /// Each retry waits this many times longer than the previous attempt.
    public var backoff: Double = 1.5
    /// Time allowed for a whole TCP exchange (connect, send, answer), in seconds.
    public var tcpTimeout: Double = 4.0
    /// Queries in flight at once to servers that answer (or have not been tried yet),
    /// across all servers. Queries to servers that have stopped answering have a budget
    /// of the same size of their own, so that they never hold the others back.
    public var maxInFlight: Int = 2000
    /// Queries in flight at once to one server (the most its window can grow to).
    public var maxInFlightPerServer: Int = 4
    /// New queries per second to one server (retries are not counted twice). 0: no limit.
    public var maxRatePerServer: Double = 50
    /// UDP sockets per address family for queries to recursive resolvers; each has its
    /// own kernel-chosen source port.
    public var socketsPerFamily: Int = 8
    /// A pooled socket is replaced by a fresh one (a new random source port) after this
    /// many queries (RFC 5452 §9.2: an off-path forger must guess the port as well as the ID).
    public var renewSocketAfter: Int = 1000
    /// Queries without RD (to authoritative servers, which anyone can run and watch)
    /// each get a socket of their own, closed when the query ends.
    public var freshSocketForAuthoritative: Bool = true
    /// At most this many such single-query sockets open at once (file descriptors are
    /// finite); further authoritative queries use the pool.
    public var maxFreshSockets: Int = 256
    /// The retransmission timeout never goes below this (seconds): a recursive resolver's
    /// answer includes its own look-ups, not only the network's round trip.
    public var minimumRetransmissionTimeout: Double = 0.3
    /// The batch window (see `QueryEngine`) never shrinks below this many queries.
    public var minimumBatchWindow: Int = 32
    /// Granularity of the engine's single timer, in seconds.
    public var tick: Double = 0.005

    public init() {}

    /// The longest a query can take on UDP: every attempt waiting the full `timeout`.
    public var udpBudget: Double {
        var total = 0.0, t = timeout
        for _ in 0...max(0, retries) { total += t; t *= backoff }
        return total
    }

    /// Nanoseconds between new queries to one server; 0 without a limit. A rate so small
    /// that the interval would not fit (or is not a number) is taken as one query a day.
    var rateInterval: UInt64 {
        guard maxRatePerServer > 0, maxRatePerServer.isFinite else { return 0 }
        let interval = 1e9 / maxRatePerServer
        return interval < 86_400e9 ? UInt64(interval) : 86_400_000_000_000
    }
}
