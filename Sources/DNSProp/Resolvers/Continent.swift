/// Continents, and the ISO 3166-1 alpha-2 codes that belong to each (UN geoscheme,
/// with Cyprus and Türkiye in Asia and Russia in Europe).
public enum Continent: String, CaseIterable, Hashable, Sendable, Codable {
    case africa = "AF", antarctica = "AN", asia = "AS", europe = "EU"
    case northAmerica = "NA", oceania = "OC", southAmerica = "SA"

    public var name: String {
        switch self {
        case .africa: return "Africa"
        case .antarctica: return "Antarctica"
        case .asia: return "Asia"
        case .europe: return "Europe"
        case .northAmerica: return "North America"
        case .oceania: return "Oceania"
        case .southAmerica: return "South America"
        }
    }

    /// Accepts the two-letter code or the name, any case (`eu`, `Europe`, `south america`, `south-america`).
    public init?(userInput: String) {
        let s = String(userInput.lowercased().map { $0 == "-" || $0 == "_" ? " " : $0 })
        for c in Continent.allCases where c.rawValue.lowercased() == s || c.name.lowercased() == s {
            self = c
            return
        }
        return nil
    }

    private static let members: [Continent: String] = [
        .africa: "DZ AO BJ BW BF BI CV CM CF TD KM CG CD CI DJ EG GQ ER SZ ET GA GM GH GN GW KE LS LR LY MG MW ML MR MU YT MA MZ NA NE NG RE RW SH ST SN SC SL SO ZA SS SD TZ TG TN UG EH ZM ZW",
        .antarctica: "AQ BV GS HM TF",
        .asia: "AF AM AZ BH BD BT BN KH CN CY GE HK IN ID IR IQ IL JP JO KZ KW KG LA LB MO MY MV MN MM NP KP OM PK PS PH QA SA SG KR LK SY TW TJ TH TL TR TM AE UZ VN YE IO CC CX",
        .europe: "AX AL AD AT BY BE BA BG HR CZ DK EE FO FI FR DE GI GR GG HU IS IE IM IT JE XK LV LI LT LU MT MD MC ME NL MK NO PL PT RO RU SM RS SK SI ES SJ SE CH UA GB VA EU",
        .northAmerica: "AI AG AW BS BB BZ BM BQ VG CA KY CR CU CW DM DO SV GL GD GP GT HT HN JM MQ MX MS NI PA PR BL KN LC MF PM VC SX TT TC US VI UM",
        .oceania: "AS AU CK FJ PF GU KI MH FM NR NC NZ NU NF MP PW PG PN WS SB TK TO TV VU WF",
        .southAmerica: "AR BO BR CL CO EC FK GF GY PY PE SR UY VE",
    ]

    private static let byCountry: [String: Continent] = {
        var map: [String: Continent] = [:]
        for (continent, codes) in members {
            for code in codes.split(separator: " ") { map[String(code)] = continent }
        }
        return map
    }()

    /// The continent of an ISO 3166-1 alpha-2 code (upper case), or nil for an unknown code.
    public static func of(country code: String) -> Continent? { byCountry[code] }
}
