import CZlib

/// Compresses bytes into one gzip member with zlib, for generated archives (`Samples/`,
/// benchmark archives) that must look exactly like what CloudTrail writes to S3.
public enum Gzip {
    public enum Failure: Error, CustomStringConvertible {
        case zlib(Int32)
        public var description: String {
            switch self {
            case .zlib(let status): "zlib deflate failed with status \(status)"
            }
        }
    }

    public static func compress(_ input: [UInt8], level: Int32 = 6) throws(Failure) -> [UInt8] {
        // zlib keeps the stream's address in its state, so the stream lives on the heap.
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        defer { stream.deallocate() }
        let status = rolewatch_deflateInit2(stream, level, 15 + 16)
        guard status == Z_OK else { throw .zlib(status) }
        defer { deflateEnd(stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(stream, UInt(input.count))) + 32)
        let result: Int32 = input.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target in
                stream.pointee.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
                stream.pointee.avail_in = UInt32(source.count)
                stream.pointee.next_out = target.baseAddress
                stream.pointee.avail_out = UInt32(target.count)
                return deflate(stream, Z_FINISH)
            }
        }
        guard result == Z_STREAM_END else { throw .zlib(result) }
        output.removeSubrange(Int(stream.pointee.total_out)...)
        return output
    }
}
