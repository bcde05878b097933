import ArgumentParser
import Foundation
import DNSProp

/// `watch`'s notification options; the notifier itself is the library's `WatchNotifier`.
struct NotifyOptions: ParsableArguments {
    @Option(name: .customLong("on-change"), help: ArgumentHelp(
        "Run CMD (with /bin/sh -c) after a round in which some resolver's status or the outcome changed. The event is JSON on stdin; DNSPROP_EVENT, DNSPROP_DOMAIN, DNSPROP_OUTCOME, DNSPROP_CURRENT, DNSPROP_TOTAL, DNSPROP_PERCENT, DNSPROP_ROUND are set.",
        valueName: "CMD"))
    var onChange: String?

    @Option(name: .customLong("on-converged"), help: ArgumentHelp(
        "Run CMD (with /bin/sh -c) once each time the outcome becomes converged; same input as --on-change.", valueName: "CMD"))
    var onConverged: String?

    @Option(name: .customLong("webhook"), help: ArgumentHelp(
        "POST every change and converged event as JSON to URL (a Slack or Mattermost incoming webhook: a plain `text` field, the event under `dnsprop`).",
        valueName: "URL"))
    var webhook: String?

    @Option(name: .customLong("notify-timeout"), help: ArgumentHelp(
        "Seconds one notification attempt may take (then one retry).", valueName: "S"))
    var notifyTimeout: Double = 10

    /// How long `watch` waits at exit for notifications still queued.
    var drainTimeout: Double { 2 * notifyTimeout + 2 }

    func configuration() throws -> WatchNotifier.Configuration {
        guard notifyTimeout >= 0.1, notifyTimeout <= 300 else { throw ValidationError("--notify-timeout must be from 0.1 to 300 seconds") }
        for (option, value) in [("--on-change", onChange), ("--on-converged", onConverged)] {
            if let value, value.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("\(option): give a command") }
            if let value, value.contains("\0") { throw ValidationError("\(option): the command contains a NUL byte") }
        }
        var sender: WebhookSender?
        if let webhook {
            // The URL is a secret (Slack's and Mattermost's hooks are bearer URLs): never echoed.
            guard let url = URL(string: webhook), let s = WebhookSender(url: url) else {
                throw ValidationError("--webhook: give an http:// or https:// URL with a host")
            }
            sender = s
        }
        return WatchNotifier.Configuration(onChange: onChange.map(NotificationCommand.init), onConverged: onConverged.map(NotificationCommand.init),
                                           webhook: sender, timeout: notifyTimeout)
    }
}
