/// Left-aligned text columns for terminal output. Cells are escaped with
/// `TerminalText` before they are measured, so untrusted text cannot move the cursor.
public struct TextTable {
    public var headers: [String]
    public var rows: [[String]] = []

    public init(headers: [String]) { self.headers = headers }

    public mutating func append(_ row: [String]) { rows.append(row.map(TerminalText.escape)) }

    /// Renders the table; `maxWidths` clips a column (with "…") where given.
    public func render(maxWidths: [Int: Int] = [:]) -> String {
        let clipped = rows.map { row in
            row.enumerated().map { i, cell in Self.clip(cell, to: maxWidths[i]) }
        }
        var widths = headers.map(\.count)
        for row in clipped {
            for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            var parts: [String] = []
            for (i, cell) in cells.enumerated() {
                let isLast = i == cells.count - 1
                parts.append(isLast ? cell : cell + String(repeating: " ", count: max(0, widths[i] - cell.count)))
            }
            var text = parts.joined(separator: "  ")
            while text.hasSuffix(" ") { text.removeLast() }
            return text
        }
        return ([line(headers)] + clipped.map(line)).joined(separator: "\n") + "\n"
    }

    static func clip(_ s: String, to width: Int?) -> String {
        guard let width, s.count > width, width > 1 else { return s }
        return String(s.prefix(width - 1)) + "…"
    }
}
