/// Variables whose every change matters (the report counts UPS outages and missed backups
/// from them): kept raw for ever, never averaged.
let keptRaw = ["ups.status", "backup.missed"]

extension StoreBackend {
    /// Folds raw readings older than `before` (rounded down to the hour) into hourly min,
    /// mean and max, in one transaction; returns the raw rows folded. A late backlog that
    /// lands in an hour already folded is merged into it.
    @discardableResult
    public func downsample(before: Int64) async throws -> Int {
        let cutoff = before.floorDivided(by: 3600) * 3600
        let exclusive = dialect.exclusive
        return try await write { c in
            // One instance at a time: two would fold the same rows twice.
            if let exclusive { try await c.query(exclusive) }
            let kept = keptRaw.map { "'\($0)'" }.joined(separator: ", ")
            try await c.query(
                """
                INSERT INTO readings_hourly (site_id, device, variable, hour, min, mean, max, count)
                SELECT site_id, device, variable, (time / 3600) * 3600, MIN(value), AVG(value), MAX(value), COUNT(*)
                FROM readings WHERE time < ? AND variable NOT IN (\(kept)) GROUP BY site_id, device, variable, time / 3600
                ON CONFLICT (site_id, device, variable, hour) DO UPDATE SET
                    mean = (readings_hourly.mean * readings_hourly.count + excluded.mean * excluded.count) / (readings_hourly.count + excluded.count),
                    min = CASE WHEN excluded.min < readings_hourly.min THEN excluded.min ELSE readings_hourly.min END,
                    max = CASE WHEN excluded.max > readings_hourly.max THEN excluded.max ELSE readings_hourly.max END,
                    count = readings_hourly.count + excluded.count
                """, [.integer(cutoff)])
            return try await c.query("DELETE FROM readings WHERE time < ? AND variable NOT IN (\(kept)) RETURNING site_id", [.integer(cutoff)]).count
        }
    }
}
