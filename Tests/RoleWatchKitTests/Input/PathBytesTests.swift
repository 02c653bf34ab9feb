import Foundation
import Testing

@testable import RoleWatchKit

/// File names are bytes: a name that is not UTF-8 is read like any other, stored as itself and
/// shown escaped, in `scan`, `scan --state` and `tail`.
struct PathBytesTests {
    @Test(arguments: [
        [0x61, 0x62, 0x63], [0x66, 0xFF, 0x2E, 0x6A], [0xC3, 0xA9], [0xC3], [0xED, 0xA0, 0x80], [0xF4, 0x8F, 0xBC, 0x80],
        [0xC0, 0xAF], [0xF0, 0x9F, 0x98, 0x80, 0x80],
    ] as [[UInt8]])
    func bytesGoThereAndBack(bytes: [UInt8]) {
        let path = PathBytes.string(bytes)
        #expect(PathBytes.bytes(path) == bytes)
        PathBytes.withCString(path) { #expect(Array(UnsafeBufferPointer(start: $0, count: strlen($0))).map(UInt8.init(bitPattern:)) == bytes) }
    }

    @Test func invalidBytesAreShownEscaped() {
        #expect(PathBytes.display(PathBytes.string([0x66, 0xFF, 0x2E, 0x6A, 0x73, 0x6F, 0x6E])) == #"f\xff.json"#)
        #expect(PathBytes.display("plain/é.json") == "plain/é.json")
    }

    /// Writes `contents` at `directory` + `name`, the name given as raw bytes.
    static func write(_ contents: String, in directory: String, name: [UInt8]) throws {
        let path = PathBytes.bytes(directory) + [UInt8(ascii: "/")] + name
        let descriptor = (path.map { CChar(bitPattern: $0) } + [0]).withUnsafeBufferPointer {
            open($0.baseAddress!, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        }
        #expect(descriptor >= 0)
        let bytes = Array(contents.utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
        close(descriptor)
    }

    static func mkdir(in directory: String, name: [UInt8]) {
        let path = Array(directory.utf8) + [UInt8(ascii: "/")] + name
        _ = (path.map { CChar(bitPattern: $0) } + [0]).withUnsafeBufferPointer { Glibc.mkdir($0.baseAddress!, 0o700) }
    }

    static let alerting = BadInputTests.alerting

    @Test func filesAndFoldersWhoseNamesAreNotUTF8AreRead() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try Self.write(ScanRun.recordsFile([Self.alerting]), in: directory.path, name: Array("bad".utf8) + [0xFF] + Array(".json".utf8))
        Self.mkdir(in: directory.path, name: [0x64, 0xFE, 0x72])
        var second = Self.alerting
        second.eventID = "second-event"
        second.sourceIPAddress = "198.51.100.99"
        try Self.write(
            ScanRun.recordsFile([second]), in: directory.path + "/" + PathBytes.string([0x64, 0xFE, 0x72]),
            name: Array("x".utf8) + [0xC3] + Array(".json".utf8))
        let run = try ScanRun.run([directory.path])
        #expect(run.summary.files == 2 && run.summary.damagedFiles == 0, "\(run.messages.all)")
        #expect(run.alerts.filter { $0.rule == "human-operator" }.first?.count == 2)

        let elsewhere = try TemporaryDirectory()
        defer { elsewhere.remove() }
        let state = elsewhere.path + "/state.sqlite"
        let output = elsewhere.path + "/alerts.ndjson"
        #expect(try DeliveryArchive.stateScan([directory.path], state: state, output: output).files == 2)
        let again = try DeliveryArchive.stateScan([directory.path], state: state, output: output)
        #expect(again.files == 0 && again.alreadyRead == 2)
    }

    @Test func aDamagedFileWithSuchANameIsNamedEscaped() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try Self.write("{\"Records\":[{\"eventTime\":", in: directory.path, name: Array("cut".utf8) + [0xFF] + Array(".json".utf8))
        let run = try ScanRun.run([directory.path])
        #expect(run.summary.damagedFiles == 1)
        #expect(run.messages.all.contains { $0.contains(#"cut\xff.json"#) }, "\(run.messages.all)")
    }
}
