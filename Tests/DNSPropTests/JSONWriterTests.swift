import Testing
@testable import DNSProp

@Suite("JSON writer")
struct JSONWriterTests {
    @Test func streamingWriterMatchesTheValueTree() throws {
        let template = try QueryTemplate(name: DomainName("example.com"), type: .a)
        let request = QueryRequest(server: try ServerAddress(parsing: "192.0.2.53"), query: template)
        let resolver = Resolver(address: request.server, operatorName: "Test \u{1B}[2J", countryCode: "DE", tags: [.anycast])
        let message = Message(header: Header(id: 1, opcode: 0, rcode: .noError, flags: [.qr, .rd, .ra]),
                              questions: [template.question],
                              answers: [ResourceRecord(owner: "example.com.", type: .txt, ttl: 5, rdataFields: ["\"a\\\"b\u{7}\""])],
                              authority: [ResourceRecord(owner: "example.com.", type: .soa, ttl: 9, rdataFields: ["a.", "b.", "1", "2", "3", "4", "5"])],
                              additional: [], edns: nil)
        let results = [
            QueryResult(index: 0, request: request, outcome: .success(message), attempts: 2, transport: .tcp, rtt: 0.0123456,
                        completedAt: 0, dropped: 0),
            QueryResult(index: 1, request: request, outcome: .failure(.timeout(attempts: 3)), attempts: 3, transport: .udp, rtt: nil,
                        completedAt: 0, dropped: 1),
        ]
        let resolverJSON = ResolverJSON.object(resolver).serialized()
        for r in results {
            var w = JSONWriter()
            RawResultJSON.write(r, resolverJSON: resolverJSON, into: &w)
            #expect(w.out == RawResultJSON.object(r, resolver: resolver).serialized())
        }
    }
}
