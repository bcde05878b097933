/// One question for one server.
public struct QueryRequest: Sendable, Hashable {
    public var server: ServerAddress
    public var query: QueryTemplate

    public init(server: ServerAddress, query: QueryTemplate) {
        self.server = server
        self.query = query
    }
}

public enum Transport: String, Sendable, Hashable, Codable {
    case udp, tcp
}

/// Why no usable answer came back. DNS answers (NXDOMAIN, SERVFAIL, REFUSED)
/// are never errors: they arrive as a `Message` with that rcode.
public enum TransportError: Error, Sendable, Hashable, CustomStringConvertible {
    /// No answer to any attempt.
    case timeout(attempts: Int)
    /// ICMP port unreachable, or TCP RST on connect: nothing listens there.
    case connectionRefused(Transport)
    /// ICMP host/network unreachable, or the local stack has no route.
    case unreachable(String)
    /// Answers came, but none could be decoded.
    case malformed(WireError)
    /// The TCP connection closed or failed before a whole answer arrived.
    case tcpFailed(String)
    /// No TCP answer in time after a truncated UDP answer.
    case tcpTimeout
    /// The local system refused (socket creation, sendto): errno and the call.
    case system(call: String, errno: Int32, message: String)
    /// A remote probe (Globalping) did not get an answer: `source` is the API's
    /// `failureSource` (`resolver`, `target`, `internal`: Globalping gave up on the
    /// probe) or `response` when its result could not be used. Not a timeout.
    case remoteProbeFailed(source: String, detail: String)

    public var description: String {
        switch self {
        case .timeout(let n): return "no answer after \(n) attempt\(n == 1 ? "" : "s")"
        case .connectionRefused(let t): return "connection refused (\(t.rawValue.uppercased()))"
        case .unreachable(let why): return "unreachable: \(why)"
        case .malformed(let e): return "malformed answer: \(e)"
        case .tcpFailed(let why): return "TCP failed: \(why)"
        case .tcpTimeout: return "no answer over TCP in time"
        case .system(let call, let errno, let message): return "\(call) failed: \(message) (errno \(errno))"
        case .remoteProbeFailed(let source, let detail): return "remote probe failed (\(source)): \(detail)"
        }
    }

    /// A short machine-readable kind for JSON.
    public var kind: String {
        switch self {
        case .timeout: return "timeout"
        case .connectionRefused: return "refused-connection"
        case .unreachable: return "unreachable"
        case .malformed: return "malformed"
        case .tcpFailed: return "tcp-failed"
        case .tcpTimeout: return "tcp-timeout"
        case .system: return "system"
        case .remoteProbeFailed: return "remote-probe-failed"
        }
    }
}

/// What one server said (or why it said nothing) to one question.
public struct QueryResult: Sendable {
    /// Position of the request in the submitted batch.
    public var index: Int
    public var request: QueryRequest
    public var outcome: Result<Message, TransportError>
    /// Attempts sent over UDP (a TCP follow-up is not counted).
    public var attempts: Int
    /// The transport of the final answer.
    public var transport: Transport
    /// Round trip of the exchange that produced the answer, in seconds.
    public var rtt: Double?
    /// Wall-clock time the result was settled (seconds since the Unix epoch).
    public var completedAt: Double
    /// Packets that came from this server for this query but were dropped
    /// (wrong question, QR unset, undecodable while a better answer was awaited).
    public var dropped: Int

    public var message: Message? { if case .success(let m) = outcome { return m } else { return nil } }
    public var error: TransportError? { if case .failure(let e) = outcome { return e } else { return nil } }
}

/// Counters over the engine's lifetime, for benchmarks and verbose output.
public struct EngineStatistics: Sendable, Hashable {
    public var queriesSent = 0
    public var retransmissions = 0
    public var responsesAccepted = 0
    /// Datagrams that matched no query in flight (wrong source, port, socket or ID).
    public var unsolicited = 0
    /// Datagrams that matched a query's ID and source but not its question, or had QR unset.
    public var mismatched = 0
    public var malformed = 0
    public var tcpFallbacks = 0
    /// ICMP errors read from the sockets' error queues.
    public var icmpErrors = 0
    /// ICMP errors that matched no query in flight (a late error for a query already settled).
    public var icmpErrorsUnmatched = 0
    /// Sends that failed with an error left pending on the socket by an earlier datagram
    /// (Linux reports it on the next sendto, whoever it is for): the error went to its own
    /// query through the error queue and the send was made again.
    public var sendsRepeatedAfterPendingError = 0
    /// UDP attempts whose retransmission timeout expired.
    public var attemptTimeouts = 0
    /// Answers to an attempt that came after a later attempt had been sent (a timeout too short).
    public var lateAnswers = 0
    /// Loss events that halved one server's window (a server that answers stopped answering some).
    public var serverWindowShrinks = 0
    /// Loss events that halved the batch window (all servers together).
    public var batchWindowShrinks = 0
    /// The smallest the batch window has been (queries); nil if it never shrank.
    public var smallestBatchWindow: Int? = nil
    /// Servers that stopped answering (a timeout with no answer since): their queries
    /// moved to the separate budget for unresponsive servers.
    public var unresponsiveServers = 0
    /// Attempts to servers that have never answered that outlived the batch's round trips
    /// and moved from the main budget to the unresponsive one before timing out.
    public var overdueMovedToUnresponsiveBudget = 0
    /// Sockets opened for a single query (authoritative servers: a fresh source port each).
    public var freshSockets = 0
    /// Pooled sockets replaced by fresh ones (new source ports).
    public var socketRenewals = 0
    /// TCP read events that stopped at their byte budget and yielded to other work.
    public var tcpReadYields = 0
    public init() {}

    /// One line for `--verbose` (plain ASCII, no network text).
    public var summary: String {
        var parts = ["\(queriesSent) UDP queries sent (\(retransmissions) retransmissions), \(responsesAccepted) answers accepted (\(lateAnswers) late)",
                     "\(attemptTimeouts) attempt timeouts, \(unresponsiveServers) times a server stopped answering"]
        var pacing = "windows halved: \(serverWindowShrinks) per server, \(batchWindowShrinks) for the batch"
        if let w = smallestBatchWindow { pacing += " (smallest \(w))" }
        parts.append(pacing)
        parts.append("ICMP errors \(icmpErrors) (\(icmpErrorsUnmatched) for no query in flight), \(sendsRepeatedAfterPendingError) sends repeated after another's error")
        parts.append("\(unsolicited + mismatched + malformed) packets dropped, \(tcpFallbacks) over TCP")
        return parts.joined(separator: "; ")
    }
}
