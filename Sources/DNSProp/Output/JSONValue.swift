#if canImport(Glibc)
import Glibc
#endif

/// A JSON value with ordered object keys, and its serialisation.
///
/// Written by hand rather than with JSONEncoder so that key order is stable
/// (schemaVersion first, as documented) and so that every string, which may
/// come from the network, is escaped the same strict way: all C0 controls,
/// DEL and C1 controls as `\uXXXX`, nothing left for a terminal to interpret.
///
/// Serialisation writes UTF-8 bytes into one growing buffer (a check's JSON
/// report runs to megabytes): no intermediate string per value, per number or
/// per indentation. Not `indirect`: arrays already box their elements, and an
/// indirect case would cost a heap allocation for every string and number.
public enum JSONValue: Hashable, Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    /// Already serialised JSON (compact), spliced in as it is: for fragments repeated on every line.
    case raw(String)
    case object([(String, JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool { a.serialized() == b.serialized() }
    public func hash(into h: inout Hasher) { h.combine(serialized()) }

    public static func optional(_ s: String?) -> JSONValue { s.map { .string($0) } ?? .null }
    public static func optional(_ i: Int?) -> JSONValue { i.map { .int($0) } ?? .null }

    /// Compact form (one line: NDJSON) or indented with two spaces.
    public func serialized(pretty: Bool = false) -> String {
        String(decoding: serializedBytes(pretty: pretty), as: UTF8.self)
    }

    /// The same as `serialized(pretty:)`, as UTF-8 bytes (what is written to a file descriptor).
    public func serializedBytes(pretty: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(to: &out, pretty: pretty, indent: 0)
        return out
    }

    /// Appends the compact form to `out` (no intermediate string per value).
    public func append(to out: inout String) {
        out += serialized()
    }

    /// Writes the serialised form, then `trailer`, to a file descriptor in pieces of about
    /// 256 KiB as it is made (a check's report runs to megabytes: no buffer grows to its
    /// size). False when a write failed; nothing more is written then.
    @discardableResult
    public func write(toFileDescriptor fd: Int32, pretty: Bool, trailer: [UInt8] = []) -> Bool {
        let sink = JSONFileSink(fd: fd)
        var out: [UInt8] = []
        out.reserveCapacity(JSONFileSink.piece + 65536)
        write(to: &out, pretty: pretty, indent: 0, sink: sink)
        out += trailer
        sink.flush(&out)
        return !sink.failed
    }

    /// Appends the serialised form to `out` as UTF-8; `indent` is the depth the value sits at.
    public func write(to out: inout [UInt8], pretty: Bool, indent: Int) {
        write(to: &out, pretty: pretty, indent: indent, sink: nil)
    }

    private func write(to out: inout [UInt8], pretty: Bool, indent: Int, sink: JSONFileSink?) {
        switch self {
        case .null: Self.appendASCII("null", to: &out)
        case .bool(let b): Self.appendASCII(b ? "true" : "false", to: &out)
        case .int(let i): Self.writeInt(i, to: &out)
        case .double(let d): Self.writeDouble(d, to: &out)
        case .string(let s): Self.writeString(s, to: &out)
        case .raw(let json): out.append(contentsOf: json.utf8)
        case .array(let items):
            if items.isEmpty { out.append(0x5B); out.append(0x5D); return }   // []
            out.append(0x5B)
            var first = true
            for item in items {
                if !first { out.append(0x2C) }
                first = false
                if pretty { Self.newline(indent + 1, to: &out) }
                item.write(to: &out, pretty: pretty, indent: indent + 1, sink: sink)
                if let sink, out.count >= JSONFileSink.piece { sink.flush(&out) }
            }
            if pretty { Self.newline(indent, to: &out) }
            out.append(0x5D)
        case .object(let pairs):
            if pairs.isEmpty { out.append(0x7B); out.append(0x7D); return }   // {}
            out.append(0x7B)
            var first = true
            for (key, value) in pairs {
                if !first { out.append(0x2C) }
                first = false
                if pretty { Self.newline(indent + 1, to: &out) }
                Self.writeString(key, to: &out)
                out.append(0x3A)
                if pretty { out.append(0x20) }
                value.write(to: &out, pretty: pretty, indent: indent + 1, sink: sink)
            }
            if pretty { Self.newline(indent, to: &out) }
            out.append(0x7D)
        }
    }

    /// A newline and two spaces per level.
    @inline(__always)
    static func newline(_ indent: Int, to out: inout [UInt8]) {
        out.append(0x0A)
        var spaces = 2 * indent
        while spaces > 0 {
            let n = min(spaces, Self.spaces.count)
            out.append(contentsOf: Self.spaces[..<n])
            spaces -= n
        }
    }

    private static let spaces = [UInt8](repeating: 0x20, count: 32)

    @inline(__always)
    static func appendASCII(_ s: StaticString, to out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    /// Decimal digits, as `String(i)` writes them.
    static func writeInt(_ i: Int, to out: inout [UInt8]) {
        if i < 0 {
            out.append(0x2D)
            // The magnitude of Int.min does not fit an Int.
            writeUnsigned(UInt(bitPattern: i).magnitudeOfNegative, to: &out)
        } else {
            writeUnsigned(UInt(i), to: &out)
        }
    }

    static func writeUnsigned(_ v: UInt, to out: inout [UInt8]) {
        if v < 10 { out.append(0x30 + UInt8(v)); return }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)   // 24 bytes: UInt.max has 20 digits
        var n = v
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buf in
            while n > 0 {
                count += 1
                buf[24 - count] = 0x30 + UInt8(n % 10)
                n /= 10
            }
            out.append(contentsOf: buf[(24 - count)...])
        }
    }

    /// Whole numbers below 1e15 without a fraction, others in Swift's shortest form; not finite: null.
    static func writeDouble(_ d: Double, to out: inout [UInt8]) {
        if d.isFinite {
            if d == d.rounded() && abs(d) < 1e15 { writeInt(Int(d), to: &out) } else { out.append(contentsOf: String(d).utf8) }
        } else {
            appendASCII("null", to: &out)
        }
    }

    /// Printable ASCII without quote or backslash: written as it is.
    @inline(__always)
    static func isPlain(_ byte: UInt8) -> Bool { byte >= 0x20 && byte < 0x7F && byte != 0x22 && byte != 0x5C }

    static func writeString(_ s: String, to out: inout [UInt8]) {
        out.append(0x22)
        // Fast path: printable ASCII without quote or backslash goes out as it is.
        let plain: Bool? = s.utf8.withContiguousStorageIfAvailable { bytes in
            for b in bytes where !isPlain(b) { return false }
            out.append(contentsOf: bytes)
            return true
        }
        if plain == true { out.append(0x22); return }
        if plain == nil, s.utf8.allSatisfy(isPlain) {
            out.append(contentsOf: s.utf8)
            out.append(0x22)
            return
        }
        writeEscapedBody(s, to: &out)
        out.append(0x22)
    }

    /// The string's characters with JSON's escapes and `TerminalText`'s invisible
    /// characters as `\uXXXX` (UTF-16 units, so a surrogate pair beyond the BMP).
    static func writeEscapedBody(_ s: String, to out: inout [UInt8]) {
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out.append(0x5C); out.append(0x22)
            case "\\": out.append(0x5C); out.append(0x5C)
            case "\n": out.append(0x5C); out.append(0x6E)
            case "\r": out.append(0x5C); out.append(0x72)
            case "\t": out.append(0x5C); out.append(0x74)
            default:
                if TerminalText.needsEscape(scalar) {
                    for unit in String(scalar).utf16 {
                        let hex = String(unit, radix: 16)
                        out.append(0x5C); out.append(0x75)   // \u
                        for _ in 0..<(4 - hex.count) { out.append(0x30) }
                        out.append(contentsOf: hex.utf8)
                    }
                } else {
                    out.append(contentsOf: scalar.utf8)
                }
            }
        }
    }

    /// The same escaping, appended to a string (`JSONWriter`).
    static func writeString(_ s: String, to out: inout String) {
        if s.utf8.allSatisfy(isPlain) {
            out += "\""
            out += s
            out += "\""
            return
        }
        var bytes: [UInt8] = []
        writeString(s, to: &bytes)
        out += String(decoding: bytes, as: UTF8.self)
    }
}

private extension UInt {
    /// |x| for a negative `Int` x given as its bit pattern (two's complement).
    var magnitudeOfNegative: UInt { ~self &+ 1 }
}

/// Where `JSONValue.write(toFileDescriptor:)` empties its buffer.
private final class JSONFileSink {
    static let piece = 1 << 18
    let fd: Int32
    var failed = false
    init(fd: Int32) { self.fd = fd }

    /// Writes all of `out` (unless an earlier write failed) and empties it.
    func flush(_ out: inout [UInt8]) {
        var offset = 0
        while !failed && offset < out.count {
            let n = out.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 { if errno == EINTR { continue }; failed = true; break }
            offset += n
        }
        out.removeAll(keepingCapacity: true)
    }
}
