import Prometheus
import DNSProp

/// `/metrics`: the Prometheus text exposition format (version 0.0.4), written by swift-prometheus.
///
/// Label values come only from the resolver list and the command line (resolver address, operator,
/// country, the names and types asked) or from closed sets (status, check); never from what a
/// resolver answered. Results from Globalping probes are counted in the totals but get no series of
/// their own: their labels would come from the network and change every round.
public enum DashboardMetrics {
    /// Renders the snapshot at `now` (the "seconds until" gauges count down from it).
    public static func render(_ dashboard: Dashboard, now: Double) -> String {
        var bytes = snapshotRegistry(dashboard.snapshot, now: now).emitToBuffer()
        dashboard.cumulative.emit(into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Sets `dnsprop_NAME{labels}` to `value` in `registry`.
    static func gauge(_ registry: PrometheusCollectorRegistry, _ name: String, _ help: String, labels: [(String, String)] = [], value: Double) {
        let descriptor = MetricNameDescriptor(namespace: "dnsprop", metricName: name, unitName: "", helpText: help)
        registry.makeGauge(descriptor: descriptor, labels: labels).set(to: value)
    }

    /// The gauges of one snapshot, in a new registry (so a series that no longer applies disappears).
    static func snapshotRegistry(_ s: Dashboard.Snapshot, now: Double) -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        gauge(registry, "round", "Number of the latest finished round (0 before the first one ends).", value: Double(s.state.round))
        gauge(registry, "round_in_progress", "1 while a round is being asked, else 0.", value: s.roundInProgress == nil ? 0 : 1)
        gauge(registry, "watch_started_timestamp_seconds", "When the watch started (Unix time).", value: s.state.started)
        if let d = s.roundDuration {
            gauge(registry, "round_duration_seconds", "How long the latest finished round took.", value: d)
        }
        if let b = s.budget {
            if let r = b.rateLimitRemaining {
                gauge(registry, "globalping_rate_limit_remaining", "Globalping: tests left in the hourly rate limit.", value: Double(r))
            }
            if let c = b.creditsRemaining {
                gauge(registry, "globalping_credits_remaining", "Globalping: credits left.", value: Double(c))
            }
        }
        guard let report = s.report, let outcome = s.outcome else { return registry }
        let summary = report.summary
        gauge(registry, "last_round_timestamp_seconds", "When the latest finished round ended (Unix time).", value: report.finishedAt)
        gauge(registry, "current_ratio", "Share of the answering results that are current, 0 to 1 (the check's currentPercent / 100).", value: summary.currentPercent / 100)
        gauge(registry, "converged", "1 when the latest round's outcome is converged, else 0.", value: outcome == .converged ? 1 : 0)
        for o in [VerdictPolicy.Outcome.converged, .notConverged, .cannotTell] {
            gauge(registry, "outcome", "The latest round's outcome: 1 for the one that holds, 0 for the others.", labels: [("outcome", o.rawValue)], value: o == outcome ? 1 : 0)
        }
        gauge(registry, "truth_established", "1 when the truth (authoritative answer or --expect) was established.", value: summary.truthEstablished ? 1 : 0)
        if let t = summary.lastExpiry {
            gauge(registry, "expected_convergence_seconds", "Seconds until the last stale answer expires by its TTL (expected convergence); negative once passed.", value: t - now)
        }
        if let t = summary.lastLatestExpiry {
            gauge(registry, "latest_convergence_seconds", "Seconds until the latest bound of the last stale answer (resolver TTL ceilings); negative once passed.", value: t - now)
        }

        // Per status: resolvers by their worst result, and results.
        var resolversByStatus: [VerdictStatus: Int] = [:]
        let rows = s.state.resolverRows()
        for row in rows { resolversByStatus[row.worst.verdict.status, default: 0] += 1 }
        for status in VerdictStatus.allCases {
            gauge(registry, "resolvers", "Resolvers by the worst status of their results in the latest round.", labels: [("status", status.rawValue)], value: Double(resolversByStatus[status] ?? 0))
            gauge(registry, "results", "Results (resolver × question) by status in the latest round.", labels: [("status", status.rawValue)], value: Double(summary.count(status)))
        }

        // Per resolver (from the list): its status as a state set, what the list says about it, and its results' expiry.
        for row in rows where row.resolver.vantage == nil {
            let r = row.resolver
            let id = r.address.description
            for status in VerdictStatus.allCases {
                gauge(registry, "resolver_status", "Each resolver's worst status in the latest round: 1 for that status, 0 for the others.", labels: [("resolver", id), ("status", status.rawValue)], value: status == row.worst.verdict.status ? 1 : 0)
            }
            gauge(registry, "resolver_info", "What the resolver list says about each resolver (always 1).", labels: [("resolver", id), ("operator", r.operatorName ?? ""), ("country", r.countryCode ?? ""),
                                        ("service", r.service)], value: 1)
        }
        for v in report.verdicts where v.resolver.vantage == nil {
            let labels = [("resolver", v.resolver.address.description), ("name", v.name.text), ("type", v.type.name),
                          ("check", v.isDelegationCheck ? "delegation" : "record")]
            if let t = v.expiresAt {
                gauge(registry, "result_expiry_seconds", "Seconds until the answer a resolver gave expires from its cache by the TTL it reported; negative once passed.", labels: labels, value: t - now)
            }
            if let t = v.latestAt {
                gauge(registry, "result_latest_expiry_seconds", "Seconds until the latest bound on a stale answer's expiry (the resolver's TTL ceiling); negative once passed.", labels: labels, value: t - now)
            }
        }
        return registry
    }
}
