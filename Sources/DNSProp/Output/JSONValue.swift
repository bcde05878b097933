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
        let sink = JSONByteSink(capacity: 256, fd: nil)
        write(to: sink, pretty: pretty, indent: 0)
        return sink.string
    }

    /// The same as `serialized(pretty:)`, as UTF-8 bytes (what is written to a file descriptor).
    public func serializedBytes(pretty: Bool = false) -> [UInt8] {
        let sink = JSONByteSink(capacity: 256, fd: nil)
        write(to: sink, pretty: pretty, indent: 0)
        return sink.bytes
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
        let sink = JSONByteSink(capacity: JSONByteSink.piece, fd: fd)
        write(to: sink, pretty: pretty, indent: 0)
        trailer.withUnsafeBytes { sink.append($0) }
        sink.flush()
        return !sink.failed
    }

    func write(to out: JSONByteSink, pretty: Bool, indent: Int) {
        switch self {
        case .null: out.append("null")
        case .bool(let b): out.append(b ? "true" : "false")
        case .int(let i): Self.writeInt(i, to: out)
        case .double(let d): Self.writeDouble(d, to: out)
        case .string(let s): Self.writeString(s, to: out)
        case .raw(let json): out.append(json)
        case .array(let items):
            Self.writeArray(count: items.count, to: out, pretty: pretty, indent: indent) { i, sink in
                items[i].write(to: sink, pretty: pretty, indent: indent + 1)
            }
        case .object(let pairs):
            if pairs.isEmpty { out.append("{}"); return }
            out.append(0x7B)
            pairs.withUnsafeBufferPointer { pairs in
                for i in pairs.indices {
                    if i > 0 { out.append(0x2C) }
                    if pretty { out.newline(indent + 1) }
                    Self.writeString(pairs[i].0, to: out)
                    if pretty { out.append(": ") } else { out.append(0x3A) }
                    pairs[i].1.write(to: out, pretty: pretty, indent: indent + 1)
                }
            }
            if pretty { out.newline(indent) }
            out.append(0x7D)
        }
    }

    /// Decimal digits, as `String(i)` writes them.
    /// Arrays longer than this are serialised in chunks of this many elements, in parallel.
    static let parallelChunk = 512

    /// `[`, the `count` elements that `element(i, sink)` writes at depth `indent + 1`, and `]`,
    /// as an array at depth `indent` is serialised. Over `parallelChunk` elements (a check's
    /// thousands of results), chunks are written on every core into sinks of their own and
    /// joined in order: the same bytes as one after another.
    static func writeArray(count: Int, to out: JSONByteSink, pretty: Bool, indent: Int,
                           element: @Sendable (Int, JSONByteSink) -> Void) {
        if count == 0 { out.append("[]"); return }
        @Sendable func write(_ range: Range<Int>, to sink: JSONByteSink) {
            for i in range {
                if i > 0 { sink.append(0x2C) }
                if pretty { sink.newline(indent + 1) }
                element(i, sink)
            }
        }
        out.append(0x5B)
        if count > parallelChunk {
            let pieces = stride(from: 0, to: count, by: parallelChunk).map { $0 }.parallelMap(chunk: 1) { from in
                let piece = JSONByteSink(capacity: 1 << 16, fd: nil)
                write(from..<Swift.min(count, from + parallelChunk), to: piece)
                return piece
            }
            for piece in pieces { out.append(piece) }
        } else {
            write(0..<count, to: out)
        }
        if pretty { out.newline(indent) }
        out.append(0x5D)
    }

    static func writeInt(_ i: Int, to out: JSONByteSink) {
        if i < 0 {
            out.append(0x2D)
            // The magnitude of Int.min does not fit an Int.
            writeUnsigned(UInt(bitPattern: i).magnitudeOfNegative, to: out)
        } else {
            writeUnsigned(UInt(i), to: out)
        }
    }

    static func writeUnsigned(_ v: UInt, to out: JSONByteSink) {
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
            out.append(UnsafeRawBufferPointer(rebasing: buf[(24 - count)...]))
        }
    }

    /// Whole numbers below 1e15 without a fraction, others in Swift's shortest form; not finite: null.
    static func writeDouble(_ d: Double, to out: JSONByteSink) {
        if d.isFinite {
            if d == d.rounded() && abs(d) < 1e15 { writeInt(Int(d), to: out) } else { out.append(String(d)) }
        } else {
            out.append("null")
        }
    }

    static func writeString(_ s: String, to out: JSONByteSink) {
        out.append(0x22)
        // Fast path: printable ASCII without quote or backslash goes out as it is.
        let plain = s.utf8.withContiguousStorageIfAvailable { bytes in
            for b in bytes where !isPlain(b) { return false }
            out.append(UnsafeRawBufferPointer(bytes))
            return true
        }
        if plain == nil, s.utf8.allSatisfy(isPlain) {
            out.append(s)
        } else if plain != true {
            var escaped: [UInt8] = []
            writeEscapedBody(s, to: &escaped)
            escaped.withUnsafeBytes { out.append($0) }
        }
        out.append(0x22)
    }

    /// Printable ASCII without quote or backslash: written as it is.
    @inline(__always)
    static func isPlain(_ byte: UInt8) -> Bool { byte >= 0x20 && byte < 0x7F && byte != 0x22 && byte != 0x5C }

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
        let sink = JSONByteSink(capacity: s.utf8.count + 16, fd: nil)
        writeString(s, to: sink)
        out += sink.string
    }
}

