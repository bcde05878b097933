/// How the classifier compares an answer with `--expect` values, without building sets:
/// the same decision as `AnswerChain.finalValues(chain, type:) == Set(expected)`, which
/// cost two sets and a normalisation (an address parsed and printed again) per answer.
extension VerdictClassifier {
    /// True when the normalised values of `chain`'s final records are exactly the set `expected`
    /// (which holds normalised values: `Truth.expected`).
    static func finalValuesEqual(_ chain: [ResourceRecord], type: RecordType, expected: [String]) -> Bool {
        var seen: [String] = []
        for r in chain where r.type == type {
            let value = r.comparableRdata
            // A value equal to an expected one is in normal form already: normalising is
            // idempotent (expected values are its output), except TXT, whose quotes it strips
            // once per pass.
            let normal = type != .txt && expected.contains(value) ? value : AnswerChain.normalise(value, type: type)
            guard expected.contains(normal) else { return false }
            if !seen.contains(normal) { seen.append(normal) }
        }
        return expected.allSatisfy { seen.contains($0) }
    }
}
