import Synchronization

/// Resources several devices share while the agent runs: one serial line carries several
/// Modbus unit ids, so every device on `/dev/ttyUSB0` must use the same bus object.
public final class DriverRuntime: Sendable {
    private let shared = Mutex<[String: any Sendable]>([:])

    public init() {}

    /// The resource stored under `key`, made by `make` on first use.
    public func shared<T: Sendable>(_ key: String, make: () throws -> T) rethrows -> T {
        try shared.withLock { resources in
            if let existing = resources[key] as? T { return existing }
            let made = try make()
            resources[key] = made
            return made
        }
    }
}
