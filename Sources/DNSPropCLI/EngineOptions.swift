import ArgumentParser
import DNSProp

/// Timeouts, retries and politeness: shared by every command that queries.
struct EngineOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Seconds to wait for a server that does not answer (each attempt waits at most this; retries come sooner when the servers' round trips are short).", valueName: "S"))
    var timeout: Double = 2.0

    @Option(help: ArgumentHelp("Further attempts after a timeout.", valueName: "N"))
    var retries: Int = 2

    @Option(help: ArgumentHelp("Each retry waits this many times longer than the attempt before.", valueName: "X"))
    var backoff: Double = 1.5

    @Option(name: .customLong("max-in-flight"), help: ArgumentHelp("Queries in flight at once, all servers together (servers that stopped answering have a budget of this size of their own).", valueName: "N"))
    var maxInFlight: Int = 2000

    @Option(name: .customLong("per-server"), help: ArgumentHelp("Queries in flight at once to one server.", valueName: "N"))
    var perServer: Int = 4

    @Option(help: ArgumentHelp("New queries per second to one server (0: no limit).", valueName: "QPS"))
    var rate: Double = 50

    func validate() throws {
        guard timeout > 0, timeout <= 60 else { throw ValidationError("--timeout must be more than 0 and at most 60 seconds") }
        guard (0...10).contains(retries) else { throw ValidationError("--retries must be from 0 to 10") }
        guard (1...100_000).contains(maxInFlight) else { throw ValidationError("--max-in-flight must be from 1 to 100000") }
        guard (1...1000).contains(perServer) else { throw ValidationError("--per-server must be from 1 to 1000") }
        guard (1...4).contains(backoff) else { throw ValidationError("--backoff must be from 1 to 4") }
        // Compared this way round so that NaN fails too; a tiny rate would overflow the interval.
        guard rate == 0 || (rate >= 0.001 && rate <= 1_000_000) else {
            throw ValidationError("--rate must be 0 (no limit) or from 0.001 to 1000000 queries per second")
        }
    }

    var configuration: EngineConfiguration {
        var c = EngineConfiguration()
        c.timeout = timeout
        c.retries = retries
        c.backoff = backoff
        c.tcpTimeout = max(2 * timeout, 2)
        c.maxInFlight = maxInFlight
        c.maxInFlightPerServer = perServer
        c.maxRatePerServer = rate
        return c
    }
}
