import CLDNS

// The only place in the library that touches ldns pointers.
//
// Ownership rule: every ldns object is created and freed inside one function
// here (with `defer` right after the allocation), and only Swift values leave.

/// Decodes wire bytes into a `Message`.
public enum MessageDecoder {
    /// Decodes a DNS message. Malformed input throws a `WireError`; it never traps.
    public static func decode(_ bytes: [UInt8]) throws(WireError) -> Message {
        let result: Result<Message, WireError> = bytes.withUnsafeBytes { raw in
            do throws(WireError) { return .success(try decode(raw)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// The private-use type (RFC 6895) that opaque records travel through ldns as.
    static let opaqueType: UInt16 = 0xFF7F

    public static func decode(_ raw: UnsafeRawBufferPointer) throws(WireError) -> Message {
        let summary = try WireValidator.validate(raw)
        guard !summary.opaqueTypeOffsets.isEmpty else { return try decodeValidated(raw, summary: summary) }
        // Rewrite the types ldns should not parse in a copy, and put them back afterwards.
        var copy = Array(raw)
        var originals: [Int: UInt16] = [:]
        for offset in summary.opaqueTypeOffsets {
            originals[offset] = UInt16(copy[offset]) << 8 | UInt16(copy[offset + 1])
            copy[offset] = UInt8(opaqueType >> 8)
            copy[offset + 1] = UInt8(opaqueType & 0xFF)
        }
        let ordered = summary.opaqueTypeOffsets.sorted().map { originals[$0]! }
        let result: Result<Message, WireError> = copy.withUnsafeBytes { buffer in
            do throws(WireError) {
                return .success(try decodeValidated(buffer, summary: summary, restoring: ordered))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    private static func decodeValidated(_ raw: UnsafeRawBufferPointer, summary: WireValidator.Summary,
                                        restoring: [UInt16] = []) throws(WireError) -> Message {
        var packet: UnsafeMutablePointer<ldns_pkt>? = nil
        let status = ldns_wire2pkt(&packet, raw.baseAddress!.assumingMemoryBound(to: UInt8.self), raw.count)
        guard status == LDNS_STATUS_OK, let packet else {
            if let packet { ldns_pkt_free(packet) }
            throw .ldns(status: Int32(bitPattern: status.rawValue), message: LDNSText.status(status))
        }
        defer { ldns_pkt_free(packet) }

        var edns: EDNS? = nil
        var rcodeValue = UInt16(ldns_pkt_get_rcode(packet).rawValue & 0x0F)
        if summary.hasOPT {
            var options: [UInt8] = []
            if let data = ldns_pkt_edns_data(packet) {
                options = LDNSText.bytes(of: data)
            }
            let extended = ldns_pkt_edns_extended_rcode(packet)
            rcodeValue |= UInt16(extended) << 4
            edns = EDNS(udpPayloadSize: ldns_pkt_edns_udp_size(packet),
                        version: ldns_pkt_edns_version(packet),
                        dnssecOK: ldns_pkt_edns_do(packet),
                        extendedRcode: extended,
                        options: options)
        }

        var flags: Header.Flags = []
        if ldns_pkt_qr(packet) { flags.insert(.qr) }
        if ldns_pkt_aa(packet) { flags.insert(.aa) }
        if ldns_pkt_tc(packet) { flags.insert(.tc) }
        if ldns_pkt_rd(packet) { flags.insert(.rd) }
        if ldns_pkt_ra(packet) { flags.insert(.ra) }
        if ldns_pkt_ad(packet) { flags.insert(.ad) }
        if ldns_pkt_cd(packet) { flags.insert(.cd) }
        let header = Header(id: ldns_pkt_id(packet),
                            opcode: UInt8(truncatingIfNeeded: ldns_pkt_get_opcode(packet).rawValue),
                            rcode: ResponseCode(rawValue: rcodeValue),
                            flags: flags)

        let questions = records(ldns_pkt_question(packet)).map {
            Question(name: LDNSText.string(ldns_rr_owner($0)),
                     type: RecordType(rawValue: UInt16(ldns_rr_get_type($0).rawValue)),
                     recordClass: RecordClass(rawValue: UInt16(ldns_rr_get_class($0).rawValue)))
        }
        var message = Message(header: header,
                              questions: questions,
                              answers: records(ldns_pkt_answer(packet)).map(resourceRecord),
                              authority: records(ldns_pkt_authority(packet)).map(resourceRecord),
                              additional: records(ldns_pkt_additional(packet)).map(resourceRecord),
                              edns: edns)
        // Opaque records come back in wire order (OPT, which ldns removes, is never opaque).
        if !restoring.isEmpty {
            var next = 0
            func restore(_ list: inout [ResourceRecord]) {
                for i in list.indices where list[i].type.rawValue == opaqueType && next < restoring.count {
                    list[i].type = RecordType(rawValue: restoring[next])
                    next += 1
                }
            }
            restore(&message.answers)
            restore(&message.authority)
            restore(&message.additional)
        }
        return message
    }

    private static func records(_ list: UnsafeMutablePointer<ldns_rr_list>?) -> [UnsafeMutablePointer<ldns_rr>] {
        guard let list else { return [] }
        let count = ldns_rr_list_rr_count(list)
        var out: [UnsafeMutablePointer<ldns_rr>] = []
        out.reserveCapacity(count)
        for i in 0..<count {
            if let rr = ldns_rr_list_rr(list, i) { out.append(rr) }
        }
        return out
    }

    private static func resourceRecord(_ rr: UnsafeMutablePointer<ldns_rr>) -> ResourceRecord {
        let type = RecordType(rawValue: UInt16(ldns_rr_get_type(rr).rawValue))
        let count = ldns_rr_rd_count(rr)
        var fields: [String] = []
        fields.reserveCapacity(count)
        if type == .wks || type.rawValue == opaqueType {
            // Opaque to ldns (see WireValidator.ldnsParsedTypes); WKS is among them because of
            // ldns #201 (use-after-free in its WKS printer). Printed generically (RFC 3597).
            var data: [UInt8] = []
            for i in 0..<count { if let rdf = ldns_rr_rdf(rr, i) { data += LDNSText.bytes(of: rdf) } }
            fields = LDNSText.generic(data)
        } else {
            for i in 0..<count {
                guard let rdf = ldns_rr_rdf(rr, i) else { continue }
                fields.append(LDNSText.presentation(rdf))
            }
        }
        return ResourceRecord(owner: LDNSText.string(ldns_rr_owner(rr)),
                              type: type,
                              recordClass: RecordClass(rawValue: UInt16(ldns_rr_get_class(rr).rawValue)),
                              ttl: ldns_rr_ttl(rr),
                              rdataFields: fields)
    }
}

/// Options for an outgoing query.
public struct QueryOptions: Hashable, Sendable {
    /// RD: ask for recursion (on for resolvers, off for authoritative servers).
    public var recursionDesired: Bool
    /// CD: checking disabled (RFC 4035 §3.2.2).
    public var checkingDisabled: Bool
    /// DO: DNSSEC records wanted (RFC 3225). Only sent with EDNS.
    public var dnssecOK: Bool
    /// EDNS(0) UDP payload size; `nil` sends no OPT record. 1232 avoids IP fragmentation (DNS Flag Day 2020).
    public var ednsUDPSize: UInt16?
    /// Options sent in the OPT record (only with EDNS), e.g. an empty NSID (RFC 5001).
    public var ednsOptions: [EDNSOption]
    /// AD in the query: the resolver is to say in its answer's AD bit whether it validated
    /// the data, without DO's signatures (RFC 6840 §5.7).
    public var authenticatedData = false

    public init(recursionDesired: Bool = true, checkingDisabled: Bool = false,
                dnssecOK: Bool = false, ednsUDPSize: UInt16? = 1232, ednsOptions: [EDNSOption] = []) {
        self.recursionDesired = recursionDesired
        self.checkingDisabled = checkingDisabled
        self.dnssecOK = dnssecOK
        self.ednsUDPSize = ednsUDPSize
        self.ednsOptions = ednsOptions
    }

    /// Recursive, asking the server to name itself (NSID, RFC 5001): what check and watch send.
    public static let recursiveWithNSID = QueryOptions(ednsOptions: [EDNSOption(code: EDNSOption.nsidCode, value: [])])

    public static let recursive = QueryOptions()
    public static let authoritative = QueryOptions(recursionDesired: false)
}

/// A query encoded once and sent many times: only the ID changes between sends.
public struct QueryTemplate: Hashable, Sendable {
    public let question: Question
    public let options: QueryOptions
    /// The encoded query with ID 0.
    public let wire: [UInt8]

    public init(name: DomainName, type: RecordType, recordClass: RecordClass = .in,
                options: QueryOptions = .recursive) throws(WireError) {
        self.question = Question(name: name.text, type: type, recordClass: recordClass)
        self.options = options
        self.wire = try QueryEncoder.encode(name: name.text, type: type, recordClass: recordClass, options: options)
    }

    /// The query bytes with `id` in the header.
    public func wire(id: UInt16) -> [UInt8] {
        var bytes = wire
        bytes[0] = UInt8(id >> 8)
        bytes[1] = UInt8(id & 0xFF)
        return bytes
    }
}

enum QueryEncoder {
    static func encode(name: String, type: RecordType, recordClass: RecordClass, options: QueryOptions) throws(WireError) -> [UInt8] {
        guard let owner = ldns_dname_new_frm_str(name) else {
            throw .ldns(status: Int32(bitPattern: LDNS_STATUS_ERR.rawValue), message: "ldns rejected the name \(name)")
        }
        // ldns_pkt_query_new takes ownership of `owner`.
        guard let packet = ldns_pkt_query_new(owner, ldns_rr_type(rawValue: UInt32(type.rawValue)),
                                              ldns_rr_class(rawValue: UInt32(recordClass.rawValue)), 0) else {
            throw .ldns(status: Int32(bitPattern: LDNS_STATUS_MEM_ERR.rawValue), message: "out of memory")
        }
        defer { ldns_pkt_free(packet) }
        ldns_pkt_set_id(packet, 0)
        ldns_pkt_set_rd(packet, options.recursionDesired)
        ldns_pkt_set_cd(packet, options.checkingDisabled)
        ldns_pkt_set_ad(packet, options.authenticatedData)
        if let size = options.ednsUDPSize {
            // Set the size whenever EDNS is on: with only DO set, ldns would advertise 0.
            ldns_pkt_set_edns_udp_size(packet, size)
            ldns_pkt_set_edns_do(packet, options.dnssecOK)
            let data = options.ednsOptions.flatMap(\.wire)
            if !data.isEmpty {
                // The packet owns the rdf from here (ldns_pkt_free frees it).
                guard let rdf = data.withUnsafeBufferPointer({ ldns_rdf_new_frm_data(LDNS_RDF_TYPE_UNKNOWN, $0.count, $0.baseAddress) }) else {
                    throw .ldns(status: Int32(bitPattern: LDNS_STATUS_MEM_ERR.rawValue), message: "out of memory")
                }
                ldns_pkt_set_edns_data(packet, rdf)
            }
        }
        return try LDNSText.wire(packet)
    }
}

/// Encodes whole messages: used by the test responders and the fuzz seeds to
/// build answers from Swift values, through the same library that decodes them.
public enum MessageEncoder {
    public static func encode(_ message: Message) throws(WireError) -> [UInt8] {
        guard let packet = ldns_pkt_new() else {
            throw .ldns(status: Int32(bitPattern: LDNS_STATUS_MEM_ERR.rawValue), message: "out of memory")
        }
        defer { ldns_pkt_free(packet) }
        let h = message.header
        ldns_pkt_set_id(packet, h.id)
        ldns_pkt_set_opcode(packet, ldns_pkt_opcode(rawValue: UInt32(h.opcode)))
        ldns_pkt_set_rcode(packet, UInt8(h.rcode.rawValue & 0x0F))
        ldns_pkt_set_qr(packet, h.flags.contains(.qr))
        ldns_pkt_set_aa(packet, h.flags.contains(.aa))
        ldns_pkt_set_tc(packet, h.flags.contains(.tc))
        ldns_pkt_set_rd(packet, h.flags.contains(.rd))
        ldns_pkt_set_ra(packet, h.flags.contains(.ra))
        ldns_pkt_set_ad(packet, h.flags.contains(.ad))
        ldns_pkt_set_cd(packet, h.flags.contains(.cd))
        if let edns = message.edns {
            ldns_pkt_set_edns_udp_size(packet, edns.udpPayloadSize)
            ldns_pkt_set_edns_version(packet, edns.version)
            ldns_pkt_set_edns_do(packet, edns.dnssecOK)
            ldns_pkt_set_edns_extended_rcode(packet, UInt8(truncatingIfNeeded: h.rcode.rawValue >> 4))
            if !edns.options.isEmpty,
               let rdf = edns.options.withUnsafeBufferPointer({ ldns_rdf_new_frm_data(LDNS_RDF_TYPE_UNKNOWN, $0.count, $0.baseAddress) }) {
                ldns_pkt_set_edns_data(packet, rdf)  // the packet owns rdf from here
            }
        }
        for q in message.questions {
            var rr: UnsafeMutablePointer<ldns_rr>? = nil
            let status = ldns_rr_new_question_frm_str(&rr, "\(q.name) \(q.recordClass) \(q.type)", nil, nil)
            guard status == LDNS_STATUS_OK, let rr else {
                throw .ldns(status: Int32(bitPattern: status.rawValue), message: "question \(q): \(LDNSText.status(status))")
            }
            _ = ldns_pkt_push_rr(packet, LDNS_SECTION_QUESTION, rr)  // the packet owns rr from here
        }
        let sections: [([ResourceRecord], ldns_pkt_section)] = [
            (message.answers, LDNS_SECTION_ANSWER), (message.authority, LDNS_SECTION_AUTHORITY),
            (message.additional, LDNS_SECTION_ADDITIONAL),
        ]
        for (records, section) in sections {
            for record in records {
                var rr: UnsafeMutablePointer<ldns_rr>? = nil
                let status = ldns_rr_new_frm_str(&rr, record.description, 0, nil, nil)
                guard status == LDNS_STATUS_OK, let rr else {
                    throw .ldns(status: Int32(bitPattern: status.rawValue), message: "record \(record): \(LDNSText.status(status))")
                }
                _ = ldns_pkt_push_rr(packet, section, rr)
            }
        }
        return try LDNSText.wire(packet)
    }
}

/// Small conversions from ldns values to Swift ones; each frees what ldns allocated.
enum LDNSText {
    static func status(_ status: ldns_status) -> String {
        guard let text = ldns_get_errorstr_by_id(status) else { return "unknown ldns status \(status.rawValue)" }
        return String(cString: text)
    }

    static func string(_ rdf: UnsafeMutablePointer<ldns_rdf>?) -> String {
        guard let rdf else { return "" }
        return presentation(rdf)
    }

    /// `ldns_rdf2str`, or the RFC 3597 generic form when ldns cannot print the field.
    /// The fields every answer has (addresses, names, 16-bit numbers) are printed here
    /// directly, exactly as ldns prints them: ldns_rdf2str allocates a 64 KiB buffer
    /// and goes through printf for every field.
    static func presentation(_ rdf: UnsafeMutablePointer<ldns_rdf>) -> String {
        let type = ldns_rdf_get_type(rdf)
        let size = ldns_rdf_size(rdf)
        if let data = ldns_rdf_data(rdf) {
            if type == LDNS_RDF_TYPE_A && size == 4 {
                return "\(data[0]).\(data[1]).\(data[2]).\(data[3])"
            }
            if type == LDNS_RDF_TYPE_AAAA && size == 16 {
                return IPAddress(v6Bytes: Array(UnsafeBufferPointer(start: data, count: 16))).description
            }
            if type == LDNS_RDF_TYPE_DNAME, let name = dname(UnsafeBufferPointer(start: data, count: size)) {
                return name
            }
            if type == LDNS_RDF_TYPE_INT16 && size == 2 {
                return String(UInt16(data[0]) << 8 | UInt16(data[1]))
            }
        }
        guard let text = ldns_rdf2str(rdf) else { return generic(bytes(of: rdf)).joined(separator: " ") }
        defer { free(text) }
        return String(decoding: UnsafeRawBufferPointer(start: text, count: strlen(text)), as: UTF8.self)
    }

    /// A wire-format name as `ldns_rdf2buffer_str_dname` (host2str.c, ldns 1.8.3) prints it:
    /// `.` `;` `(` `)` `\` as `\c`, bytes that are not ASCII graphic characters as `\DDD`,
    /// a dot after every label, `.` for the root. nil when the labels do not fill the field
    /// exactly or it is longer than 255 bytes: ldns then decides (and may refuse).
    static func dname(_ data: UnsafeBufferPointer<UInt8>) -> String? {
        let size = data.count
        guard size >= 1, size <= 255 else { return nil }
        if size == 1 { return data[0] == 0 ? "." : nil }
        // Check the structure and measure the text first: one allocation.
        var pos = 0, length = 0
        while true {
            let len = Int(data[pos])
            if len == 0 { guard pos == size - 1 else { return nil }; break }
            guard len <= 63, pos + 1 + len < size else { return nil }
            for k in (pos + 1)...(pos + len) {
                let c = data[k]
                if c == 0x2E || c == 0x3B || c == 0x28 || c == 0x29 || c == 0x5C { length += 2 }
                else if c < 0x21 || c > 0x7E { length += 4 } else { length += 1 }
            }
            length += 1
            pos += 1 + len
        }
        return String(unsafeUninitializedCapacity: length) { out in
            var i = 0, pos = 0
            while data[pos] != 0 {
                let len = Int(data[pos])
                for k in (pos + 1)...(pos + len) {
                    let c = data[k]
                    if c == 0x2E || c == 0x3B || c == 0x28 || c == 0x29 || c == 0x5C {
                        out[i] = 0x5C; out[i + 1] = c; i += 2
                    } else if c < 0x21 || c > 0x7E {
                        out[i] = 0x5C
                        out[i + 1] = 0x30 + c / 100; out[i + 2] = 0x30 + (c / 10) % 10; out[i + 3] = 0x30 + c % 10
                        i += 4
                    } else {
                        out[i] = c; i += 1
                    }
                }
                out[i] = 0x2E; i += 1
                pos += 1 + len
            }
            return i
        }
    }

    static func bytes(of rdf: UnsafeMutablePointer<ldns_rdf>) -> [UInt8] {
        let size = ldns_rdf_size(rdf)
        guard size > 0, let data = ldns_rdf_data(rdf) else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: size))
    }

    /// RFC 3597 §5: `\# <length> <hex>`.
    static func generic(_ data: [UInt8]) -> [String] {
        let hex = data.map { byte -> String in
            let s = String(byte, radix: 16, uppercase: true)
            return s.count == 1 ? "0" + s : s
        }.joined()
        return data.isEmpty ? ["\\#", "0"] : ["\\#", String(data.count), hex]
    }

    static func wire(_ packet: UnsafeMutablePointer<ldns_pkt>) throws(WireError) -> [UInt8] {
        var buffer: UnsafeMutablePointer<UInt8>? = nil
        var size = 0
        let status = ldns_pkt2wire(&buffer, packet, &size)
        guard status == LDNS_STATUS_OK, let buffer else {
            if let buffer { free(buffer) }
            throw .ldns(status: Int32(bitPattern: status.rawValue), message: LDNSText.status(status))
        }
        defer { free(buffer) }
        return Array(UnsafeBufferPointer(start: buffer, count: size))
    }
}
