import Foundation

/// What identifies a file's content cheaply: its size and a hash of its first and last 4 KiB.
///
/// CloudTrail never rewrites a delivered file, so a file seen again with the same size, mtime
/// and fingerprint was read already; one whose fingerprint changed (a re-download that came
/// out different, a file that was still being written) is read again. The hash is not
/// cryptographic: whoever can rewrite the log folder can hide events anyway.
///
/// A scan with state takes each file's `Stat` before reading anything (a `stat` and a cached
/// `realpath` of its folder: tens of thousands of files cost little) and hashes a file only
/// when it is about to be read, on the thread that reads it, or when its mtime changed but not
/// its size.
public enum FileFingerprint {
    static let blockSize = 4 << 10
    /// Fingerprints of this version start with it: a hash taken a word at a time. Those of
    /// earlier versions (32 hex digits, no prefix) hashed byte by byte; a file is still
    /// compared with a stored one in its own way.
    static let wordHashPrefix = "2:"

    /// What a `stat` tells of a file, under its canonical path.
    public struct Stat: Sendable, Equatable {
        public var path: String
        public var size: Int
        public var mtimeNanoseconds: Int64
        public var device: UInt64
        public var inode: UInt64

        init(path: String, size: Int, mtimeNanoseconds: Int64, device: UInt64, inode: UInt64) {
            (self.path, self.size, self.mtimeNanoseconds, self.device, self.inode) =
                (path, size, mtimeNanoseconds, device, inode)
        }

        init(path: String, _ info: stat) {
            self.init(
                path: path, size: Int(info.st_size), mtimeNanoseconds: FileSignature(info).modified,
                device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
        }
    }

    /// When the file was last written (seconds since 1970), or nil if it is gone.
    public static func modificationTime(of path: String) -> Double? {
        var info = stat()
        guard PathBytes.withCString(path, { stat($0, &info) }) == 0 else { return nil }
        return Double(FileSignature(info).modified) / 1e9
    }

    /// Why a file's identity could not be had: the `errno` of the call that failed (`ENOENT`: the file is gone).
    public struct Failure: Error, Sendable {
        public var code: Int32
    }

    /// Each file's `Stat` (nil where it cannot be had), taken on up to `threads` threads. A
    /// folder is resolved once (`realpath`), not once per file in it, and a file the walk saw
    /// (`TrailFile.found`) is not looked at again.
    static func stats(of files: [TrailFile], threads: Int) -> [Stat?] {
        let folders = Array(Set(files.map { folder(of: $0.path) })).sorted()
        let resolved = folders.concurrentMap(threads: min(threads, folders.count / 64)) { try? canonical($0) }
        let canonicalFolders = Dictionary(uniqueKeysWithValues: zip(folders, resolved))
        return files.concurrentMap(threads: min(threads, files.count / 64)) { file in
            let path = file.path
            /// The file's canonical path through its folder's (the file itself being no link).
            func canonicalInFolder() -> String? {
                guard let folder = canonicalFolders[folder(of: path)] ?? nil else { return nil }
                return (folder == "/" ? "/" : folder + "/") + TrailFiles.lastComponent(path)
            }
            if let found = file.found {
                return canonicalInFolder().map {
                    Stat(
                        path: $0, size: found.size, mtimeNanoseconds: found.mtimeNanoseconds, device: found.device,
                        inode: found.inode)
                }
            }
            var info = stat()
            guard PathBytes.withCString(path, { lstat($0, &info) }) == 0 else { return nil }
            if (info.st_mode & S_IFMT) == S_IFLNK {
                // A link: its target's canonical path and stat.
                guard PathBytes.withCString(path, { stat($0, &info) }) == 0, let target = try? canonical(path)
                else { return nil }
                return Stat(path: target, info)
            }
            return canonicalInFolder().map { Stat(path: $0, info) }
        }
    }

    /// The file's identity now, with a fingerprint, under its canonical path (absolute, links
    /// resolved: `AWSLogs/`, `./AWSLogs` and a link to it name one file), with its device and
    /// inode; `canonicalPath` when the caller has it already.
    public static func of(path: String, canonicalPath: String? = nil) throws(Failure) -> ProcessedFile {
        let descriptor = PathBytes.withCString(path) { open($0, O_RDONLY | O_CLOEXEC) }
        guard descriptor >= 0 else { throw Failure(code: errno) }
        defer { close(descriptor) }
        return try of(descriptor: descriptor, path: path, canonicalPath: canonicalPath)
    }

