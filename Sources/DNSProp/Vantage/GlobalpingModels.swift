/// The parts of Globalping's REST API (v1) that dnsprop uses, as Codable values.
/// Shapes follow jsdelivr/globalping's public/v1/spec.yaml and what the probe
/// (jsdelivr/globalping-probe, src/command/handlers/dig/classic.ts) really sends.
///
/// Decoding is deliberately lenient field by field (a probe's answer may have no
/// `name`, a `null` TTL, or be `{}`): one odd answer must not sink a measurement.
/// Nothing here is trusted: numbers are range-checked where they are used, text is
/// escaped before it reaches a terminal, and the client caps body size and counts.
public enum Globalping {
    /// One entry of `locations`. A location never carries its own `limit`: the
    /// request has one global limit (location-schema.ts forbids mixing the two).
    public struct Location: Codable, Sendable, Hashable {
        public var country: String?
        public var continent: String?
        public var city: String?
        public var asn: Int?
        public var magic: String?
        public var tags: [String]?
        public init(country: String? = nil, continent: String? = nil, city: String? = nil, asn: Int? = nil,
                    magic: String? = nil, tags: [String]? = nil) {
            self.country = country; self.continent = continent; self.city = city
            self.asn = asn; self.magic = magic; self.tags = tags
        }
    }

    public struct MeasurementRequest: Encodable, Sendable {
        public struct Options: Encodable, Sendable {
            public struct Query: Encodable, Sendable { public var type: String }
            public var query: Query
            public var resolver: String?
            public var `protocol` = "UDP"
            public var port = 53
        }
        public var type = "dns"
        public var target: String
        /// Either locations, or the id of an earlier measurement to reuse its probes.
        public var locations: LocationsOrID
        /// The one limit of the request (absent when reusing an id: the API takes the earlier one).
        public var limit: Int?
        public var measurementOptions: Options

        public enum LocationsOrID: Encodable, Sendable, Equatable {
            case locations([Location])
            case measurement(String)
            public func encode(to encoder: Encoder) throws {
                var c = encoder.singleValueContainer()
                switch self {
                case .locations(let l): try c.encode(l)
                case .measurement(let id): try c.encode(id)
                }
            }
        }
    }

    public struct Created: Decodable, Sendable {
        public var id: String
        public var probesCount: Int
    }

    public struct Measurement: Decodable, Sendable {
        public var id: String
        public var status: String
        public var results: [ProbeResult]

