import Foundation
import Testing

@testable import RoleWatchKit

/// A scan with state knows a file it read before by its canonical path, size and mtime, and
/// by a fingerprint of its first and last 4 KiB when only the mtime changed.
struct FileFingerprintTests {
    @Test func statsNameEachFileByItsCanonicalPathThroughLinkedFoldersAndLinks() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let real = try directory.write("real/2025/11/21/a.json.gz", [1, 2, 3])
        try directory.write("real/2025/11/21/b.json.gz", Array(repeating: 7, count: 10_000))
        try FileManager.default.createSymbolicLink(atPath: directory.path + "/linked", withDestinationPath: "real")
        try FileManager.default.createSymbolicLink(
            atPath: directory.path + "/real/2025/11/21/c.json.gz", withDestinationPath: "b.json.gz")
        let paths = [
            real, directory.path + "/linked/2025/11/21/a.json.gz", directory.path + "/real/2025/11/21/../21/b.json.gz",
            directory.path + "/real/2025/11/21/c.json.gz", directory.path + "/real/2025/11/21/missing.json.gz",
        ]
        let stats = FileFingerprint.stats(of: paths.map { TrailFiles.entry($0, size: 0) }, threads: 2)
        let canonical = try FileFingerprint.canonical(real)
        #expect(stats[0]?.path == canonical)
        #expect(stats[1]?.path == canonical)
        let b = try FileFingerprint.canonical(directory.path + "/real/2025/11/21/b.json.gz")
        #expect(stats[2]?.path == b)
        #expect(stats[3]?.path == b, "a link to a file is the file it names")
        #expect(stats[3]?.size == 10_000)
        #expect(stats[4] == nil)
        // The same as the identity taken when the file is read.
        #expect(try FileFingerprint.of(path: paths[1]).stat == stats[1])
    }

    @Test func aChangeInTheFirstOrLastBlockChangesTheFingerprint() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var bytes = (0..<20_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let path = try directory.write("f.json.gz", bytes)
        let original = try FileFingerprint.of(path: path).fingerprint
        #expect(original.hasPrefix(FileFingerprint.wordHashPrefix))
        #expect(try FileFingerprint.of(path: path).fingerprint == original, "the same bytes, the same fingerprint")
        for offset in [0, 5, 4095, 20_000 - 4096, 19_999] {
            var changed = bytes
            changed[offset] ^= 1
            try directory.write("f.json.gz", changed)
            #expect(try FileFingerprint.of(path: path).fingerprint != original, "byte \(offset)")
        }
        // The middle is not looked at; a change of size always shows.
        bytes[10_000] ^= 1
        try directory.write("f.json.gz", bytes)
        #expect(try FileFingerprint.of(path: path).fingerprint == original)
        try directory.write("f.json.gz", bytes + [0])
        #expect(try FileFingerprint.of(path: path).fingerprint != original)
    }

    @Test func aFileIsComparedWithAFingerprintOfAnEarlierVersionInThatVersionsWay() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let bytes = (0..<9_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let path = try directory.write("f.json.gz", bytes)
        // How versions before the word hash fingerprinted: the size, then every byte of both blocks.
        var legacy = StableHash()
        legacy.add(String(bytes.count))
        for byte in bytes[0..<4096] + bytes[(9_000 - 4096)...] { legacy.add(byte) }
        #expect(FileFingerprint.fingerprint(of: path, like: legacy.hex) == legacy.hex)

        let stat = try #require(FileFingerprint.stats(of: [TrailFiles.entry(path, size: 0)], threads: 1)[0])
        var stored = try FileFingerprint.of(path: path)
        stored.fingerprint = legacy.hex
        stored.mtimeNanoseconds -= 1_000_000_000
        #expect(stored.isSameFile(as: stat, at: path), "only the mtime changed: the same content")
        stored.fingerprint = "0123456789abcdef0123456789abcdef"
        #expect(!stored.isSameFile(as: stat, at: path))
        stored.fingerprint = FileFingerprint.wordHashPrefix + "0123456789abcdef0123456789abcdef"
        #expect(!stored.isSameFile(as: stat, at: path))
        stored.size += 1
        stored.mtimeNanoseconds = stat.mtimeNanoseconds
        #expect(!stored.isSameFile(as: stat, at: path), "another size is another file")
    }
}
