#if canImport(Glibc)
import Glibc
#endif
import ClosetModel

/// A serial line failed; the description names the device and the system's reason.
public struct SerialError: Error, Sendable, CustomStringConvertible {
    public var description: String
    /// The device is gone or unusable (unplugged adapter): close and reopen later.
    public var isFatal: Bool
    public init(_ description: String, isFatal: Bool) {
        self.description = description
        self.isFatal = isFatal
    }
}

/// A serial device in raw mode (termios), read and written with timeouts via poll(2).
/// Blocking by design: callers run it on a thread or queue of their own, never on the
/// cooperative pool.
public final class SerialPort {
    public let path: String
    public let baud: Int
    private var fd: Int32 = -1

    public static let speeds: [Int: speed_t] = [
        1200: speed_t(B1200), 2400: speed_t(B2400), 4800: speed_t(B4800), 9600: speed_t(B9600),
        19200: speed_t(B19200), 38400: speed_t(B38400), 57600: speed_t(B57600), 115_200: speed_t(B115200),
        230_400: speed_t(B230400),
    ]

    /// Opens `path` at `baud`, 8N1, raw, no flow control.
    public init(path: String, baud: Int) throws(SerialError) {
        self.path = path
        self.baud = baud
        guard let speed = SerialPort.speeds[baud] else {
            throw SerialError("\(path): unsupported speed \(baud)", isFatal: true)
        }
        let opened = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)
        guard opened >= 0 else {
            throw SerialError("\(path): cannot open: \(String(cString: strerror(errno)))", isFatal: true)
        }
        var tio = termios()
        guard tcgetattr(opened, &tio) == 0 else {
            let reason = String(cString: strerror(errno))
            Glibc.close(opened)
            throw SerialError("\(path): not a serial device: \(reason)", isFatal: true)
        }
        cfmakeraw(&tio)
        tio.c_cflag |= tcflag_t(CLOCAL | CREAD)
        tio.c_cflag &= ~(tcflag_t(CRTSCTS) | tcflag_t(CSTOPB) | tcflag_t(PARENB))
        cfsetispeed(&tio, speed)
        cfsetospeed(&tio, speed)
        tcsetattr(opened, TCSANOW, &tio)
        tcflush(opened, TCIOFLUSH)
        fd = opened
    }

    deinit { close() }

    public var isOpen: Bool { fd >= 0 }

    public func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    /// Discards anything received and not yet read.
    public func discardInput() {
        if fd >= 0 { tcflush(fd, TCIFLUSH) }
    }

    /// Writes all of `bytes` within `timeout`.
    public func write(_ bytes: [UInt8], timeout: Duration) throws(SerialError) {
        var offset = 0
        let deadline = ContinuousClock.now + timeout
        while offset < bytes.count {
            try wait(for: Int16(POLLOUT), until: deadline, what: "writing")
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EAGAIN || errno == EINTR { continue }
                throw SerialError("\(path): write failed: \(String(cString: strerror(errno)))", isFatal: true)
            }
            offset += n
        }
    }

    /// Reads bytes until `terminator` (included), `maxLength` bytes or the timeout.
    public func readLine(terminator: UInt8 = 0x0D, timeout: Duration, maxLength: Int = 256) throws(SerialError) -> [UInt8] {
        var line: [UInt8] = []
        let deadline = ContinuousClock.now + timeout
        var byte: UInt8 = 0
        while line.count < maxLength {
            try wait(for: Int16(POLLIN), until: deadline, what: line.isEmpty ? "waiting for an answer" : "reading an answer (got \(line.count) bytes)")
            let n = Glibc.read(fd, &byte, 1)
            if n < 0 {
                if errno == EAGAIN || errno == EINTR { continue }
                throw SerialError("\(path): read failed: \(String(cString: strerror(errno)))", isFatal: true)
            }
            if n == 0 { throw SerialError("\(path): the device hung up", isFatal: true) }
            line.append(byte)
            if byte == terminator { return line }
        }
        return line
    }

    /// Whatever bytes arrive within `timeout` (empty when none did).
    public func readAvailable(timeout: Duration, maxLength: Int = 512) throws(SerialError) -> [UInt8] {
        do {
            try wait(for: Int16(POLLIN), until: ContinuousClock.now + timeout, what: "waiting for input")
        } catch {
            if error.isFatal { throw error }
            return []
        }
        var buffer = [UInt8](repeating: 0, count: maxLength)
        let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        if n < 0 {
            if errno == EAGAIN || errno == EINTR { return [] }
            throw SerialError("\(path): read failed: \(String(cString: strerror(errno)))", isFatal: true)
        }
        if n == 0 { throw SerialError("\(path): the device hung up", isFatal: true) }
        return Array(buffer[0..<n])
    }

    /// The file descriptor, for a console transport that shares this port's IO.
    public var fileDescriptor: Int32 { fd }

    private func wait(for events: Int16, until deadline: ContinuousClock.Instant, what: String) throws(SerialError) {
        guard fd >= 0 else { throw SerialError("\(path): not open", isFatal: true) }
        while true {
            let remaining = ContinuousClock.now.duration(to: deadline)
            guard remaining > .zero else {
                throw SerialError("\(path): timed out \(what)", isFatal: false)
            }
            var p = pollfd(fd: fd, events: events, revents: 0)
            let ms = Int32(max(1, remaining.nanoseconds / 1_000_000))
            let r = poll(&p, 1, ms)
            if r < 0 {
                if errno == EINTR { continue }
                throw SerialError("\(path): poll failed: \(String(cString: strerror(errno)))", isFatal: true)
            }
            if r == 0 { continue }
            if p.revents & Int16(POLLNVAL | POLLERR) != 0 {
                throw SerialError("\(path): the device is gone", isFatal: true)
            }
            if p.revents & Int16(POLLHUP) != 0, p.revents & events == 0 {
                throw SerialError("\(path): the device hung up", isFatal: true)
            }
            if p.revents & events != 0 { return }
        }
    }
}
