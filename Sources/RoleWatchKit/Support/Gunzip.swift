import CZlib

/// Inflates a gzip document held in memory, with zlib: for data RoleWatch carries whole (the
/// built-in AWS ranges), never for trail files, which `TrailFileReader` streams.
enum Gunzip {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The inflated bytes of every member of `compressed`, refusing more than `limit` of them.
    static func inflate(_ compressed: [UInt8], limit: Int) throws(Failure) -> [UInt8] {
        var stream = z_stream()
        guard rolewatch_inflateInit2(&stream, 15 + 16) == Z_OK else { throw Failure(description: "zlib: out of memory") }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var consumed = 0
        var ended = false
        while !ended || consumed < compressed.count {
            if ended {
                inflateReset(&stream)  // another member follows
                ended = false
            }
            let status = compressed.withUnsafeBufferPointer { input in
                chunk.withUnsafeMutableBufferPointer { out -> Int32 in
                    stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress.map { $0 + consumed })
                    stream.avail_in = UInt32(input.count - consumed)
                    stream.next_out = out.baseAddress
                    stream.avail_out = UInt32(out.count)
                    let status = CZlib.inflate(&stream, Z_NO_FLUSH)
                    consumed = input.count - Int(stream.avail_in)
                    return status
                }
            }
            output.append(contentsOf: chunk[..<(chunk.count - Int(stream.avail_out))])
            guard output.count <= limit else { throw Failure(description: "more than \(limit) bytes once inflated") }
            switch status {
            case Z_STREAM_END:
                ended = true
            case Z_OK where consumed < compressed.count || stream.avail_out == 0:
                continue
            case Z_OK, Z_BUF_ERROR:
                throw Failure(description: "the gzip data ends early")
            default:
                throw Failure(description: "not valid gzip data (zlib status \(status))")
            }
        }
        return output
    }
}
