/// One notification of a running watch: what `--on-change`, `--on-converged` and
/// `--webhook` receive. Built from a finished round by `NotificationDetector`; it
/// renders itself as JSON (stdin of a command, the webhook body), as environment
/// variables (only values dnsprop itself produced: never network text) and as a
/// one-line chat message.
///
/// Nothing secret is in it: no webhook URL, no Globalping token, no command line.
public struct WatchNotification: Sendable {
    public enum Kind: String, Sendable, Hashable {
        /// Some resolver's status changed, or the outcome changed (see `NotificationDetector`).
        case change
        /// The outcome became `converged`.
        case converged
    }

    /// One (resolver, question) whose status changed in the round.
    public struct StatusChange: Sendable {
        public var resolver: ServerAddress
        /// From the resolver list or a remote probe: network or file text, JSON only.
        public var operatorName: String?
        public var question: CheckQuestion
        public var from: VerdictStatus
        public var to: VerdictStatus
        public var at: Double
        /// The verdict's reason, for a person (may quote network text: JSON only).
        public var reason: String
    }

    public var kind: Kind
    public var round: Int
    /// When the round finished.
    public var at: Double
    public var names: [DomainName]
    public var outcome: VerdictPolicy.Outcome
    /// The previous round's outcome (nil in round 1).
    public var previousOutcome: VerdictPolicy.Outcome?
    public var resolversCurrent: Int
    public var resolvers: Int
    public var currentPercent: Double
    /// Status changes of this round, in key order, at most `changeLimit`.
    public var changes: [StatusChange]
    /// Changes left out past `changeLimit` (a 2000-resolver world flipping at once).
    public var changesOmitted: Int
    /// By when every known non-current cache should be gone (the summary's `lastLatestExpiry`).
    public var lastLatestExpiry: Double?

    /// At most this many changes are listed in one event.
    public static let changeLimit = 100

    public var domain: String { names.map(\.text).joined(separator: " ") }

    public func json() -> JSONValue {
        .object([
            ("schemaVersion", .int(1)),
            ("event", .string(kind.rawValue)),
            ("tool", .string("dnsprop \(DNSPropVersion.string)")),
            ("round", .int(round)),
            ("timestamp", .string(Timestamp.rfc3339(at, fraction: true))),
            ("names", .array(names.map { .string($0.text) })),
            ("outcome", .string(outcome.rawValue)),
            ("previousOutcome", .optional(previousOutcome?.rawValue)),
            ("resolvers", .int(resolvers)),
            ("resolversCurrent", .int(resolversCurrent)),
            ("currentPercent", .double((currentPercent * 10).rounded() / 10)),
            ("lastLatestExpiry", .optional(lastLatestExpiry.map { Timestamp.rfc3339($0) })),
            ("changes", .array(changes.map { c in
                .object([
                    ("resolver", .string(c.resolver.description)),
                    ("operator", .optional(c.operatorName)),
                    ("name", .string(c.question.name.text)),
                    ("type", .string(c.question.type.name)),
                    ("check", .string(c.question.isDelegation ? "delegation" : "record")),
                    ("from", .string(c.from.rawValue)),
                    ("to", .string(c.to.rawValue)),
                    ("at", .string(Timestamp.rfc3339(c.at, fraction: true))),
                    ("reason", .string(c.reason)),
                ])
            })),
            ("changesOmitted", .int(changesOmitted)),
        ])
    }

    /// The essentials for a command's environment. Every value is produced by dnsprop
    /// (an enum's name, a number, a validated domain name): no network text, so a
    /// command line that expands them cannot be made to run anything.
    public func environment() -> [String: String] {
        [
            "DNSPROP_EVENT": kind.rawValue,
            "DNSPROP_DOMAIN": domain,
            "DNSPROP_OUTCOME": outcome.rawValue,
            "DNSPROP_PREVIOUS_OUTCOME": previousOutcome?.rawValue ?? "",
            "DNSPROP_CURRENT": String(resolversCurrent),
            "DNSPROP_TOTAL": String(resolvers),
            "DNSPROP_PERCENT": Self.percent(currentPercent),
            "DNSPROP_ROUND": String(round),
            "DNSPROP_CHANGES": String(changes.count + changesOmitted),
            "DNSPROP_TIMESTAMP": Timestamp.rfc3339(at),
        ]
    }

    /// One line for a chat channel (the webhook's `text`): built from dnsprop's own
    /// values only, with Slack's three control characters escaped as Slack asks
    /// (`&`, `<`, `>`), so that nothing in it becomes a mention or a link.
    public func text() -> String {
        var s: String
        switch kind {
        case .converged:
            s = "dnsprop: \(domain) converged in round \(round): \(resolversCurrent)/\(resolvers) resolvers current (\(Self.percent(currentPercent))% of answers)"
        case .change:
            s = "dnsprop: \(domain) round \(round): "
            let n = changes.count + changesOmitted
            if n > 0 {
                let shown = changes.prefix(5).map { "\($0.resolver) \($0.question.type.name)\($0.question.isDelegation ? " (NS)" : "") \($0.from.rawValue)→\($0.to.rawValue)" }
                s += "\(n) status change\(n == 1 ? "" : "s") (" + shown.joined(separator: ", ") + (n > shown.count ? ", …" : "") + "); "
            }
            if let previousOutcome, previousOutcome != outcome { s += "outcome \(previousOutcome.rawValue) → \(outcome.rawValue); " }
            s += "\(resolversCurrent)/\(resolvers) resolvers current (\(Self.percent(currentPercent))% of answers)"
        }
        return Self.slackEscaped(s)
    }

    static func percent(_ p: Double) -> String {
        let r = (p * 10).rounded() / 10
        return r == r.rounded() ? String(Int(r)) : String(r)
    }

    /// Slack's "Escaping text": & < > as HTML entities (Mattermost renders them the same).
    static func slackEscaped(_ s: String) -> String {
        var out = ""
        for ch in s {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            default: out.append(ch)
            }
        }
        return out
    }
}
