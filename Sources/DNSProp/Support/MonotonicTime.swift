/// Monotonic seconds, for measuring how long something took.
public enum MonotonicTime {
    public static func now() -> Double { Double(MonotonicClock.now()) / 1e9 }
    /// Wall-clock seconds since the Unix epoch.
    public static func wall() -> Double { MonotonicClock.wallSeconds() }
}
