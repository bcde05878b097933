import ArgumentParser
import DNSProp

/// `check` and `watch`: the registry side (RDAP) of the diagnosis line, and the early warning.
struct RegistryOptions: ParsableArguments {
    @Option(name: .customLong("rdap-url"), help: ArgumentHelp("RDAP base URL to ask instead of the one IANA's bootstrap registry names for the TLD (…/domain/NAME is appended; default: $DNSPROP_RDAP_URL).", valueName: "URL"))
    var rdapURLOption: String?

    /// `--rdap-url`, else `$DNSPROP_RDAP_URL` (a registry proxy or mirror for a whole site).
    var rdapURL: String? { rdapURLOption ?? ProcessEnvironment.value("DNSPROP_RDAP_URL") }

    @Flag(name: .customLong("no-rdap"), help: "Do not ask the registry (RDAP) for the domain's status; the diagnosis uses DNS only.")
    var noRDAP = false

    @Option(name: .customLong("rdap-timeout"), help: .hidden)
    var rdapTimeout: Double = RDAPClient.defaultTimeout

    @Option(name: .customLong("warn-expiry"), help: ArgumentHelp("Exit 1 when the registration expires within this window (30d, 12h), is on hold, in redemption or pendingDelete, or the TLD delegation or SOA contact matches a parking/expiry signature.", valueName: "DURATION"))
    var warnExpiry: String?

    func validate() throws {
        if let rdapURL, URLText.valid(rdapURL) == nil { throw ValidationError("--rdap-url '\(TerminalText.escape(rdapURL))' is not an http(s) URL") }
        if let warnExpiry, DurationText.parse(warnExpiry) == nil { throw ValidationError("--warn-expiry takes a duration such as 30d or 12h (got '\(TerminalText.escape(warnExpiry))')") }
        guard rdapTimeout > 0, rdapTimeout <= 60 else { throw ValidationError("--rdap-timeout must be from 0 to 60 seconds") }
        if noRDAP && rdapURLOption != nil { throw ValidationError("--no-rdap and --rdap-url contradict each other") }
    }

    func apply(to plan: inout PropagationCheck.Plan) {
        plan.diagnose = true
        plan.warnExpiry = warnExpiry.flatMap(DurationText.parse)
        if !noRDAP {
            plan.registry = RegistrySource(client: RDAPClient(baseURL: rdapURL.flatMap(URLText.valid), timeout: rdapTimeout))
        }
    }
}
