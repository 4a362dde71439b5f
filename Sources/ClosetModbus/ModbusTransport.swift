#if canImport(Glibc)
import Glibc
#endif
private import CModbus
import ClosetModel

/// Where a Modbus bus is.
public enum ModbusEndpoint: Sendable, Hashable, CustomStringConvertible {
    case tcp(host: String, port: Int)
    case rtu(device: String, baud: Int, parity: Parity, dataBits: Int, stopBits: Int, rs485: Bool)

    public enum Parity: String, Sendable, Hashable, CaseIterable {
        case none, even, odd
        var letter: CChar { CChar(UInt8(ascii: self == .none ? "N" : self == .even ? "E" : "O")) }
    }

    public var description: String {
        switch self {
        case .tcp(let host, let port): "modbus tcp \(host):\(port)"
        case .rtu(let device, let baud, let parity, let data, let stop, _):
            "modbus rtu \(device) \(baud) \(data)\(parity.rawValue.prefix(1).uppercased())\(stop)"
        }
    }

    /// Devices on the same endpoint share one bus: one TCP connection, one serial line.
    var busKey: String {
        switch self {
        case .tcp(let host, let port): "modbus-tcp:\(host):\(port)"
        case .rtu(let device, _, _, _, _, _): "modbus-rtu:\(device)"
        }
    }
}

/// A Modbus transaction failed; the description says where and why.
public struct ModbusError: Error, Sendable, CustomStringConvertible {
    public var description: String
    /// The device answered with an exception (the line itself is fine).
    public var isException: Bool

    init(_ description: String, isException: Bool = false) {
        self.description = description
        self.isException = isException
    }

    /// From libmodbus's errno after a failed call.
    static func fromErrno(_ context: String, code: Int32, timeout: Duration) -> ModbusError {
        if code == ETIMEDOUT {
            return ModbusError("\(context): no answer within \(timeout.compactDescription)")
        }
        let text = String(cString: modbus_strerror(code))
        let exception = code > closet_modbus_enobase && code < closet_modbus_badcrc
        if exception {
            return ModbusError("\(context): exception \(code - closet_modbus_enobase) (\(text))", isException: true)
        }
        return ModbusError("\(context): \(text)")
    }
}

/// One libmodbus context. Not thread-safe: only `ModbusBus` uses it, on its own queue.
final class ModbusConnection: @unchecked Sendable {  // confined to its bus queue
    let endpoint: ModbusEndpoint
    let responseTimeout: Duration
    let byteTimeout: Duration
    private var context: OpaquePointer?
    private(set) var transactions = 0

    init(endpoint: ModbusEndpoint, responseTimeout: Duration, byteTimeout: Duration) {
        self.endpoint = endpoint
        self.responseTimeout = responseTimeout
        self.byteTimeout = byteTimeout
    }

    deinit { close() }

    func close() {
        if let context {
            modbus_close(context)
            modbus_free(context)
        }
        context = nil
    }

    private func connected() throws(ModbusError) -> OpaquePointer {
        if let context { return context }
        let made: OpaquePointer?
        switch endpoint {
        case .tcp(let host, let port):
            made = modbus_new_tcp_pi(host, String(port))
        case .rtu(let device, let baud, let parity, let data, let stop, _):
            made = modbus_new_rtu(device, Int32(baud), parity.letter, Int32(data), Int32(stop))
        }
        guard let made else {
            throw ModbusError.fromErrno("\(endpoint): cannot create context", code: closet_errno(), timeout: responseTimeout)
        }
        func seconds(_ d: Duration) -> (UInt32, UInt32) {
            let ns = d.nanoseconds
            return (UInt32(ns / 1_000_000_000), UInt32(ns % 1_000_000_000 / 1000))
        }
        let (rs, ru) = seconds(responseTimeout)
        modbus_set_response_timeout(made, rs, ru)
        let (bs, bu) = seconds(byteTimeout)
        modbus_set_byte_timeout(made, bs, bu)
        if modbus_connect(made) != 0 {
            let code = closet_errno()
            modbus_free(made)
            throw ModbusError.fromErrno("\(endpoint): cannot connect", code: code, timeout: responseTimeout)
        }
        if case .rtu(_, _, _, _, _, true) = endpoint, modbus_rtu_set_serial_mode(made, closet_modbus_rtu_rs485) != 0 {
            let code = closet_errno()
            modbus_close(made)
            modbus_free(made)
            throw ModbusError.fromErrno("\(endpoint): adapter refuses RS-485 mode (set rs485 = false)", code: code, timeout: responseTimeout)
        }
        context = made
        return made
    }

    /// Reads registers (as words) or bits (as 0/1 words) for one unit id.
    func read(_ request: ModbusRead, unit: Int) throws(ModbusError) -> [UInt16] {
        let ctx = try connected()
        modbus_set_slave(ctx, Int32(unit))
        if case .rtu = endpoint {
            // Drop whatever a noisy line, a late answer or another master left in the buffer,
            // so this request's answer is read from its first byte.
            modbus_flush(ctx)
        }
        transactions += 1
        let context = "\(endpoint) unit \(unit): \(request)"
        var result: Int32
        var words = [UInt16](repeating: 0, count: request.count)
        closet_set_errno(0)
        switch request.table {
        case .holding:
            result = words.withUnsafeMutableBufferPointer {
                modbus_read_registers(ctx, Int32(request.address), Int32(request.count), $0.baseAddress)
            }
        case .input:
            result = words.withUnsafeMutableBufferPointer {
                modbus_read_input_registers(ctx, Int32(request.address), Int32(request.count), $0.baseAddress)
            }
        case .coil, .discrete:
            var bits = [UInt8](repeating: 0, count: request.count)
            result = bits.withUnsafeMutableBufferPointer {
                request.table == .coil
                    ? modbus_read_bits(ctx, Int32(request.address), Int32(request.count), $0.baseAddress)
                    : modbus_read_input_bits(ctx, Int32(request.address), Int32(request.count), $0.baseAddress)
            }
            words = bits.map { UInt16($0) }
        }
        guard result == Int32(request.count) else {
            let code = closet_errno()
            let error: ModbusError =
                result < 0
                ? .fromErrno(context, code: code, timeout: responseTimeout)
                : ModbusError("\(context): answered \(result) of \(request.count)")
            // After anything but a clean exception the line may hold stray bytes or be gone:
            // drop the connection; the next transaction reopens it (a replugged adapter too).
            if !error.isException { close() }
            throw error
        }
        return words
    }
}
