import Foundation

/// What identifies a file's content cheaply: its size and a hash of its first and last 4 KiB.
///
/// CloudTrail never rewrites a delivered file, so a file seen again with the same size, mtime
/// and fingerprint was read already; one whose fingerprint changed (a re-download that came
/// out different, a file that was still being written) is read again. The hash is not
/// cryptographic: whoever can rewrite the log folder can hide events anyway.
public enum FileFingerprint {
    static let blockSize = 4 << 10

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

    /// The file's identity now, under its canonical path (absolute, links resolved: `AWSLogs/`,
    /// `./AWSLogs` and a link to it name one file), with its device and inode.
    public static func of(path: String) throws(Failure) -> ProcessedFile {
        let descriptor = PathBytes.withCString(path) { open($0, O_RDONLY | O_CLOEXEC) }
        guard descriptor >= 0 else { throw Failure(code: errno) }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw Failure(code: errno) }
        let size = Int(info.st_size)
        var hash = StableHash()
        hash.add(String(size))
        var buffer = [UInt8](repeating: 0, count: blockSize)
        for offset in size > blockSize ? [0, size - blockSize] : [0] {
            let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, blockSize, off_t(offset)) }
            guard count >= 0 else { throw Failure(code: errno) }
            for byte in buffer[0..<count] { hash.add(byte) }
        }
        return ProcessedFile(
            path: try canonical(path), size: size, mtimeNanoseconds: FileSignature(info).modified,
            fingerprint: hash.hex, device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }

    /// The absolute path with every link and `.`/`..` resolved.
    public static func canonical(_ path: String) throws(Failure) -> String {
        guard let resolved = PathBytes.withCString(path, { realpath($0, nil) }) else { throw Failure(code: errno) }
        defer { free(resolved) }
        return PathBytes.string(UnsafeRawBufferPointer(start: resolved, count: strlen(resolved)))
    }
}
