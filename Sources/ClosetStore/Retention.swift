/// Variables whose every change matters (the report counts UPS outages and missed backups
/// from them): kept raw for ever, never averaged.
let keptRaw = ["ups.status", "backup.missed"]

extension SQLiteBackend {
    /// Folds raw readings older than `before` (rounded down to the hour) into hourly min,
    /// mean and max, in one transaction; returns the raw rows folded. A late backlog that
    /// lands in an hour already folded is merged into it.
    @discardableResult
    public func downsample(before: Int64) async throws -> Int {
        let cutoff = before.floorDivided(by: 3600) * 3600
        return try await run { db in
            try db.transaction {
                let kept = keptRaw.map { "'\($0)'" }.joined(separator: ", ")
                try db.prepare(
                    """
                    INSERT INTO readings_hourly (site_id, device, variable, hour, min, mean, max, count)
                    SELECT site_id, device, variable, (time / 3600) * 3600, MIN(value), AVG(value), MAX(value), COUNT(*)
                    FROM readings WHERE time < ? AND variable NOT IN (\(kept)) GROUP BY site_id, device, variable, time / 3600
                    ON CONFLICT (site_id, device, variable, hour) DO UPDATE SET
                        mean = (mean * count + excluded.mean * excluded.count) / (count + excluded.count),
                        min = MIN(min, excluded.min), max = MAX(max, excluded.max), count = count + excluded.count
                    """
                ).run([.integer(cutoff)])
                try db.prepare("DELETE FROM readings WHERE time < ? AND variable NOT IN (\(kept))").run([.integer(cutoff)])
                return db.changes
            }
        }
    }
}
