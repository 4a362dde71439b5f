import ClosetConfig
import ClosetModel
import ClosetSerial
import Dispatch

/// Reads a Megatec/Voltronic Q1 UPS (Santak, many Vietnamese-market units) on a serial line.
public struct MegatecDriver: DeviceDriver {
    public struct Configuration: DriverConfiguration, Hashable {
        public var device: String
        public var baud: Int
        /// How long the UPS has to answer one command (these units are slow: ~100 ms is common).
        public var answerTimeout: Duration

        public init(device: String, baud: Int = 2400, answerTimeout: Duration = .seconds(1)) {
            self.device = device
            self.baud = baud
            self.answerTimeout = answerTimeout
        }

        public var summary: [(key: String, value: String)] {
            [("device", device), ("baud", String(baud)), ("answer_timeout", answerTimeout.compactDescription)]
        }

        public func makeDriver(_ runtime: DriverRuntime) throws -> any DeviceDriver {
            MegatecDriver(configuration: self, line: runtime.shared("megatec:\(device)") { MegatecLine(configuration: self) })
        }
    }

    /// `[[ups]]` with `driver = "megatec"`.
    public static let factory = DriverFactory(name: "megatec", kinds: [.ups]) { r, _ in
        guard let device = r.requiredString("device") else { return nil }
        guard device.hasPrefix("/") else {
            r.report("device", "must be an absolute path such as /dev/ttyUSB0, got \"\(device)\"")
            return nil
        }
        let baud = r.integer("baud").map(Int.init) ?? 2400
        guard SerialPort.speeds[baud] != nil else {
            r.report("baud", "\(baud) is not a serial speed (\(SerialPort.speeds.keys.sorted().map(String.init).joined(separator: ", ")))")
            return nil
        }
        let timeout = r.duration("answer_timeout", in: .milliseconds(50)...(.seconds(10))) ?? .seconds(1)
        return Configuration(device: device, baud: baud, answerTimeout: timeout)
    }

    public let configuration: Configuration
    let line: MegatecLine

    init(configuration: Configuration, line: MegatecLine) {
        self.configuration = configuration
        self.line = line
    }

    public func poll(at time: Timestamp) async throws -> [Reading] {
        try await line.poll(at: time)
    }
}

/// The serial line and what was learnt from it, confined to its own queue: serial IO blocks.
final class MegatecLine: @unchecked Sendable {
    let configuration: MegatecDriver.Configuration
    private let queue: DispatchQueue
    private var port: SerialPort?
    /// Asked once per connection; nil when the UPS does not support the command.
    private var askedOnce = false
    private var ratings: MegatecCodec.Ratings?
    private var identity: MegatecCodec.Identity?

    init(configuration: MegatecDriver.Configuration) {
        self.configuration = configuration
        self.queue = DispatchQueue(label: "closet.megatec.\(configuration.device)")
    }

    func poll(at time: Timestamp) async throws -> [Reading] {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<[Reading], any Error>) in
            queue.async { [self] in
                do {
                    c.resume(returning: try self.pollNow(at: time))
                } catch {
                    c.resume(throwing: error)
                }
            }
        }
    }

    private func pollNow(at time: Timestamp) throws(MegatecError) -> [Reading] {
        let port = try openPort()
        if !askedOnce {
            askedOnce = true
            ratings = (try? ask("F", on: port)).flatMap { try? MegatecCodec.parseRatings($0) }
            identity = (try? ask("I", on: port)).flatMap { try? MegatecCodec.parseIdentity($0) }
        }
        let reply = try ask("Q1", on: port)
        let status: MegatecCodec.Status
        do {
            status = try MegatecCodec.parseStatus(reply)
        } catch {
            // A garbled line (wrong baud, noise): drop what is left so the next poll starts clean.
            port.discardInput()
            throw MegatecError("\(configuration.device): \(error)")
        }
        var readings = MegatecCodec.readings(status, ratings: ratings, at: time)
        if let r = ratings {
            if let v = r.voltage { readings.append(Reading("input.voltage.nominal", .number(v), unit: .volt, time: time)) }
            if let v = r.batteryVoltage { readings.append(Reading("battery.voltage.nominal", .number(v), unit: .volt, time: time)) }
            if let v = r.frequency { readings.append(Reading("input.frequency.nominal", .number(v), unit: .hertz, time: time)) }
        }
        if let i = identity {
            if !i.company.isEmpty { readings.append(Reading("device.mfr", .text(i.company), time: time)) }
            if !i.model.isEmpty { readings.append(Reading("device.model", .text(i.model), time: time)) }
            if !i.version.isEmpty { readings.append(Reading("ups.firmware", .text(i.version), time: time)) }
        }
        return readings
    }

    private func ask(_ command: String, on port: SerialPort) throws(MegatecError) -> [UInt8] {
        do {
            port.discardInput()
            try port.write(Array((command + "\r").utf8), timeout: configuration.answerTimeout)
            return try port.readLine(timeout: configuration.answerTimeout, maxLength: MegatecCodec.maxLine + 2)
        } catch {
            if error.isFatal {
                close()
                throw MegatecError(error.description)
            }
            throw MegatecError("\(configuration.device): no answer to \(command) within \(configuration.answerTimeout.compactDescription)")
        }
    }

    private func openPort() throws(MegatecError) -> SerialPort {
        if let port { return port }
        do {
            let opened = try SerialPort(path: configuration.device, baud: configuration.baud)
            port = opened
            askedOnce = false
            return opened
        } catch {
            throw MegatecError(error.description)
        }
    }

    private func close() {
        port?.close()
        port = nil
    }
}

/// A Megatec UPS could not be read.
public struct MegatecError: Error, Sendable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
