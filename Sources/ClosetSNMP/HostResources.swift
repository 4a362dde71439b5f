/// HOST-RESOURCES-MIB (RFC 2790) hrStorageTable: the disks and volumes a NAS or server
/// exposes, with their size and use in allocation units.
public enum HostResources {
    public static let storageType: OID = "1.3.6.1.2.1.25.2.3.1.2"
    public static let storageDescr: OID = "1.3.6.1.2.1.25.2.3.1.3"
    public static let storageUnits: OID = "1.3.6.1.2.1.25.2.3.1.4"
    public static let storageSize: OID = "1.3.6.1.2.1.25.2.3.1.5"
    public static let storageUsed: OID = "1.3.6.1.2.1.25.2.3.1.6"
    public static let columns = [storageType, storageDescr, storageUnits, storageSize, storageUsed]

    /// hrStorageFixedDisk and hrStorageNetworkDisk: volumes, not RAM or swap.
    static let diskTypes: Set<OID> = ["1.3.6.1.2.1.25.2.1.4", "1.3.6.1.2.1.25.2.1.10"]

    public struct Volume: Sendable, Hashable {
        public var index: Int
        /// hrStorageDescr: the mount point on a Linux NAS (`/mnt/vg0/backup`).
        public var name: String
        public var sizeBytes: Int64
        public var usedBytes: Int64
        public var usedPercent: Double { sizeBytes > 0 ? Double(usedBytes) / Double(sizeBytes) * 100 : 0 }
        public var freeBytes: Int64 { max(0, sizeBytes - usedBytes) }

        /// A variable-name segment: `/` is `root`, other names lose the leading slash and
        /// keep letters, digits, `-` and `_` (`/mnt/vg0/backup` -> `mnt_vg0_backup`).
        public var key: String {
            if name == "/" { return "root" }
            var out = ""
            for c in name.unicodeScalars {
                let ok = (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || c == "-"
                out.unicodeScalars.append(ok ? c : "_")
            }
            while out.hasPrefix("_") { out.removeFirst() }
            return out.isEmpty ? "volume\(index)" : out
        }
    }

    /// The disk volumes in a walk of `columns`; rows with a zero size or missing cells are left
    /// out (unmounted or pseudo file systems).
    public static func volumes(_ walk: [OID: [[UInt]: SNMPValue]]) -> [Volume] {
        var out: [Volume] = []
        for (row, type) in walk[storageType] ?? [:] {
            guard row.count == 1, case .oid(let t) = type, diskTypes.contains(t),
                let units = walk[storageUnits]?[row]?.number, let size = walk[storageSize]?[row]?.number,
                let used = walk[storageUsed]?[row]?.number, size > 0, units > 0
            else { continue }
            let name = walk[storageDescr]?[row]?.text ?? "volume\(row[0])"
            // hrStorageSize is an Integer32: sizes past 2^31 units wrap negative on some agents.
            let fix = { (v: Double) in v < 0 ? v + 4_294_967_296 : v }
            out.append(
                Volume(index: Int(row[0]), name: name, sizeBytes: Int64(fix(size) * units), usedBytes: Int64(fix(used) * units)))
        }
        return out.sorted { $0.index < $1.index }
    }

    /// Walks hrStorageTable on `client`'s agent.
    public static func fetchVolumes(_ client: SNMPClient, maxRepetitions: Int = 20) async throws -> [Volume] {
        try await client.perform { r in
            volumes(try r.walk(columns: columns, maxRepetitions: maxRepetitions).columns)
        }
    }
}
