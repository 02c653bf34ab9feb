import Foundation

/// Where alerts go. Implementations must not drop an alert silently: a failure to deliver is
/// thrown, and the caller reports it and exits with an error.
public protocol AlertSink: AnyObject {
    func emit(_ alert: Alert) throws
    /// Pushes buffered alerts to their destination; called at the end and at quiet moments.
    func flush() throws
}

/// Sends every alert to several sinks in turn (one failing sink does not stop the others).
public final class AlertFanOut: AlertSink {
    private let sinks: [any AlertSink]

    public init(_ sinks: [any AlertSink]) { self.sinks = sinks }

    public func emit(_ alert: Alert) throws {
        var firstError: Error?
        for sink in sinks {
            do { try sink.emit(alert) } catch { firstError = firstError ?? error }
        }
        if let firstError { throw firstError }
    }

    public func flush() throws {
        var firstError: Error?
        for sink in sinks {
            do { try sink.flush() } catch { firstError = firstError ?? error }
        }
        if let firstError { throw firstError }
    }
}

/// One alert per line, as JSON (NDJSON), to standard output or a file.
public final class NDJSONSink: AlertSink {
    private let handle: FileHandle
    private let closeOnDeinit: Bool
    private var buffer: [UInt8] = []
    private let destination: String

    /// Writes to standard output.
    public init() {
        self.handle = FileHandle.standardOutput
        self.closeOnDeinit = false
        self.destination = "standard output"
    }

    /// Creates (or truncates) `path` and writes there.
    public init(path: String) throws(SinkError) {
        guard FileManager.default.createFile(atPath: path, contents: nil),
            let handle = FileHandle(forWritingAtPath: path)
        else {
            throw SinkError(
                destination: path, problem: "cannot create the output file (check the folder exists and is writable)")
        }
        self.handle = handle
        self.closeOnDeinit = true
        self.destination = path
    }

    deinit {
        try? flush()
        if closeOnDeinit { try? handle.close() }
    }

    public func emit(_ alert: Alert) throws {
        buffer.append(contentsOf: alert.json().utf8)
        buffer.append(UInt8(ascii: "\n"))
        if buffer.count >= 1 << 16 { try flush() }
    }

    public func flush() throws {
        guard !buffer.isEmpty else { return }
        do {
            try handle.write(contentsOf: buffer)
        } catch {
            throw SinkError(destination: destination, problem: "cannot write alerts: \(error.localizedDescription)")
        }
        buffer.removeAll(keepingCapacity: true)
    }
}

public struct SinkError: Error, CustomStringConvertible {
    public var destination: String
    public var problem: String
    public var description: String { "\(destination): \(problem)" }
}
