/// The parts of Globalping's REST API (v1) that dnsprop uses, as Codable values.
/// Shapes follow jsdelivr/globalping's public/v1/spec.yaml.
public enum Globalping {
    public struct Location: Codable, Sendable, Hashable {
        public var country: String?
        public var continent: String?
        public var city: String?
        public var asn: Int?
        public var magic: String?
        public var tags: [String]?
        public var limit: Int?
        public init(country: String? = nil, continent: String? = nil, city: String? = nil, asn: Int? = nil,
                    magic: String? = nil, tags: [String]? = nil, limit: Int? = nil) {
            self.country = country; self.continent = continent; self.city = city
            self.asn = asn; self.magic = magic; self.tags = tags; self.limit = limit
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
        public var limit: Int?
        public var measurementOptions: Options

        public enum LocationsOrID: Encodable, Sendable {
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
    }

    public struct ProbeResult: Decodable, Sendable {
        public var probe: Probe
        public var result: DNSResult
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
    }

    public struct DNSResult: Decodable, Sendable {
        public struct Answer: Decodable, Sendable {
            public var name: String
            public var type: String
            public var ttl: UInt32
            public var `class`: String?
            public var value: String
        }
        public struct Timings: Decodable, Sendable { public var total: Double? }
        public var status: String
        public var statusCode: Int?
        public var statusCodeName: String?
        public var answers: [Answer]?
        public var timings: Timings?
        public var resolver: String?
        public var rawOutput: String?
    }

    public struct ErrorBody: Decodable, Sendable {
        public struct Inner: Decodable, Sendable { public var message: String?; public var type: String? }
        public var error: Inner?
    }
}
