import CZlib

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Streams the decompressed bytes of one trail file, in chunks, with memory fixed by `chunkSize`
/// whatever the file size: the file is never held whole.
///
/// The content decides the format, not the name: data starting with the gzip magic bytes `1f 8b` is
/// inflated with zlib (every member of a multi-member file, as `cat a.gz b.gz` makes; zero padding after
/// the last member is accepted), anything else is passed through as it is. A name ending in `.gz` whose
/// content is not gzip is an error rather than being read as JSON.
///
/// Errors are `TrailFileError`s, thrown only after every byte decompressed before the damage has gone to
/// `consume`, so the records before a truncation or corruption are still used.
///
/// A reader owns its buffers and its zlib stream and reuses them from file to file (trails hold many
/// small files, and fresh buffers per file cost page faults), so each thread uses a reader of its own.
public final class TrailFileReader {
    /// Bytes asked of each `read(2)`, and the most handed to `consume` at once: 2 bytes (the magic bytes that
    /// start a following gzip member must fit in the input buffer together) to 1 GiB.
    public let chunkSize: Int

    private let input: UnsafeMutableRawBufferPointer
    private let output: UnsafeMutableRawBufferPointer
    /// zlib keeps the stream's address in its state, so the stream lives on the heap.
    private let stream: UnsafeMutablePointer<z_stream>
    private var streamInitialised = false

    /// - Parameter chunkSize: the 256 KiB default keeps system calls and zlib calls rare while two buffers
    ///   of it stay in the CPU's cache.
    public init(chunkSize: Int = 1 << 18) {
        precondition((2...(1 << 30)).contains(chunkSize), "chunkSize must be 2 bytes to 1 GiB")
        self.chunkSize = chunkSize
        input = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        output = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
    }

    deinit {
        if streamInitialised { inflateEnd(stream) }
        stream.deallocate()
        input.deallocate()
        output.deallocate()
    }

    /// Reads the file at `path` to its end, handing each decompressed chunk to `consume` in order.
    ///
    /// A chunk is valid only during the call and holds at most `chunkSize` bytes; chunk boundaries fall
    /// anywhere, even inside a record. An error thrown by `consume` stops reading and is passed on as it is.
    public func read(path: String, consume: (UnsafeRawBufferPointer) throws -> Void) throws -> ReadOutcome {
        let file = try InputFile(path: path, buffer: input)
        guard try file.refill(keeping: 0) > 0 else { throw TrailFileError.empty(path: path) }
        let head = file.buffered
        if head[0] == 0x1F, head.count == 1 || head[1] == 0x8B {
            return try inflateGzip(file, consume: consume)
        }
        if path.lowercased().hasSuffix(".gz") {
            throw TrailFileError.notGzip(path: path, found: Array(head.prefix(2)))
        }
        var delivered = 0
        repeat {
            try consume(file.buffered)
            delivered += file.count
        } while try file.refill(keeping: 0) > 0
        return ReadOutcome(
            format: .plain, fileBytes: file.bytesRead, decompressedBytes: delivered, bufferBytes: chunkSize)
    }

    /// Inflates every gzip member of `file`, whose buffer holds its first bytes.
    private func inflateGzip(_ file: InputFile, consume: (UnsafeRawBufferPointer) throws -> Void) throws
        -> ReadOutcome
    {
        let path = file.path
        let stream = self.stream
        if streamInitialised {
            inflateReset(stream)
        } else {
            guard rolewatch_inflateInit2(stream, 15 + 16) == Z_OK else {
                throw TrailFileError.zlib(path: path, offset: 0, detail: Self.message(of: stream, or: "out of memory"))
            }
            streamInitialised = true
        }
        let chunkSize = self.chunkSize
        let output = self.output
        let outputStart = output.baseAddress!.assumingMemoryBound(to: Bytef.self)

        var pending = 0  // inflated bytes at the start of `output`, not yet handed to `consume`
        var delivered = 0
        var members = 1

        /// Makes zlib's input the whole file buffer.
        func feedBuffer() {
            stream.pointee.next_in = file.start
            stream.pointee.avail_in = UInt32(file.count)
        }
        /// Offset in the file of the next byte zlib would read.
        func inputOffset() -> Int {
            file.bytesRead - Int(stream.pointee.avail_in)
        }
        /// Consumes zero bytes to the end of the file; any other byte is an error.
        func skipZeroPadding() throws(TrailFileError) {
            repeat {
                let unread = UnsafeRawBufferPointer(start: stream.pointee.next_in, count: Int(stream.pointee.avail_in))
                if let nonzero = unread.firstIndex(where: { $0 != 0 }) {
                    throw .trailingData(path: path, offset: inputOffset() + nonzero, member: members)
                }
                stream.pointee.avail_in = 0
                guard try file.refill(keeping: 0) > 0 else { return }
                feedBuffer()
            } while true
        }
        /// After a member ended: true if another member follows, false if the file ends properly
        /// (possibly after zero padding).
        func anotherMemberFollows() throws(TrailFileError) -> Bool {
            if stream.pointee.avail_in == 0 {
                guard try file.refill(keeping: 0) > 0 else { return false }
                feedBuffer()
            }
            if stream.pointee.next_in[0] == 0 {
                try skipZeroPadding()
                return false
            }
            if stream.pointee.avail_in < 2 {
                _ = try file.refill(keeping: Int(stream.pointee.avail_in))
                feedBuffer()
            }
            let next = stream.pointee.next_in!
            if stream.pointee.avail_in >= 2, next[0] == 0x1F, next[1] == 0x8B { return true }
            if stream.pointee.avail_in == 1, next[0] == 0x1F {
                throw .truncated(path: path, offset: file.bytesRead)
            }
            throw .trailingData(path: path, offset: inputOffset(), member: members)
        }
        /// Inflates into `output` until it is full (true) or the last member has ended (false).
        func inflateMore() throws(TrailFileError) -> Bool {
            while true {
                if stream.pointee.avail_in == 0 {
                    guard try file.refill(keeping: 0) > 0 else {
                        throw .truncated(path: path, offset: file.bytesRead)
                    }
                    feedBuffer()
                }
                stream.pointee.next_out = outputStart + pending
                stream.pointee.avail_out = UInt32(chunkSize - pending)
                let status = inflate(stream, Z_NO_FLUSH)
                pending = chunkSize - Int(stream.pointee.avail_out)
                switch status {
                case Z_OK, Z_BUF_ERROR:
                    if pending == chunkSize { return true }
                case Z_STREAM_END:
                    guard try anotherMemberFollows() else { return false }
                    inflateReset(stream)
                    members += 1
                case Z_DATA_ERROR:
                    throw .corrupt(
                        path: path, offset: inputOffset(), detail: Self.message(of: stream, or: "invalid data"))
                default:
                    throw .zlib(
                        path: path, offset: inputOffset(), detail: Self.message(of: stream, or: "error \(status)"))
                }
            }
        }

        /// Hands the inflated bytes to `consume`: after each full buffer, at the end, and before an error.
        func deliverPending() throws {
            guard pending > 0 else { return }
            try consume(UnsafeRawBufferPointer(start: output.baseAddress, count: pending))
            delivered += pending
            pending = 0
        }

        feedBuffer()
        var outputFull = true
        while outputFull {
            do {
                outputFull = try inflateMore()
            } catch {
                try deliverPending()
                throw error
            }
            try deliverPending()
        }
        return ReadOutcome(
            format: .gzip(members: members), fileBytes: file.bytesRead, decompressedBytes: delivered,
            bufferBytes: 2 * chunkSize)
    }

