/// The agent's version, shown by `closet-agent version` and reported upstream.
public enum ClosetVersion {
    public static let string = "0.1.0"
}
