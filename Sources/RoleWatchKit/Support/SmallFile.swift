#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads a file RoleWatch is told to load whole (a config, a rule, AWS's ranges, a secret):
/// only a regular file, and only up to a size limit checked before reading, so that a path to
/// a FIFO, a device such as `/dev/zero` or a folder gives a clear error instead of a hang or an
/// exhausted memory.
enum SmallFile {
    /// Why a file could not be read, in words for an error message.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func contents(of path: String, limit: Int) throws(Failure) -> [UInt8] {
        // Non-blocking, so that opening a FIFO with no writer returns at once.
        let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else { throw Failure(description: systemErrorText()) }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw Failure(description: systemErrorText()) }
        switch info.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: throw Failure(description: "it is a folder, not a file")
        case S_IFIFO: throw Failure(description: "it is a FIFO (named pipe), not a regular file")
        case S_IFCHR, S_IFBLK: throw Failure(description: "it is a device, not a regular file")
        default: throw Failure(description: "it is not a regular file")
        }
        let size = Int(info.st_size)
        guard size <= limit else {
            throw Failure(description: "it is \(size) bytes, more than the \(limit) bytes such a file can be")
        }
        var bytes = [UInt8](repeating: 0, count: size)
        var done = 0
        while done < size {
            let count = bytes.withUnsafeMutableBytes { read(descriptor, $0.baseAddress! + done, size - done) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else {
                if count == 0 { break }
                throw Failure(description: systemErrorText())
            }
            done += count
        }
        return Array(bytes.prefix(done))
    }
}
