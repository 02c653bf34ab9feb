import CZlib
import Foundation

@testable import RoleWatchKit

/// A directory under the system temporary directory, for tests that need real files; `remove()` deletes it.
struct TemporaryDirectory {
    let path: String

    init() throws {
        var template = Array((NSTemporaryDirectory() + "rolewatch-input-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw CocoaError(.fileWriteUnknown) }
        path = String(cString: made)
    }

    /// Writes `bytes` to `name` (directories created as needed) and returns the file's path.
    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let file = path + "/" + name
        try FileManager.default.createDirectory(
            atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        return file
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// A directory for a fixture made once for the whole test run, removed when the process
    /// exits: such a fixture has no end of its own to remove it at.
    static func forTheRun() throws -> TemporaryDirectory {
        let directory = try TemporaryDirectory()
        RunDirectories.shared.add(directory.path)
        return directory
    }
}

/// The directories of `TemporaryDirectory.forTheRun()`, removed at exit.
private final class RunDirectories: @unchecked Sendable {
    static let shared = RunDirectories()
    private let lock = NSLock()
    private var paths: [String] = []  // behind `lock`

    private init() {
        atexit { RunDirectories.shared.removeAll() }
    }

    func add(_ path: String) { lock.withLock { paths.append(path) } }

    private func removeAll() {
        for path in lock.withLock({ paths }) { try? FileManager.default.removeItem(atPath: path) }
    }
}

/// gzip data made with zlib's deflate, as `gzip` writes it (one member, windowBits 15 + 16).
enum GzipFixture {
    /// One member holding `parts` in order; with `fullFlush`, each part boundary is a `Z_FULL_FLUSH`, so the
    /// compressed bytes of each part end on a byte boundary whose offset `boundaries` gives.
    static func member(_ parts: [[UInt8]], level: Int32 = 6) -> (bytes: [UInt8], boundaries: [Int]) {
        var stream = Deflater(level: level)
        var boundaries: [Int] = []
        for (index, part) in parts.enumerated() {
            stream.deflate(part, flush: index == parts.count - 1 ? Z_FINISH : Z_FULL_FLUSH)
            boundaries.append(stream.output.count)
        }
        return (stream.output, boundaries)
    }

    static func compress(_ bytes: [UInt8], level: Int32 = 6) -> [UInt8] {
        member([bytes], level: level).bytes
    }

    /// `unit` repeated `times` times, compressed without ever holding the repeated input.
    static func compressRepeating(_ unit: [UInt8], times: Int) -> [UInt8] {
        var stream = Deflater(level: 9)
        for index in 0..<times {
            stream.deflate(unit, flush: index == times - 1 ? Z_FINISH : Z_NO_FLUSH)
        }
        return stream.output
    }

    private struct Deflater {
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        var output: [UInt8] = []

        init(level: Int32) {
            stream.initialize(to: z_stream())
            // deflateInit2 is a macro; this is what it expands to.
            let status = deflateInit2_(
                stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, zlibVersion(),
                Int32(MemoryLayout<z_stream>.size))
            precondition(status == Z_OK)
        }

        mutating func deflate(_ input: [UInt8], flush: Int32) {
            var input = input
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            input.withUnsafeMutableBufferPointer { inputBytes in
                stream.pointee.next_in = inputBytes.baseAddress
                stream.pointee.avail_in = UInt32(inputBytes.count)
                repeat {
                    let produced = buffer.withUnsafeMutableBufferPointer { out in
                        stream.pointee.next_out = out.baseAddress
                        stream.pointee.avail_out = UInt32(out.count)
                        let status = CZlib.deflate(stream, flush)
                        precondition(status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR)
                        return out.count - Int(stream.pointee.avail_out)
                    }
                    output.append(contentsOf: buffer[..<produced])
                } while stream.pointee.avail_out == 0 || stream.pointee.avail_in > 0
            }
            if flush == Z_FINISH {
                deflateEnd(stream)
                stream.deallocate()
            }
        }
    }
}

extension String {
    var bytes: [UInt8] { Array(utf8) }
}

/// A pipe a test hands to `DirectoryWatcher.wakeWhenReadable(_:)` and writes to from another thread. Both ends
/// close when the last reference goes, so a wake-up scheduled for later never writes to a reused descriptor.
final class WakePipe: Sendable {
    let readEnd: Int32
    private let writeEnd: Int32

    init() throws {
        (readEnd, writeEnd) = try makeWakePipe()
    }

    deinit {
        close(readEnd)
        close(writeEnd)
    }

    func wake() {
        var byte: UInt8 = 1
        _ = write(writeEnd, &byte, 1)
    }

    /// Wakes after `seconds`; the pipe stays open until then.
    func wake(after seconds: Double) {
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { self.wake() }
    }

    /// Reads what was written, so that a wait on the pipe blocks again.
    func drain() {
        var bytes = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        while withUnsafeMutableBytes(of: &bytes, { read(readEnd, $0.baseAddress, $0.count) }) > 0 {}
    }
}
