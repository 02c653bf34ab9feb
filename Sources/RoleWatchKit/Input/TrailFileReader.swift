import CISAL
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
/// inflated (every member of a multi-member file, as `cat a.gz b.gz` makes; zero padding after the last
/// member is accepted; each member's CRC-32 and length are checked), anything else is passed through as
/// it is. A name ending in `.gz` whose
/// content is not gzip is an error rather than being read as JSON.
///
/// Errors are `TrailFileError`s, thrown only after every byte decompressed before the damage has gone to
/// `consume`, so the records before a truncation or corruption are still used.
///
/// A reader owns its buffers and its inflate state and reuses them from file to file (trails hold many
/// small files, and fresh buffers per file cost page faults), so each thread uses a reader of its own.
///
/// Two inflaters: ISA-L reads every file first, because inflating is the largest part of reading a
/// trail and ISA-L's runs about twice as fast as zlib's on CloudTrail files. A file ISA-L finds
/// damaged is read again with zlib, which hands over every byte before the damage (ISA-L may hold
/// back up to 64 KiB of its output when it stops) and names the damage exactly; the bytes ISA-L
/// already delivered are skipped, so `consume` sees each byte once.
public final class TrailFileReader {
    /// Bytes asked of each `read(2)`, and the most handed to `consume` at once: 2 bytes (the magic bytes that
    /// start a following gzip member must fit in the input buffer together) to 1 GiB.
    public let chunkSize: Int

    private let input: UnsafeMutableRawBufferPointer
    private let output: UnsafeMutableRawBufferPointer
    /// ISA-L's inflate state (about 110 KiB, mostly its history buffer), on the heap and reused.
    private let state: UnsafeMutablePointer<inflate_state>
    /// zlib keeps the stream's address in its state, so the stream lives on the heap; it is set up
    /// only once a damaged file needs it.
    private let stream: UnsafeMutablePointer<z_stream>
    private var streamInitialised = false

    /// - Parameter chunkSize: the 256 KiB default keeps system calls and inflate calls rare while two buffers
    ///   of it stay in the CPU's cache.
    public init(chunkSize: Int = 1 << 18) {
        precondition((2...(1 << 30)).contains(chunkSize), "chunkSize must be 2 bytes to 1 GiB")
        self.chunkSize = chunkSize
        input = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        output = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        state = UnsafeMutablePointer<inflate_state>.allocate(capacity: 1)
        state.initialize(to: inflate_state())
        stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
    }

    deinit {
        if streamInitialised { inflateEnd(stream) }
        stream.deallocate()
        state.deallocate()
        input.deallocate()
        output.deallocate()
    }

