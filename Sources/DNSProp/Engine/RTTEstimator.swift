/// Smoothed round-trip time and its variation, as RFC 6298 §2 computes them for
/// TCP's retransmission timer: the first sample R sets SRTT = R, RTTVAR = R/2;
/// each later one sets RTTVAR = 3/4·RTTVAR + 1/4·|SRTT − R|, then SRTT = 7/8·SRTT + 1/8·R;
/// RTO = SRTT + max(G, 4·RTTVAR). Seconds throughout.
///
/// Every answer gives an unambiguous sample (Karn's problem does not arise): each
/// attempt carries its own query ID, so an answer says which attempt it answers.
struct RTTEstimator {
    private(set) var smoothed: Double = 0
    private(set) var variation: Double = 0
    private(set) var samples = 0

    mutating func add(_ r: Double) {
        if samples == 0 {
            smoothed = r
            variation = r / 2
        } else {
            variation = 0.75 * variation + 0.25 * abs(smoothed - r)
            smoothed = 0.875 * smoothed + 0.125 * r
        }
        samples += 1
    }

    /// The retransmission timeout, or nil before the first sample.
    func timeout(granularity: Double) -> Double? {
        samples == 0 ? nil : smoothed + max(granularity, 4 * variation)
    }
}
