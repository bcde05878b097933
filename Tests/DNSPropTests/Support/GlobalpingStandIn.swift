import Foundation
@testable import DNSProp

/// A stand-in for api.globalping.io that accepts and refuses requests the way the
/// real server does, and answers with the real shapes. Rules are ported (not copied)
/// from jsdelivr/globalping at 52c0c192817ecc4284ef01e91b79c79bac9e752b:
///
/// - `src/measurement/schema/global-schema.ts`: top-level keys, `limit` 1…50 anonymous / 500 with a user.
/// - `src/measurement/schema/location-schema.ts`: location keys, continent/country codes, magic with at
///   most 4 `+` conditions, per-location `limit` forbidden when a global limit is set, the sum of the
///   location limits (1 each when absent) at most 50 / 500, at least one location key.
/// - `src/measurement/schema/command-schema.ts` + `utils.ts`: the 16 DNS query types, the target a
///   domain (`isFQDN`, underscores, trailing dot, no TLD needed, numeric TLD refused) or an IP for PTR,
///   `resolver` an IP without CIDR or a domain, and not private; `protocol` UDP/TCP; `port` 0…65535.
/// - `src/lib/private-ip.ts`: the private ranges.
/// - `src/lib/http/middleware/validate.ts`: 400 `validation_error` with `params` {path: message}.
/// - `src/lib/rate-limiter/rate-limiter-post.ts`: 250 (anonymous, keyed by IP or by a token without a
///   user) / 500 (user) points an hour, cost = online probes, precheck against the requested limit,
///   429 `rate_limit_exceeded` / `insufficient_credits` with X-RateLimit-Reset/Limit/Consumed/Remaining
///   and X-Request-Cost (no Retry-After).
/// - `src/lib/rate-limiter/rate-limiter-get.ts`: 5 GETs per 2 s per measurement, then 429
///   `too_many_requests` with Retry-After.
/// - `src/probe/router.ts` (`findWithMeasurementId`): a reused id gives the same probes in the same
///   order, offline ones with the offline result; an unknown or expired id gives 422 `no_probes_found`.
/// - `src/measurement/store.ts`: offline result text; `src/limits/route/get-limits.ts`: GET /v1/limits.
/// - jsdelivr/globalping-probe `src/command/handlers/dig/classic.ts`: answers `{name,type,ttl,class,value}`
///   split on whitespace (so TXT whitespace runs collapse), `resolver: "private"`, `statusCode` null,
///   `failureSource` on failed results.
final class GlobalpingStandIn: @unchecked Sendable {   // all mutable state behind `lock`
    struct Probe {
        var continent: String, country: String, city: String, asn: Int, network: String
        var tags: [String] = []
        var resolvers: [String] = ["private"]
        var online = true
        /// The `result` object this probe gives for (query type, target), as JSON text.
        var answer: @Sendable (String, String) -> String = { _, _ in GlobalpingStandIn.finished([]) }
    }

    static let anonymousPerMeasurement = 50, authenticatedPerMeasurement = 500
    static let allowedTypes: Set<String> = ["A", "AAAA", "ANY", "CNAME", "DNSKEY", "DS", "HTTPS", "MX", "NS", "NSEC", "PTR", "RRSIG", "SOA", "TXT", "SRV", "SVCB"]
    // countries-list's keys: ISO 3166-1 alpha-2 plus XK (no EU).
    static let countries = Set(("AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW XK").split(separator: " ").map(String.init))
    static let continents = ["EU": "europe", "NA": "north america", "SA": "south america", "AS": "asia", "OC": "oceania", "AF": "africa", "AN": "antarctica"]
    static let countryNames = ["AS": "american samoa", "NA": "namibia", "SA": "saudi arabia", "AF": "afghanistan", "DE": "germany", "FR": "france", "AU": "australia", "US": "united states", "JP": "japan", "BR": "brazil"]

    // MARK: scripted answers