    /// Reads the file at `path` to its end, handing each decompressed chunk to `consume` in order.
    ///
    /// A chunk is valid only during the call and holds at most `chunkSize` bytes; chunk boundaries fall
    /// anywhere, even inside a record. An error thrown by `consume` stops reading and is passed on as it is.
    ///
    /// `opened` sees the file's descriptor once it is open, before anything is read (a scan with
    /// state takes the file's identity from it, rather than opening the file a second time).
    public func read(
        path: String, opened: ((Int32) -> Void)? = nil, consume: (UnsafeRawBufferPointer) throws -> Void
    ) throws -> ReadOutcome {
        let file = try InputFile(path: path, buffer: input)
        opened?(file.descriptor)
        guard try file.refill(keeping: 0) > 0 else { throw TrailFileError.empty(path: path) }
        let head = file.buffered
        if head[0] == 0x1F, head.count == 1 || head[1] == 0x8B {
            do {
                return try inflateFast(file, consume: consume)
            } catch let stopped as FastInflateStopped {
                let again = try InputFile(path: path, buffer: input)
                _ = try again.refill(keeping: 0)
                return try inflateExact(again, skipping: stopped.delivered, consume: consume)
            }
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

    /// ISA-L stopped on damage after handing `delivered` bytes to `consume`.
    private struct FastInflateStopped: Error {
        var delivered: Int
    }

    /// Inflates every gzip member of `file`, whose buffer holds its first bytes, with ISA-L; on
    /// damage throws `FastInflateStopped` (what ISA-L decoded but did not hand over yet is dropped).
    private func inflateFast(_ file: InputFile, consume: (UnsafeRawBufferPointer) throws -> Void) throws
        -> ReadOutcome
    {
        let path = file.path
        let state = self.state
        /// Starts a member: ISA-L parses its gzip header and checks its trailer (CRC-32 and length).
        func beginMember() {
            isal_inflate_init(state)
            state.pointee.crc_flag = UInt32(ISAL_GZIP)
        }
        beginMember()
        let chunkSize = self.chunkSize
        let output = self.output
        let outputStart = output.baseAddress!.assumingMemoryBound(to: UInt8.self)

        var pending = 0  // inflated bytes at the start of `output`, not yet handed to `consume`
        var delivered = 0
        var members = 1
        let edges = MemberEdges(file: file, input: ISALInput(state: state))

        /// Inflates into `output` until it is full (true) or the last member has ended (false).
        ///
        /// ISA-L keeps some input bits and some output of its own between calls, so more input is
        /// read only once a call has left the output room and the member unfinished.
        func inflateMore() throws(TrailFileError) -> Bool {
            while true {
                state.pointee.next_out = outputStart + pending
                state.pointee.avail_out = UInt32(chunkSize - pending)
                let status = isal_inflate(state)
                pending = chunkSize - Int(state.pointee.avail_out)
                // The damage is named by zlib when the file is read again (see the type's comment).
                guard status >= 0 else {
                    throw .corrupt(path: path, offset: edges.inputOffset(), detail: "ISA-L \(status)")
                }
                if state.pointee.block_state == ISAL_BLOCK_FINISH {
                    guard try edges.anotherMemberFollows(members: members) else { return false }
                    // A new member starts where the last one's trailer ended.
                    let (next, available) = (state.pointee.next_in, state.pointee.avail_in)
                    beginMember()
                    (state.pointee.next_in, state.pointee.avail_in) = (next, available)
                    members += 1
                }
                if pending == chunkSize { return true }
                if state.pointee.avail_in == 0, state.pointee.block_state != ISAL_BLOCK_FINISH {
                    guard try file.refill(keeping: 0) > 0 else {
                        throw .truncated(path: path, offset: file.bytesRead)
                    }
                    edges.feedBuffer()
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

        edges.feedBuffer()
        var outputFull = true
        while outputFull {
            do {
                outputFull = try inflateMore()
            } catch {
                throw FastInflateStopped(delivered: delivered)
            }
            try deliverPending()
        }
        return ReadOutcome(
            format: .gzip(members: members), fileBytes: file.bytesRead, decompressedBytes: delivered,
            bufferBytes: 2 * chunkSize)
    }

    /// Inflates every gzip member of `file`, whose buffer holds its first bytes, with zlib, handing
    /// `consume` only what comes after the first `skip` bytes (those it already had).
    private func inflateExact(
        _ file: InputFile, skipping skip: Int, consume: (UnsafeRawBufferPointer) throws -> Void
    ) throws -> ReadOutcome {
        let path = file.path
        let stream = self.stream
        if streamInitialised {
            inflateReset(stream)
        } else {
            guard rolewatch_inflateInit2(stream, 15 + 16) == Z_OK else {
                throw TrailFileError.inflate(path: path, offset: 0, detail: Self.message(of: stream, or: "out of memory"))
            }
            streamInitialised = true
        }
        let chunkSize = self.chunkSize
        let output = self.output
        let outputStart = output.baseAddress!.assumingMemoryBound(to: Bytef.self)

        var pending = 0  // inflated bytes at the start of `output`, not yet handed to `consume`
        var delivered = 0
        var members = 1
        let edges = MemberEdges(file: file, input: ZlibInput(stream: stream))

        /// Inflates into `output` until it is full (true) or the last member has ended (false).
        func inflateMore() throws(TrailFileError) -> Bool {
            while true {
                if stream.pointee.avail_in == 0 {
                    guard try file.refill(keeping: 0) > 0 else {
                        throw .truncated(path: path, offset: file.bytesRead)
                    }
                    edges.feedBuffer()
                }
                stream.pointee.next_out = outputStart + pending
                stream.pointee.avail_out = UInt32(chunkSize - pending)
                let status = inflate(stream, Z_NO_FLUSH)
                pending = chunkSize - Int(stream.pointee.avail_out)
                switch status {
                case Z_OK, Z_BUF_ERROR:
                    if pending == chunkSize { return true }
                case Z_STREAM_END:
                    guard try edges.anotherMemberFollows(members: members) else { return false }
                    inflateReset(stream)
                    members += 1
                case Z_DATA_ERROR:
                    throw .corrupt(
                        path: path, offset: edges.inputOffset(), detail: Self.message(of: stream, or: "invalid data"))
                default:
                    throw .inflate(
                        path: path, offset: edges.inputOffset(), detail: Self.message(of: stream, or: "error \(status)"))
                }
            }
        }

        /// Hands the inflated bytes to `consume`, past the skipped ones: after each full buffer, at
        /// the end, and before an error.
        func deliverPending() throws {
            guard pending > 0 else { return }
            let skipped = min(max(skip - delivered, 0), pending)
            if skipped < pending {
                try consume(UnsafeRawBufferPointer(start: output.baseAddress! + skipped, count: pending - skipped))
            }
            delivered += pending
            pending = 0
        }

        edges.feedBuffer()
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
    /// never by the file size. ISA-L's inflate state (about 110 KiB, mostly its history) comes on top.
    public var bufferBytes: Int
}

/// Where an inflater takes its input: zlib's `z_stream` and ISA-L's `inflate_state` keep it in
/// fields of the same meaning.
private protocol InflaterInput {
    var next: UnsafeMutablePointer<UInt8>? { get nonmutating set }
    var available: UInt32 { get nonmutating set }
}

private struct ZlibInput: InflaterInput {
    let stream: UnsafeMutablePointer<z_stream>
    var next: UnsafeMutablePointer<UInt8>? {
        get { stream.pointee.next_in }
        nonmutating set { stream.pointee.next_in = newValue }
    }
    var available: UInt32 {
        get { stream.pointee.avail_in }
        nonmutating set { stream.pointee.avail_in = newValue }
    }
}

private struct ISALInput: InflaterInput {
    let state: UnsafeMutablePointer<inflate_state>
    var next: UnsafeMutablePointer<UInt8>? {
        get { state.pointee.next_in }
        nonmutating set { state.pointee.next_in = newValue }
    }
    var available: UInt32 {
        get { state.pointee.avail_in }
        nonmutating set { state.pointee.avail_in = newValue }
    }
}

/// What both inflaters do with the file's bytes between gzip members: feed the buffer, tell
/// where they are in the file, and decide whether another member follows.
private struct MemberEdges<Input: InflaterInput> {
    let file: InputFile
    let input: Input

    /// Makes the inflater's input the whole file buffer.
    func feedBuffer() {
        input.next = file.start
        input.available = UInt32(file.count)
    }

    /// Offset in the file of the next byte the inflater would read (bits it has buffered are
    /// counted as read).
    func inputOffset() -> Int {
        file.bytesRead - Int(input.available)
    }

    /// After member `members` ended: true if another member follows, false if the file ends
    /// properly (possibly after zero padding).
    func anotherMemberFollows(members: Int) throws(TrailFileError) -> Bool {
        if input.available == 0 {
            guard try file.refill(keeping: 0) > 0 else { return false }
            feedBuffer()
        }
        if input.next![0] == 0 {
            try skipZeroPadding(members: members)
            return false
        }
        if input.available < 2 {
            _ = try file.refill(keeping: Int(input.available))
            feedBuffer()
        }
        let next = input.next!
        if input.available >= 2, next[0] == 0x1F, next[1] == 0x8B { return true }
        if input.available == 1, next[0] == 0x1F {
            throw .truncated(path: file.path, offset: file.bytesRead)
        }
        throw .trailingData(path: file.path, offset: inputOffset(), member: members)
    }

    /// Consumes zero bytes to the end of the file; any other byte is an error.
    private func skipZeroPadding(members: Int) throws(TrailFileError) {
        repeat {
            let unread = UnsafeRawBufferPointer(start: input.next, count: Int(input.available))
            if let nonzero = unread.firstIndex(where: { $0 != 0 }) {
                throw .trailingData(path: file.path, offset: inputOffset() + nonzero, member: members)
            }
            input.available = 0
            guard try file.refill(keeping: 0) > 0 else { return }
            feedBuffer()
        } while true
    }
}

/// An open file and the buffer its bytes are read into, closed and freed together.
private final class InputFile {
    let path: String
    let descriptor: Int32
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
