import Foundation

/// Where alerts go. Implementations must not drop an alert silently: a failure to deliver is
/// thrown, and the caller reports it and exits with an error.
public protocol AlertSink: AnyObject {
    func emit(_ alert: Alert) throws
    /// Pushes buffered alerts to their destination; called at the end and at quiet moments.
    func flush() throws
}

/// One alert per line, as JSON (NDJSON), to standard output or a file.
///
/// Written with `write(2)` and every error checked: a full disk or a closed pipe must fail the
/// scan (exit status 4), never lose alerts silently.
public final class NDJSONSink: AlertSink {
    private let descriptor: Int32
    private let ownsDescriptor: Bool
    private var buffer: [UInt8] = []
    private let destination: String

    /// Writes to standard output.
    public init() {
        self.descriptor = STDOUT_FILENO
        self.ownsDescriptor = false
        self.destination = "standard output"
    }

    /// Creates (or truncates) `path` and writes there; with `append`, adds to its end instead.
    public init(path: String, append: Bool = false) throws(SinkError) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0o644)
        guard descriptor >= 0 else {
            throw SinkError(
                destination: path, problem: "cannot create the output file: \(String(cString: strerror(errno)))")
        }
        self.descriptor = descriptor
        self.ownsDescriptor = true
        self.destination = path
    }

    deinit {
        try? flush()
        if ownsDescriptor { close(descriptor) }
    }

    public func emit(_ alert: Alert) throws { try emit(json: alert.json()) }

    /// Writes one alert already rendered as JSON (an alert kept in the state database).
    public func emit(json: String) throws {
        buffer.append(contentsOf: json.utf8)
        buffer.append(UInt8(ascii: "\n"))
        if buffer.count >= 1 << 16 { try flush() }
    }

    public func flush() throws {
        var written = 0
        while written < buffer.count {
            let result = buffer.withUnsafeBytes { bytes in
                write(descriptor, bytes.baseAddress! + written, bytes.count - written)
            }
            if result >= 0 {
                written += result
            } else if errno != EINTR {
                let reason = String(cString: strerror(errno))
                buffer.removeFirst(written)
                throw SinkError(destination: destination, problem: "cannot write alerts: \(reason)")
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }
}

public struct SinkError: Error, CustomStringConvertible {
    public var destination: String
    public var problem: String
    public var description: String { "\(destination): \(problem)" }
}
