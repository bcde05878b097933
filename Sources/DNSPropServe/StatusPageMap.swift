import DNSProp

/// The map data the status page uses.
public enum StatusPageMap {
    public static let data: WorldMapSVG.Data = .empty
}