    /// The identity of the file open as `descriptor` (read with `pread`: its offset is left as
    /// it was), which is the one at `path`.
    static func of(descriptor: Int32, path: String, canonicalPath: String?) throws(Failure) -> ProcessedFile {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw Failure(code: errno) }
        let resolved: String
        if let canonicalPath { resolved = canonicalPath } else { resolved = try canonical(path) }
        let stat = Stat(path: resolved, info)
        return ProcessedFile(
            path: stat.path, size: stat.size, mtimeNanoseconds: stat.mtimeNanoseconds,
            fingerprint: try fingerprint(of: descriptor, size: stat.size, wordWise: true), device: stat.device,
            inode: stat.inode)
    }

    /// The fingerprint of the file at `path` now, taken the way `stored` was (nil if it cannot
    /// be read), to compare the two.
    static func fingerprint(of path: String, like stored: String) -> String? {
        let descriptor = PathBytes.withCString(path) { open($0, O_RDONLY | O_CLOEXEC) }
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return nil }
        return try? fingerprint(
            of: descriptor, size: Int(info.st_size), wordWise: stored.hasPrefix(wordHashPrefix))
    }

    private static func fingerprint(of descriptor: Int32, size: Int, wordWise: Bool) throws(Failure) -> String {
        var buffer = [UInt8](repeating: 0, count: blockSize)
        var byteHash = StableHash()
        var wordHash = WordHash(seed: UInt64(size))
        if !wordWise { byteHash.add(String(size)) }
        for offset in size > blockSize ? [0, size - blockSize] : [0] {
            let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, blockSize, off_t(offset)) }
            guard count >= 0 else { throw Failure(code: errno) }
            if wordWise {
                buffer.withUnsafeBytes { wordHash.add(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
            } else {
                for byte in buffer[0..<count] { byteHash.add(byte) }
            }
        }
        return wordWise ? wordHashPrefix + wordHash.hex : byteHash.hex
    }

    /// The absolute path with every link and `.`/`..` resolved.
    public static func canonical(_ path: String) throws(Failure) -> String {
        guard let resolved = PathBytes.withCString(path, { realpath($0, nil) }) else { throw Failure(code: errno) }
        defer { free(resolved) }
        return PathBytes.string(UnsafeRawBufferPointer(start: resolved, count: strlen(resolved)))
    }

    private static func folder(of path: String) -> String {
        guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return "." }
        return slash == path.utf8.startIndex ? "/" : String(path[..<slash])
    }
}

/// A 128-bit hash of bytes taken eight at a time in four independent lanes (a file's
/// fingerprint: 8 KiB per file, tens of thousands of files per scan), then mixed together.
struct WordHash {
    private var lanes: (UInt64, UInt64, UInt64, UInt64)
    private var length: UInt64 = 0
    private static let prime: UInt64 = 0x9E37_79B9_7F4A_7C15

    init(seed: UInt64) {
        lanes = (seed ^ 0x243F_6A88_85A3_08D3, seed ^ 0x1319_8A2E_0370_7344, seed ^ 0xA409_3822_299F_31D0,
            seed ^ 0x082E_FA98_EC4E_6C89)
    }

    mutating func add(_ bytes: UnsafeRawBufferPointer) {
        length &+= UInt64(bytes.count)
        var offset = 0
        while offset + 32 <= bytes.count {
            lanes.0 = Self.round(lanes.0, bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            lanes.1 = Self.round(lanes.1, bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self))
            lanes.2 = Self.round(lanes.2, bytes.loadUnaligned(fromByteOffset: offset + 16, as: UInt64.self))
            lanes.3 = Self.round(lanes.3, bytes.loadUnaligned(fromByteOffset: offset + 24, as: UInt64.self))
            offset += 32
        }
        // The tail, a byte at a time into the first lane, its position in it.
        while offset < bytes.count {
            lanes.0 = Self.round(lanes.0, UInt64(bytes[offset]) &+ (UInt64(offset) << 8))
            offset += 1
        }
    }

    private static func round(_ lane: UInt64, _ word: UInt64) -> UInt64 {
        let mixed = (lane ^ UInt64(littleEndian: word)) &* prime
        return (mixed << 31) | (mixed >> 33)
    }

    private static func finish(_ value: UInt64) -> UInt64 {
        var x = value
        x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
        x = (x ^ (x >> 27)) &* 0x94D0_49BB_1331_11EB
        return x ^ (x >> 31)
    }

    var hex: String {
        let high = Self.finish(lanes.0 ^ Self.finish(lanes.2 &+ length))
        let low = Self.finish(lanes.1 ^ Self.finish(lanes.3 ^ (length &* Self.prime)))
        return String(hexWords: high, low)
    }
}
