/// Writes compact JSON straight into a string, for hot paths (one NDJSON line per
/// query) where building a `JSONValue` tree first would cost an allocation per node.
/// Strings go through the same escaping as `JSONValue`.
public struct JSONWriter {
    public var out: String
    private var needsComma: [Bool] = []

    public init(into out: String = "") { self.out = out }

    private mutating func separator() {
        if let last = needsComma.last {
            if last { out += "," } else { needsComma[needsComma.count - 1] = true }
        }
    }

    public mutating func beginObject() { separator(); out += "{"; needsComma.append(false) }
    public mutating func endObject() { out += "}"; needsComma.removeLast() }
    public mutating func beginArray() { separator(); out += "["; needsComma.append(false) }
    public mutating func endArray() { out += "]"; needsComma.removeLast() }

    /// A key inside an object; the value follows with one of the value methods.
    public mutating func key(_ k: String) {
        separator()
        JSONValue.writeString(k, to: &out)
        out += ":"
        needsComma[needsComma.count - 1] = false
    }

    public mutating func string(_ s: String) { separator(); JSONValue.writeString(s, to: &out) }
    public mutating func int(_ i: Int) { separator(); out += String(i) }
    public mutating func null() { separator(); out += "null" }
    public mutating func raw(_ json: String) { separator(); out += json }
    public mutating func double(_ d: Double) { separator(); JSONValue.double(d).append(to: &out) }
}