    private static func message(of stream: UnsafeMutablePointer<z_stream>, or fallback: String) -> String {
        stream.pointee.msg.map { String(cString: $0) } ?? fallback
    }
}

/// What reading one trail file took and gave, for progress and throughput reports.
public struct ReadOutcome: Sendable, Equatable {
    public enum Format: Sendable, Equatable {
        /// Passed through as stored.
        case plain
        /// Inflated; `members` counts the concatenated gzip members (1 for a file CloudTrail wrote).
        case gzip(members: Int)
    }

    public var format: Format
    /// Bytes read from the file, compressed if it is gzip: its size, as it was read to the end.
    public var fileBytes: Int
    /// Bytes handed to `consume`.
    public var decompressedBytes: Int
    /// Bytes of the reader's own buffers for this file (input, and output for gzip), fixed by `chunkSize`,
    /// never by the file size. zlib's inflate state (about 44 KiB, mostly its 32 KiB window) comes on top.
    public var bufferBytes: Int
}

/// An open file and the buffer its bytes are read into, closed and freed together.
private final class InputFile {
    let path: String
    private let descriptor: Int32
    private let buffer: UnsafeMutableRawBufferPointer
    /// Buffered bytes: the file's bytes `bytesRead - count ..< bytesRead` are at `buffer[0 ..< count]`.
    private(set) var count = 0
    /// Bytes read from the file so far: the offset of the next byte to read.
    private(set) var bytesRead = 0
    private var atEnd = false

    /// Reads into `buffer`, which the caller owns and keeps alive while this file is read.
    init(path: String, buffer: UnsafeMutableRawBufferPointer) throws {
        let descriptor = PathBytes.withCString(path) { open($0, O_RDONLY | O_CLOEXEC) }
        guard descriptor >= 0 else {
            throw TrailFileError.unreadable(path: path, offset: nil, reason: systemErrorText())
        }
        var info = stat()
        if fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
            close(descriptor)
            throw TrailFileError.unreadable(path: path, offset: nil, reason: systemErrorText(EISDIR))
        }
        self.path = path
        self.descriptor = descriptor
        self.buffer = buffer
    }

    deinit {
        close(descriptor)
    }

    var start: UnsafeMutablePointer<UInt8> { buffer.baseAddress!.assumingMemoryBound(to: UInt8.self) }
    var buffered: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: buffer.baseAddress, count: count) }

    /// Moves the last `keep` buffered bytes to the front, then reads until the buffer is full or the file ends.
    /// - Returns: the number of bytes read, 0 at the end of the file.
    func refill(keeping keep: Int) throws(TrailFileError) -> Int {
        let base = buffer.baseAddress!
        if keep > 0 {
            memmove(base, base + (count - keep), keep)
        }
        count = keep
        let before = bytesRead
        while !atEnd, count < buffer.count {
            let got = read(descriptor, base + count, buffer.count - count)
            if got > 0 {
                count += got
                bytesRead += got
            } else if got == 0 {
                atEnd = true
            } else if errno != EINTR {
                throw .unreadable(path: path, offset: bytesRead, reason: systemErrorText())
            }
        }
        return bytesRead - before
    }
}

/// The system's text for an error number (by default the current `errno`), lowercased: `no such file or directory`.
func systemErrorText(_ number: Int32 = errno) -> String {
    String(cString: strerror(number)).lowercased()
}