        enum CodingKeys: String, CodingKey { case id, status, results }
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            id = c.lenient(String.self, .id) ?? ""
            status = try c.decode(String.self, forKey: .status)
            var list = try c.nestedUnkeyedContainer(forKey: .results)
            var out: [ProbeResult] = []
            while !list.isAtEnd {
                if out.count >= Globalping.maxResults { throw DecodingError.dataCorruptedError(in: list, debugDescription: "more than \(Globalping.maxResults) results") }
                out.append(try list.decode(ProbeResult.self))
            }
            results = out
        }
    }

    /// The most results any measurement can have (500 probes with a token).
    public static let maxResults = 500
    /// The most answers one probe result may carry (the API's own schema: 1024).
    public static let maxAnswers = 1024

    public struct ProbeResult: Decodable, Sendable {
        public var probe: Probe
        public var result: DNSResult
        enum CodingKeys: String, CodingKey { case probe, result }
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            probe = c.lenient(Probe.self, .probe) ?? Probe()
            result = try c.decode(DNSResult.self, forKey: .result)
        }
    }

    public struct Probe: Decodable, Sendable, Hashable {
        public var continent: String?
        public var region: String?
        public var country: String?
        public var state: String?
        public var city: String?
        public var asn: Int?
        public var network: String?
        public var tags: [String]?
        public var resolvers: [String]?
        /// The probe's coordinates (API spec: probe.latitude/longitude); nil when absent or out of range.
        public var latitude: Double?
        public var longitude: Double?

        enum CodingKeys: String, CodingKey { case continent, region, country, state, city, asn, network, tags, resolvers, latitude, longitude }
        public init() {}
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            continent = c.lenient(String.self, .continent)
            region = c.lenient(String.self, .region)
            country = c.lenient(String.self, .country)
            state = c.lenient(String.self, .state)
            city = c.lenient(String.self, .city)
            asn = c.lenient(Double.self, .asn).flatMap { $0 >= 1 && $0 <= 4_294_967_295 && $0 == $0.rounded() ? Int($0) : nil }
            network = c.lenient(String.self, .network)
            tags = c.lenient([String].self, .tags).map { Array($0.prefix(64)) }
            resolvers = c.lenient([String].self, .resolvers).map { Array($0.prefix(64)) }
            latitude = c.lenient(Double.self, .latitude).flatMap { $0.isFinite && abs($0) <= 90 ? $0 : nil }
            longitude = c.lenient(Double.self, .longitude).flatMap { $0.isFinite && abs($0) <= 180 ? $0 : nil }
        }
    }

    public struct DNSResult: Decodable, Sendable {
        /// One line of dig's answer section as the probe split it. Every field may be missing.
        public struct Answer: Decodable, Sendable {
            public var name: String?
            public var type: String?
            /// As sent: may be negative, fractional, huge or null; see `validTTL`.
            public var ttl: Double?
            public var `class`: String?
            public var value: String?
            enum CodingKeys: String, CodingKey { case name, type, ttl, `class`, value }
            public init(from decoder: Decoder) throws {
                let c = try decoder.container(keyedBy: CodingKeys.self)
                name = c.lenient(String.self, .name)
                type = c.lenient(String.self, .type)
                ttl = c.lenient(Double.self, .ttl)
                `class` = c.lenient(String.self, .class)
                value = c.lenient(String.self, .value)
            }
            /// RFC 2181 §8: a TTL is 0…2^31−1; anything else (or none) counts as 0.
            public var validTTL: UInt32 {
                guard let t = ttl, t.isFinite, t >= 0, t <= 2_147_483_647 else { return 0 }
                return UInt32(t)
            }
        }
        public struct Timings: Decodable, Sendable { public var total: Double? }
        public var status: String
        /// `resolver`, `target` or `internal` when `status` is `failed`.
        public var failureSource: String?
        public var statusCode: Double?
        public var statusCodeName: String?
        public var answers: [Answer]
        public var timings: Timings?
        public var resolver: String?
        /// Dig's output, for people: the spec says not to parse it, and this client does not.
        public var rawOutput: String?

        enum CodingKeys: String, CodingKey { case status, failureSource, statusCode, statusCodeName, answers, timings, resolver, rawOutput }
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            status = try c.decode(String.self, forKey: .status)
            failureSource = c.lenient(String.self, .failureSource)
            statusCode = c.lenient(Double.self, .statusCode)
            statusCodeName = c.lenient(String.self, .statusCodeName)
            timings = c.lenient(Timings.self, .timings)
            resolver = c.lenient(String.self, .resolver)
            rawOutput = c.lenient(String.self, .rawOutput)
            var out: [Answer] = []
            if var list = try? c.nestedUnkeyedContainer(forKey: .answers) {
                while !list.isAtEnd && out.count < Globalping.maxAnswers {
                    if let a = try? list.decode(Answer.self) { out.append(a) } else { _ = try? list.decode(Skip.self) }
                }
            }
            answers = out
        }

        /// The DNS response code, if the probe gave a usable one: the name wins,
        /// a number counts only within 0…4095 (12-bit extended rcode, RFC 6891).
        public var responseCode: ResponseCode? {
            if let name = statusCodeName, let r = ResponseCode(name: name) { return r }
            if let n = statusCode, n.isFinite, n >= 0, n <= 4095, n == n.rounded() { return ResponseCode(rawValue: UInt16(n)) }
            return nil
        }
    }

    /// GET /v1/limits.
    public struct Limits: Decodable, Sendable {
        public struct Create: Decodable, Sendable {
            /// `ip` (anonymous, also a token without a user) or `user`.
            public var type: String?
            public var limit: Int?
            public var remaining: Int?
            public var reset: Int?
        }
        public struct RateLimit: Decodable, Sendable { public struct M: Decodable, Sendable { public var create: Create? }; public var measurements: M? }
        public struct Credits: Decodable, Sendable { public var remaining: Int? }
        public var rateLimit: RateLimit?
        public var credits: Credits?
        public var create: Create? { rateLimit?.measurements?.create }
    }

    public struct ErrorBody: Decodable, Sendable {
        public struct Inner: Decodable, Sendable {
            public var message: String?
            public var type: String?
            /// `validation_error`: field path → message (validate.ts).
            public var params: [String: String]?
            enum CodingKeys: String, CodingKey { case message, type, params }
            public init(from decoder: Decoder) throws {
                let c = try decoder.container(keyedBy: CodingKeys.self)
                message = c.lenient(String.self, .message)
                type = c.lenient(String.self, .type)
                params = c.lenient([String: String].self, .params)
            }
        }
        public var error: Inner?
    }

    /// Consumes one array element of any shape.
    struct Skip: Decodable { init(from decoder: Decoder) throws {} }
}

extension KeyedDecodingContainer {
    /// The value if present and of the right shape, otherwise nil (never throws).
    func lenient<T: Decodable>(_ type: T.Type, _ key: Key) -> T? {
        (try? decodeIfPresent(T.self, forKey: key)) ?? nil
    }
}
