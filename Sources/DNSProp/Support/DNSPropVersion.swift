public enum DNSPropVersion {
    public static let string = "0.1.0"
}
