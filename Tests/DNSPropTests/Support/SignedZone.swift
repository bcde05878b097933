import Foundation
@testable import DNSProp

/// Zones signed in the test with Debian's ldnsutils (ldns-keygen, ldns-signzone), the
/// same tools the testbed signs with, read back record by record through ldns.
enum ZoneSigner {
    struct Key { var base: String; var ds: ResourceRecord; var dnskey: ResourceRecord }

    static func run(_ tool: String, _ arguments: [String], in dir: URL) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/" + tool)
        p.arguments = arguments
        p.currentDirectoryURL = dir
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw SignError.failed("\(tool) \(arguments.joined(separator: " ")) exited \(p.terminationStatus)") }
        return String(decoding: data, as: UTF8.self)
    }

    enum SignError: Error { case failed(String) }

    static func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dnsprop-signed-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// A new ECDSA P-256 key (flags 257) for `origin`.
    static func key(_ origin: String, in dir: URL) throws -> Key {
        let base = try run("ldns-keygen", ["-a", "ECDSAP256SHA256", "-k", origin], in: dir).trimmingCharacters(in: .whitespacesAndNewlines)
        let ds = try records(String(contentsOf: dir.appendingPathComponent(base + ".ds"), encoding: .utf8))[0]
        let dnskey = try records(String(contentsOf: dir.appendingPathComponent(base + ".key"), encoding: .utf8))[0]
        return Key(base: base, ds: ds, dnskey: dnskey)
    }

    /// Signs `zone` (zone-file text) for `origin` with `key`; extra ldns-signzone options
    /// (`-e 20200101000000`) go before the files. Returns every record of the signed zone.
    static func sign(_ origin: String, _ zone: String, key: Key, in dir: URL, options: [String] = []) throws -> [ResourceRecord] {
        let name = "zone-\(origin)-\(UUID().uuidString)"
        try zone.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8)
        _ = try run("ldns-signzone", options + ["-o", origin, "-f", name + ".signed", name, key.base], in: dir)
        return try records(String(contentsOf: dir.appendingPathComponent(name + ".signed"), encoding: .utf8))
    }

    static func records(_ text: String) throws -> [ResourceRecord] {
        try text.split(separator: "\n").compactMap { line -> ResourceRecord? in
            let l = line.trimmingCharacters(in: .whitespaces)
            if l.isEmpty || l.hasPrefix(";") { return nil }
            return try DNSSECVerifier.parseRecord(l).get()
        }
    }
}

/// A signed zone an in-process responder serves as nsd would: RRSIGs with DO, signed
/// referrals carrying the DS RRset (or the NSEC that proves there is none), NODATA
/// with the SOA and NSEC.
struct SignedZone: Sendable {
    var apex: String
    var records: [ResourceRecord]
    /// child zone -> glue
    var glue: [String: [ResourceRecord]] = [:]

    static func lower(_ s: String) -> String { s.lowercased() }

    func answer(_ query: Message) -> [UInt8] {
        let q = query.questions[0]
        let qname = q.name.lowercased()
        let dnssec = query.edns?.dnssecOK == true
        func below(_ name: String, _ zone: String) -> Bool { zone == "." || name == zone || name.hasSuffix("." + zone) }
        func at(_ owner: String, _ type: RecordType) -> [ResourceRecord] {
            let set = records.filter { $0.owner.lowercased() == owner && $0.type == type }
            guard dnssec, !set.isEmpty else { return set }
            return set + records.filter { $0.owner.lowercased() == owner && $0.type == .rrsig && $0.rdataFields.first == type.name }
        }
        let edns = query.edns.map { EDNS(udpPayloadSize: 1232, version: 0, dnssecOK: $0.dnssecOK, extendedRcode: 0, options: []) }
        func reply(_ flags: Header.Flags, _ answers: [ResourceRecord], _ authority: [ResourceRecord], _ additional: [ResourceRecord] = [],
                   rcode: ResponseCode = .noError) -> [UInt8] {
            let m = Message(header: Header(id: query.header.id, opcode: 0, rcode: rcode, flags: flags),
                            questions: [q], answers: answers, authority: authority, additional: additional, edns: edns)
            return try! MessageEncoder.encode(m)
        }
        let cuts = Set(records.filter { $0.type == .ns && $0.owner.lowercased() != apex }.map { $0.owner.lowercased() })
        for child in cuts where below(qname, child) {
            if qname == child && q.type == .ds {
                let ds = at(child, .ds)
                return ds.isEmpty ? reply([.qr, .aa], [], at(apex, .soa) + at(child, .nsec)) : reply([.qr, .aa], ds, [])
            }
            let ds = at(child, .ds)
            return reply([.qr], [], at(child, .ns) + (ds.isEmpty ? at(child, .nsec) : ds), glue[child] ?? [])
        }
        let answers = at(qname, q.type)
        if !answers.isEmpty { return reply([.qr, .aa], answers, []) }
        let exists = records.contains { $0.owner.lowercased() == qname }
        return reply([.qr, .aa], [], at(apex, .soa) + at(qname, .nsec), rcode: exists ? .noError : .nxDomain)
    }
}
