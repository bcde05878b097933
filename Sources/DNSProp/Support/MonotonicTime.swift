/// Monotonic seconds, for measuring how long something took.
public enum MonotonicTime {
    public static func now() -> Double { Double(MonotonicClock.now()) / 1e9 }
}

/// Wall-clock seconds since the Unix epoch, for times that are reported (`checkedAt`,
/// `expiresAt`) and compared with TTLs. Not monotonic: never used to measure durations.
public enum WallClock {
    public static func now() -> Double { MonotonicClock.wallSeconds() }
}
