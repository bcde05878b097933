/// The one status → colour map of every human view (check's table, watch's
/// screen and log), as SGR codes. Only applied on a terminal without NO_COLOR.
public enum StatusStyle {
    public static func sgr(_ status: VerdictStatus) -> String {
        switch status {
        case .current: return "32"                          // green
        case .stale: return "33"                            // yellow
        case .parked: return "35"                           // magenta
        case .nxdomain, .nodata, .servfail: return "31"     // red
        case .timeout, .error, .refused: return "90"        // grey
        }
    }

    /// The status's one-letter mark, where colour is off and a letter must tell statuses apart
    /// (the watch screen's map): C S P N D F R T E.
    public static func letter(_ status: VerdictStatus) -> Character {
        switch status {
        case .current: return "C"
        case .stale: return "S"
        case .parked: return "P"
        case .nxdomain: return "N"
        case .nodata: return "D"
        case .servfail: return "F"
        case .refused: return "R"
        case .timeout: return "T"
        case .error: return "E"
        }
    }

    /// `text` in the status's colour when `colour` is on.
    public static func paint(_ text: String, _ status: VerdictStatus, colour: Bool) -> String {
        colour ? "\u{1B}[\(sgr(status))m\(text)\u{1B}[0m" : text
    }

    /// `text` with an SGR attribute (1 bold, 2 dim, 33 yellow…) when `colour` is on.
    public static func paint(_ text: String, sgr code: String, colour: Bool) -> String {
        colour ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }
}
