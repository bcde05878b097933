/// Where the members of a JSON object go, so that an object's shape is written once and
/// serves two ends: a `JSONValue` tree (`JSONPairs`), or indented bytes written straight
/// into a sink (`JSONSinkObject`) without a tree: a check's thousands of results.
/// Both ends give the same bytes once serialised (`JSONSerialisationTests`).
protocol JSONObjectEmitter {
    mutating func member(_ key: StaticString, _ value: JSONValue)
    mutating func member(_ key: StaticString, string: String)
    mutating func member(_ key: StaticString, string: String?)
    mutating func member(_ key: StaticString, int: Int)
    mutating func member(_ key: StaticString, bool: Bool)
    mutating func member(_ key: StaticString, strings: [String])
    /// A member whose value is an object, emitted by `body` into an emitter of the same kind.
    mutating func member(_ key: StaticString, object body: (inout Self) -> Void)
}

/// Members collected as `(key, JSONValue)` pairs: `.object(pairs)`.
struct JSONPairs: JSONObjectEmitter {
    var pairs: [(String, JSONValue)] = []

    init(capacity: Int = 16) { pairs.reserveCapacity(capacity) }

    mutating func member(_ key: StaticString, _ value: JSONValue) { pairs.append((key.description, value)) }
    mutating func member(_ key: StaticString, string: String) { member(key, .string(string)) }
    mutating func member(_ key: StaticString, string: String?) { member(key, .optional(string)) }
    mutating func member(_ key: StaticString, int: Int) { member(key, .int(int)) }
    mutating func member(_ key: StaticString, bool: Bool) { member(key, .bool(bool)) }
    mutating func member(_ key: StaticString, strings: [String]) { member(key, .array(strings.map { .string($0) })) }
    mutating func member(_ key: StaticString, object body: (inout JSONPairs) -> Void) {
        var inner = JSONPairs()
        body(&inner)
        member(key, .object(inner.pairs))
    }
}

/// Members written into `sink` as `JSONValue.write(pretty: true)` writes an object at
/// depth `indent`: call `begin()`, the members, then `end()`.
struct JSONSinkObject: JSONObjectEmitter {
    let sink: JSONByteSink
    let indent: Int
    private var empty = true

    init(sink: JSONByteSink, indent: Int) {
        self.sink = sink
        self.indent = indent
    }

    func begin() { sink.append(0x7B) }

    func end() {
        if empty { sink.append(0x7D); return }   // {}
        sink.newline(indent)
        sink.append(0x7D)
    }

    /// Keys are this program's own identifiers (plain ASCII, nothing to escape).
    private mutating func key(_ key: StaticString) {
        if !empty { sink.append(0x2C) }
        empty = false
        sink.newline(indent + 1)
        sink.append(0x22)
        sink.append(key)
        sink.append("\": ")
    }

    mutating func member(_ key: StaticString, _ value: JSONValue) {
        self.key(key)
        value.write(to: sink, pretty: true, indent: indent + 1)
    }

    mutating func member(_ key: StaticString, string: String) {
        self.key(key)
        JSONValue.writeString(string, to: sink)
    }

    mutating func member(_ key: StaticString, string: String?) {
        self.key(key)
        if let string { JSONValue.writeString(string, to: sink) } else { sink.append("null") }
    }

    mutating func member(_ key: StaticString, int: Int) {
        self.key(key)
        JSONValue.writeInt(int, to: sink)
    }

    mutating func member(_ key: StaticString, bool: Bool) {
        self.key(key)
        sink.append(bool ? "true" : "false")
    }

    mutating func member(_ key: StaticString, strings: [String]) {
        self.key(key)
        JSONValue.writeArray(count: strings.count, to: sink, pretty: true, indent: indent + 1) { i, sink in
            JSONValue.writeString(strings[i], to: sink)
        }
    }

    mutating func member(_ key: StaticString, object body: (inout JSONSinkObject) -> Void) {
        self.key(key)
        var inner = JSONSinkObject(sink: sink, indent: indent + 1)
        inner.begin()
        body(&inner)
        inner.end()
    }
}
