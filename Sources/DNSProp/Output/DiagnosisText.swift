extension CheckReportTable {
    /// The diagnosis as people read it: one sentence first of all, wrapped to the table's 80
    /// columns as the summary line is (continuation lines indented), then one line per
    /// --warn-expiry warning. Escaped: registry text is network text.
    public func diagnosisLines(_ r: PropagationReport) -> [String] {
        guard let d = r.diagnosis else { return [] }
        return Self.wrap("diagnosis: " + TerminalText.escape(d.line), width: 80)
            + d.warnings.flatMap { Self.wrap("warning: " + TerminalText.escape($0), width: 80) }
    }
}