    static func finished(_ answers: [(String, String, Int, String)], rcode: String = "NOERROR", resolver: String = "private", total: Int = 12) -> String {
        let list = answers.map { #"{"name":\#(json($0.0)),"type":\#(json($0.1)),"ttl":\#($0.2),"class":"IN","value":\#(json($0.3))}"# }
        let code = ["NOERROR": "0", "SERVFAIL": "2", "NXDOMAIN": "3", "REFUSED": "5"][rcode] ?? "null"
        return #"{"status":"finished","rawOutput":";; dig +timeout=5 +tries=2 output","statusCodeName":"\#(rcode)","statusCode":\#(code),"answers":[\#(list.joined(separator: ","))],"timings":{"total":\#(total)},"resolver":\#(json(resolver))}"#
    }
    static func failed(_ source: String, rawOutput: String) -> String {
        #"{"status":"failed","failureSource":"\#(source)","rawOutput":\#(json(rawOutput)),"statusCodeName":null,"statusCode":null,"answers":[],"timings":{"total":null},"resolver":null}"#
    }
    static func json(_ s: String) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: [s], options: [.withoutEscapingSlashes]), as: UTF8.self).dropFirst().dropLast().description
    }

    // MARK: state

    struct Stored { var probes: [Int]; var online: [Bool]; var type: String; var target: String; var polls = 0; var limit: Int; var locations: Any }
    struct Bucket { var consumed = 0; var windowStart: Double }
    private let lock = NSLock()
    private var probes: [Probe]
    private var measurements: [String: Stored] = [:]
    private var buckets: [String: Bucket] = [:]
    private var getCounts: [String: (count: Int, start: Double, blockedUntil: Double)] = [:]
    private var nextID = 0
    private var _log: [(status: Int, method: String, path: String)] = []
    /// Tokens the server knows: token → user id (nil: a token without a user, which gets anonymous limits).
    var tokens: [String: String?] = [:]
    /// In-progress answers before a measurement reads finished.
    var pollsBeforeFinished = 1
    var getLimit = 5, getWindow = 2.0, getBlock = 5.0
    /// The clock of the rate limiters (seconds); tests move it to simulate hours.
    var now: @Sendable () -> Double = { Date().timeIntervalSince1970 }
    let server: TestHTTPServer!
    var baseURL: URL { server.baseURL }
    var log: [(status: Int, method: String, path: String)] { lock.withLock { _log } }
    var postBodies: [[String: Any]] {
        server.requests.filter { $0.method == "POST" }.compactMap { (try? JSONSerialization.jsonObject(with: $0.body)) as? [String: Any] }
    }

    init(probes: [Probe]) throws {
        self.probes = probes
        var handler: (@Sendable (TestHTTPServer.Request) -> TestHTTPServer.Response)? = nil
        let box = HandlerBox()
        server = try TestHTTPServer { r in box.handler?(r) ?? .init(status: 500) }
        handler = { [weak self] r in
            guard let self else { return .init(status: 503) }
            let response = self.handle(r)
            self.lock.withLock { self._log.append((response.status, r.method, r.path)) }
            return response
        }
        box.handler = handler
    }
    func stop() { server.stop() }
    func setOnline(_ index: Int, _ online: Bool) { lock.withLock { probes[index].online = online } }
    func expire(_ id: String) { lock.withLock { _ = measurements.removeValue(forKey: id) } }
    func consumed(token: String? = nil) -> Int { lock.withLock { buckets[key(for: token)]?.consumed ?? 0 } }

    // MARK: routing

    private func handle(_ r: TestHTTPServer.Request) -> TestHTTPServer.Response {
        var token: String? = nil
        if let auth = r.headers["authorization"] {
            let parts = auth.split(separator: " ")
            guard parts.count == 2, parts[0] == "Bearer", tokens[String(parts[1])] != nil else { return .init(status: 401) }
            token = String(parts[1])
        }
        let path = r.path.split(separator: "?").first.map(String.init) ?? r.path
        if r.method == "POST" && path == "/v1/measurements" { return create(r.body, token: token) }
        if r.method == "GET" && path == "/v1/limits" { return limits(token: token) }
        if r.method == "GET" && path.hasPrefix("/v1/measurements/") { return get(String(path.dropFirst("/v1/measurements/".count)), etag: r.headers["if-none-match"]) }
        return .init(status: 404, body: #"{"error":{"type":"not_found","message":"Not found."}}"#)
    }

    private func userID(_ token: String?) -> String? { token.flatMap { tokens[$0] ?? nil } }
    private func key(for token: String?) -> String {
        if let user = userID(token) { return "user:\(user)" }
        return token.map { "hashed:\($0)" } ?? "ip:127.0.0.1"
    }

    private func error(_ status: Int, _ type: String, _ message: String, headers: [String: String] = [:], params: [String: String]? = nil) -> TestHTTPServer.Response {
        var inner: [String: Any] = ["type": type, "message": message]
        if let params { inner["params"] = params }
        let body = try! JSONSerialization.data(withJSONObject: ["error": inner, "links": ["documentation": "https://globalping.io/docs/api.globalping.io"]], options: [.sortedKeys])
        return .init(status: status, headers: headers, body: String(decoding: body, as: UTF8.self))
    }

    // MARK: POST /v1/measurements

    private func create(_ data: Data, token: String?) -> TestHTTPServer.Response {
        guard let body = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            return error(400, "validation_error", "Parameter validation failed.", params: ["": "\"value\" must be of type object"])
        }
        let user = userID(token)
        let params = Validator(authenticated: user != nil).validate(body)
        if !params.isEmpty { return error(400, "validation_error", "Parameter validation failed.", params: params) }
        let type = ((body["measurementOptions"] as? [String: Any])?["query"] as? [String: Any])?["type"] as? String ?? "A"
        let target = body["target"] as! String

        return lock.withLock { () -> TestHTTPServer.Response in
            let t = now()
            let k = key(for: token)
            var bucket = buckets[k] ?? Bucket(windowStart: t)
            if t - bucket.windowStart >= 3600 { bucket = Bucket(windowStart: t) }
            let points = user == nil ? 250 : 500
            func rateHeaders(consumed: Int) -> [String: String] {
                ["X-RateLimit-Reset": "\(Int((bucket.windowStart + 3600 - t).rounded()))", "X-RateLimit-Limit": "\(points)",
                 "X-RateLimit-Consumed": "\(consumed)", "X-RateLimit-Remaining": "\(max(0, points - bucket.consumed))"]
            }
            func limited(cost: Int) -> TestHTTPServer.Response {
                var h = rateHeaders(consumed: 0)
                h["X-Request-Cost"] = "\(cost)"
                return user != nil ? error(429, "insufficient_credits", "Not enough credits to run this measurement.", headers: h)
                    : error(429, "rate_limit_exceeded", "This measurement exceeds the remaining hourly rate limit for your IP address.", headers: h)
            }
            // Probe selection (router.ts).
            var picked: [Int] = []
            var online: [Bool] = []
            var limitForRecord = 1
            var locationsForRecord: Any = []
            if let id = body["locations"] as? String {
                guard let previous = measurements[id] else {
                    return error(422, "no_probes_found", "No matching IPv4 probes available.")
                }
                picked = previous.probes
                online = previous.probes.map { probes[$0].online }
                limitForRecord = previous.limit
                locationsForRecord = previous.locations
            } else {
                let locations = body["locations"] as? [[String: Any]] ?? []
                let global = body["limit"] as? Int
                let maxRequested = locations.contains { $0["limit"] != nil }
                    ? locations.reduce(0) { $0 + (($1["limit"] as? Int) ?? 1) } : (global ?? max(1, locations.count))
                if let b = buckets[k], t - b.windowStart < 3600, points - b.consumed < maxRequested { return limited(cost: maxRequested) }
                let candidates = probes.indices.filter { probes[$0].online }
                if locations.isEmpty {
                    picked = Array(candidates.prefix(global ?? 1))
                } else if locations.contains(where: { $0["limit"] != nil }) || global == nil {
                    for l in locations {
                        for i in candidates.filter({ matches(probes[$0], l) }).prefix((l["limit"] as? Int) ?? 1) where !picked.contains(i) { picked.append(i) }
                    }
                } else {
                    // Global limit spread over the locations (filterByLocationAndWeight): round robin.
                    var lists = locations.map { l in candidates.filter { matches(probes[$0], l) } }
                    while picked.count < global!, lists.contains(where: { !$0.isEmpty }) {
                        for j in lists.indices where !lists[j].isEmpty && picked.count < global! {
                            let i = lists[j].removeFirst()
                            if !picked.contains(i) { picked.append(i) }
                        }
                    }
                }
                online = picked.map { _ in true }
                limitForRecord = global ?? max(1, locations.count)
                locationsForRecord = locations
            }
            if picked.isEmpty { return error(422, "no_probes_found", "No matching IPv4 probes available.") }
            let cost = online.filter { $0 }.count
            if points - bucket.consumed < cost {
                buckets[k] = bucket
                return limited(cost: cost)
            }
            bucket.consumed += cost
            buckets[k] = bucket
            nextID += 1
            let id = "2standin\(String(format: "%06d", nextID))000K8x"
            measurements[id] = Stored(probes: picked, online: online, type: type.uppercased(), target: target, limit: limitForRecord, locations: locationsForRecord)
            var h = rateHeaders(consumed: cost)
            h["X-Request-Cost"] = "\(cost)"
            h["Location"] = "https://api.globalping.io/v1/measurements/\(id)"
            return .init(status: 202, headers: h, body: #"{"id":"\#(id)","probesCount":\#(picked.count)}"#)
        }
    }

    /// probes-location-filter.ts, reduced to the fields these tests use.
    private func matches(_ p: Probe, _ l: [String: Any]) -> Bool {
        for (k, v) in l {
            switch k {
            case "continent": if (v as? String)?.uppercased() != p.continent { return false }
            case "country": if (v as? String)?.uppercased() != p.country { return false }
            case "asn": if (v as? Int) != p.asn { return false }
            case "city": if (v as? String)?.lowercased() != p.city.lowercased() { return false }
            case "tags": if !((v as? [String]) ?? []).allSatisfy({ t in p.tags.contains { $0.lowercased() == t.lowercased() } }) { return false }
            case "magic":
                let words = ((v as? String) ?? "").lowercased().split(separator: "+").map { $0.replacingOccurrences(of: "-", with: " ").trimmingCharacters(in: .whitespaces) }
                if words == ["world"] { continue }
                for w in words {
                    // Exact index order: country codes, country names, continent codes, continent names, then substrings.
                    if Self.countries.contains(w.uppercased()) { if p.country != w.uppercased() { return false } ; continue }
                    if let code = Self.countryNames.first(where: { $0.value == w })?.key { if p.country != code { return false }; continue }
                    if Self.continents[w.uppercased()] != nil { if p.continent != w.uppercased() { return false }; continue }
                    if let code = Self.continents.first(where: { $0.value == w })?.key { if p.continent != code { return false }; continue }
                    if w.hasPrefix("as"), let n = Int(w.dropFirst(2)) { if p.asn != n { return false }; continue }
                    if !(p.city.lowercased().contains(w) || p.network.lowercased().contains(w) || p.tags.contains { $0.lowercased().contains(w) }) { return false }
                }
            case "limit": continue
            default: return false
            }
        }
        return true
    }

    // MARK: GET /v1/measurements/:id

    private func get(_ id: String, etag: String?) -> TestHTTPServer.Response {
        lock.withLock { () -> TestHTTPServer.Response in
            let t = now()
            var c = getCounts[id] ?? (0, t, 0)
            if t < c.blockedUntil {
                return error(429, "too_many_requests", "Too many requests. Please retry in \(Int((c.blockedUntil - t).rounded(.up))) seconds.",
                             headers: ["Retry-After": "\(Int((c.blockedUntil - t).rounded(.up)))"])
            }
            if t - c.start >= getWindow { c = (0, t, 0) }
            c.count += 1
            if c.count > getLimit {
                c.blockedUntil = t + getBlock
                getCounts[id] = c
                let after = Int(getBlock.rounded(.up))
                return error(429, "too_many_requests", "Too many requests. Please retry in \(after) second\(after == 1 ? "" : "s").", headers: ["Retry-After": "\(after)"])
            }
            getCounts[id] = c
            guard var m = measurements[id] else { return error(404, "not_found", "Couldn't find the requested measurement.") }
            m.polls += 1
            measurements[id] = m
            let done = m.polls > pollsBeforeFinished
            let results = zip(m.probes, m.online).map { (i, isOnline) -> String in
                let p = probes[i]
                let probe = #"{"continent":"\#(p.continent)","region":"Somewhere","country":"\#(p.country)","state":null,"city":\#(Self.json(p.city)),"asn":\#(p.asn),"longitude":1.5,"latitude":2.5,"network":\#(Self.json(p.network)),"tags":[\#(p.tags.map(Self.json).joined(separator: ","))],"resolvers":[\#(p.resolvers.map(Self.json).joined(separator: ","))]}"#
                let result = !isOnline ? #"{"status":"offline","rawOutput":"This probe is currently offline. Please try again later."}"#
                    : done ? p.answer(m.type, m.target) : #"{"status":"in-progress","rawOutput":""}"#
                return #"{"probe":\#(probe),"result":\#(result)}"#
            }
            let body = #"{"id":"\#(id)","type":"dns","status":"\#(done ? "finished" : "in-progress")","createdAt":"2026-11-29T00:00:00.000Z","updatedAt":"2026-11-29T00:00:01.000Z","target":\#(Self.json(m.target)),"probesCount":\#(m.probes.count),"measurementOptions":{"query":{"type":"\#(m.type)"}},"results":[\#(results.joined(separator: ","))]}"#
            let tag = "W/\"\(body.hashValue)\""
            if etag == tag { return .init(status: 304, headers: ["ETag": tag]) }
            return .init(status: 200, headers: ["ETag": tag], body: body)
        }
    }

    // MARK: GET /v1/limits

    private func limits(token: String?) -> TestHTTPServer.Response {
        lock.withLock {
            let user = userID(token)
            let points = user == nil ? 250 : 500
            let t = now()
            var remaining = points, reset = 0
            if let b = buckets[key(for: token)], t - b.windowStart < 3600 { remaining = max(0, points - b.consumed); reset = Int((b.windowStart + 3600 - t).rounded()) }
            let credits = user != nil ? #","credits":{"remaining":0}"# : ""
            return .init(status: 200, body: #"{"rateLimit":{"measurements":{"create":{"type":"\#(user == nil ? "ip" : "user")","limit":\#(points),"remaining":\#(remaining),"reset":\#(reset)}}}\#(credits)}"#)
        }
    }
}

private final class HandlerBox: @unchecked Sendable {   // set once before the server gets a request
    var handler: (@Sendable (TestHTTPServer.Request) -> TestHTTPServer.Response)?
}

/// The request validation of the real schemas (see the file header for the sources).
struct Validator {
    var authenticated: Bool
    var perMeasurement: Int { authenticated ? GlobalpingStandIn.authenticatedPerMeasurement : GlobalpingStandIn.anonymousPerMeasurement }
    var perLocation: Int { authenticated ? 500 : 50 }

    func validate(_ body: [String: Any]) -> [String: String] {
        var p: [String: String] = [:]
        for k in body.keys where !["type", "target", "measurementOptions", "timeout", "locations", "limit", "inProgressUpdates"].contains(k) {
            p[k] = "\"\(k)\" is not allowed"
        }
        guard let type = body["type"] as? String else { p["type"] = "\"type\" is required"; return p }
        guard type.lowercased() == "dns" else { p["type"] = type == "" ? "\"type\" is not allowed to be empty" : "\"type\" must be one of [ping, traceroute, dns, mtr, http]"; return p }
        let options = body["measurementOptions"] as? [String: Any] ?? [:]
        if body["measurementOptions"] != nil && !(body["measurementOptions"] is [String: Any]) { p["measurementOptions"] = "\"measurementOptions\" must be of type object" }
        for k in options.keys where !["query", "resolver", "protocol", "port", "trace", "ipVersion"].contains(k) {
            p["measurementOptions.\(k)"] = "\"measurementOptions.\(k)\" is not allowed"
        }
        var queryType = "A"
        if let q = options["query"] {
            if let q = q as? [String: Any] {
                for k in q.keys where k != "type" { p["measurementOptions.query.\(k)"] = "\"measurementOptions.query.\(k)\" is not allowed" }
                if let t = q["type"] {
                    if let t = t as? String, GlobalpingStandIn.allowedTypes.contains(t.uppercased()) { queryType = t.uppercased() }
                    else { p["measurementOptions.query.type"] = "\"measurementOptions.query.type\" must be one of [\(GlobalpingStandIn.allowedTypes.sorted().joined(separator: ", "))]" }
                }
            } else { p["measurementOptions.query"] = "\"measurementOptions.query\" must be of type object" }
        }
        if let r = options["resolver"] {
            if let r = r as? String {
                if let ip = Self.ip(r) { if Self.isPrivate(ip) { p["measurementOptions.resolver"] = "\"measurementOptions.resolver\" must not be a private hostname" } }
                else if !Self.isFQDN(r, trailingDot: false, requireTLD: true) { p["measurementOptions.resolver"] = "\"measurementOptions.resolver\" does not match any of the allowed types" }
            } else { p["measurementOptions.resolver"] = "\"measurementOptions.resolver\" must be a string" }
        }
        if let pr = options["protocol"], !((pr as? String).map { ["UDP", "TCP"].contains($0.uppercased()) } ?? false) {
            p["measurementOptions.protocol"] = "\"measurementOptions.protocol\" must be one of [UDP, TCP]"
        }
        if let port = options["port"], !((port as? Int).map { (0...65535).contains($0) } ?? false) {
            p["measurementOptions.port"] = "\"measurementOptions.port\" must be a valid port"
        }
        if let v = options["ipVersion"], let r = options["resolver"] as? String, Self.ip(r) != nil { _ = v; p["measurementOptions.ipVersion"] = "\"measurementOptions.ipVersion\" is not allowed when resolver is not a domain" }
        // target
        if let target = body["target"] as? String {
            if queryType == "PTR" {
                if let ip = Self.ip(target) { if Self.isPrivate(ip) { p["target"] = "\"target\" must not be a private hostname" } }
                else { p["target"] = "\"target\" must be a valid ipv4 or ipv6 address" }
            } else if !(target == "." || Self.isFQDN(target, trailingDot: true, requireTLD: false)) {
                p["target"] = "\"target\" must be a valid domain name"
            }
        } else { p["target"] = "\"target\" is required" }
        if let t = body["timeout"], !((t as? Int).map { (5...30).contains($0) } ?? false) { p["timeout"] = "\"timeout\" must be an integer from 5 to 30" }
        let hasGlobal = body["limit"] != nil
        if let l = body["limit"] {
            if let n = l as? Int {
                if n < 1 { p["limit"] = "\"limit\" must be greater than or equal to 1" }
                else if n > perMeasurement { p["limit"] = "\"limit\" must be less than or equal to \(perMeasurement)" }
            } else { p["limit"] = "\"limit\" must be a number" }
        }
        // locations
        if let l = body["locations"] {
            if let s = l as? String {
                if s.count > 128 { p["locations"] = "\"locations\" length must be less than or equal to 128 characters long" }
            } else if let list = l as? [Any] {
                if list.count > 128 { p["locations"] = "\"locations\" must contain less than or equal to 128 items" }
                var sum = 0
                for (i, item) in list.enumerated() {
                    let label = "locations[\(i)]", path = "locations.\(i)"
                    guard let o = item as? [String: Any] else { p[path] = "\"\(label)\" must be of type object"; continue }
                    let keys = ["continent", "region", "country", "state", "city", "network", "asn", "magic", "tags"]
                    for k in o.keys where !(keys + ["limit"]).contains(k) { p["\(path).\(k)"] = "\"\(label).\(k)\" is not allowed" }
                    if !o.keys.contains(where: keys.contains) { p[path] = "\"\(label)\" must contain at least one of [\(keys.joined(separator: ", "))]" }
                    if let c = o["continent"], !((c as? String).map { GlobalpingStandIn.continents[$0.uppercased()] != nil } ?? false) {
                        p["\(path).continent"] = "\"\(label).continent\" must be a valid two-letter continent code"
                    }
                    if let c = o["country"], !((c as? String).map { GlobalpingStandIn.countries.contains($0.uppercased()) } ?? false) {
                        p["\(path).country"] = "\"\(label).country\" must be a valid two-letter ISO code"
                    }
                    for k in ["city", "network", "magic"] {
                        if let v = o[k], !((v as? String).map { (1...128).contains($0.count) } ?? false) { p["\(path).\(k)"] = "\"\(label).\(k)\" length must be 1 to 128" }
                    }
                    if let m = o["magic"] as? String, m.split(separator: "+", omittingEmptySubsequences: false).count > 4 {
                        p["\(path).magic"] = "\"\(label).magic\" must contain at most 4 combined filters"
                    }
                    if let a = o["asn"], !((a as? Int).map { $0 > 0 } ?? false) { p["\(path).asn"] = "\"\(label).asn\" must be a positive number" }
                    if let t = o["tags"], !((t as? [String]).map { $0.count <= 32 && $0.allSatisfy { (1...128).contains($0.count) } } ?? false) {
                        p["\(path).tags"] = "\"\(label).tags\" must be an array of at most 32 strings"
                    }
                    if let lim = o["limit"] {
                        if hasGlobal { p["\(path).limit"] = "\"\(label).limit\" is not allowed when a global limit is set" }
                        else if let n = lim as? Int {
                            if n < 1 { p["\(path).limit"] = "\"\(label).limit\" must be greater than or equal to 1" }
                            else if n > perLocation { p["\(path).limit"] = "\"\(label).limit\" must be less than or equal to \(perLocation)" }
                            sum += n
                        } else { p["\(path).limit"] = "\"\(label).limit\" must be a number" }
                    } else { sum += 1 }
                }
                if sum > perMeasurement { p["locations"] = "the sum of limits must be less than or equal to \(perMeasurement)" }
            } else { p["locations"] = "\"locations\" must be one of [string, array]" }
        }
        return p
    }

    static func ip(_ s: String) -> IPAddress? {
        if s.hasPrefix("[") && s.hasSuffix("]") { return IPAddress(String(s.dropFirst().dropLast())).flatMap { $0.isIPv6 ? $0 : nil } }
        return IPAddress(s)
    }

    /// private-ip.ts, range by range.
    static func isPrivate(_ ip: IPAddress) -> Bool {
        switch ip {
        case .v4(let v):
            let ranges: [(UInt32, Int)] = [(0x00000000, 8), (0x0A000000, 8), (0x64400000, 10), (0x7F000000, 8), (0xA9FE0000, 16), (0xAC100000, 12),
                                           (0xC0000000, 24), (0xC0000200, 24), (0xC0586300, 24), (0xC0A80000, 16), (0xC6120000, 15), (0xC6336400, 24),
                                           (0xCB007100, 24), (0xE0000000, 4), (0xF0000000, 4), (0xFFFFFFFF, 32)]
            return ranges.contains { base, bits in (v ^ base) >> (32 - bits) == 0 }
        case .v6(let hi, let lo):
            if hi == 0 && (lo == 0 || lo == 1) { return true }
            let ranges: [(UInt64, UInt64, Int)] = [(0x0064_ff9b_0001_0000, 0, 48), (0x0100_0000_0000_0000, 0, 64), (0x2001_0000_0000_0000, 0, 32),
                                                   (0x2001_0010_0000_0000, 0, 28), (0x2001_0020_0000_0000, 0, 28), (0x2001_0db8_0000_0000, 0, 32),
                                                   (0x2002_0000_0000_0000, 0, 16), (0xfc00_0000_0000_0000, 0, 7), (0xfe80_0000_0000_0000, 0, 10), (0xff00_0000_0000_0000, 0, 8)]
            return ranges.contains { base, _, bits in (hi ^ base) >> (64 - bits) == 0 }
        }
    }

    /// validator.js isFQDN with allow_underscores (and, for targets, allow_trailing_dot, require_tld false).
    static func isFQDN(_ input: String, trailingDot: Bool, requireTLD: Bool) -> Bool {
        var s = input
        if trailingDot && s.hasSuffix(".") { s.removeLast() }
        let parts = s.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard let tld = parts.last, !s.isEmpty else { return false }
        if requireTLD {
            guard parts.count >= 2 else { return false }
            let ok = tld.count >= 2 && (tld.allSatisfy { $0.isLetter } || (tld.lowercased().hasPrefix("xn") && tld.count >= 4))
            if !ok { return false }
        }
        if tld.allSatisfy(\.isNumber) { return false }
        return parts.allSatisfy { part in
            !part.isEmpty && part.count <= 63 && !part.hasPrefix("-") && !part.hasSuffix("-")
                && part.unicodeScalars.allSatisfy { ($0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "_")) || $0.value >= 0xA1 }
        }
    }
}