private extension UInt {
    /// |x| for a negative `Int` x given as its bit pattern (two's complement).
    var magnitudeOfNegative: UInt { ~self &+ 1 }
}

/// The bytes of a serialisation as they are made: a buffer that grows, or with a file
/// descriptor, one written out in pieces of about 256 KiB (a check's report runs to
/// megabytes). Appends are pointer writes: a check's JSON is millions of them.
/// `@unchecked Sendable`: used by one thread at a time (a chunk of a large array is
/// serialised into its own sink on another core, then handed back).
final class JSONByteSink: @unchecked Sendable {
    static let piece = 1 << 18
    private var base: UnsafeMutablePointer<UInt8>
    private var count = 0
    private var capacity: Int
    private let fd: Int32?
    private(set) var failed = false

    init(capacity: Int, fd: Int32?) {
        self.capacity = max(capacity, 64)
        self.base = .allocate(capacity: self.capacity)
        self.fd = fd
    }
    deinit { base.deallocate(); newlineAndSpaces.deallocate() }

    var bytes: [UInt8] { Array(UnsafeBufferPointer(start: base, count: count)) }
    var string: String { String(decoding: UnsafeBufferPointer(start: base, count: count), as: UTF8.self) }

    /// Room for `n` more bytes: a file's sink writes out what it holds first.
    @inline(__always)
    private func reserve(_ n: Int) {
        if count + n > capacity { makeRoom(n) }
    }

    private func makeRoom(_ n: Int) {
        if fd != nil { flush() }
        guard count + n > capacity else { return }
        let newCapacity = max(capacity * 2, count + n)
        let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        bigger.update(from: base, count: count)
        base.deallocate()
        base = bigger
        capacity = newCapacity
    }

    @inline(__always)
    func append(_ byte: UInt8) {
        reserve(1)
        base[count] = byte
        count += 1
    }

    @inline(__always)
    func append(_ bytes: UnsafeRawBufferPointer) {
        guard let from = bytes.baseAddress, bytes.count > 0 else { return }
        reserve(bytes.count)
        UnsafeMutableRawPointer(base + count).copyMemory(from: from, byteCount: bytes.count)
        count += bytes.count
    }

    /// Another sink's bytes; a file's sink writes a large piece out as it is.
    func append(_ other: JSONByteSink) {
        let bytes = UnsafeRawBufferPointer(start: other.base, count: other.count)
        if let fd, bytes.count >= capacity / 2 {
            flush()
            write(bytes, to: fd)
        } else {
            append(bytes)
        }
    }

    @inline(__always)
    func append(_ s: StaticString) {
        append(UnsafeRawBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    func append(_ s: String) {
        var s = s
        s.withUTF8 { append(UnsafeRawBufferPointer($0)) }
    }

    /// A newline and two spaces per level.
    @inline(__always)
    func newline(_ indent: Int) {
        var n = 1 + 2 * indent
        if n <= Self.indentLimit {
            append(UnsafeRawBufferPointer(start: newlineAndSpaces, count: n))
            return
        }
        append(0x0A)
        n -= 1
        while n > 0 { append(0x20); n -= 1 }
    }

    private static let indentLimit = 65
    /// "\n" and 64 spaces: the sink's own copy (a static would be a `swift_once` per line).
    private let newlineAndSpaces: UnsafeMutablePointer<UInt8> = {
        let p = UnsafeMutablePointer<UInt8>.allocate(capacity: JSONByteSink.indentLimit)
        p.initialize(repeating: 0x20, count: JSONByteSink.indentLimit)
        p[0] = 0x0A
        return p
    }()

    /// Writes out what the sink holds (a file's sink; unless an earlier write failed) and empties it.
    func flush() {
        guard let fd else { return }
        write(UnsafeRawBufferPointer(start: base, count: count), to: fd)
        count = 0
    }

    private func write(_ bytes: UnsafeRawBufferPointer, to fd: Int32) {
        var offset = 0
        while !failed && offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 { if errno == EINTR { continue }; failed = true; break }
            offset += n
        }
    }
}
