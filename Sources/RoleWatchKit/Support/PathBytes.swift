#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// File names are bytes, not text: Linux allows any byte but `/` and NUL, and a name that is
/// not UTF-8 must still be read, stored and shown. Swift's `String` cannot hold such bytes, so
/// paths are carried as strings in which every byte that is not part of valid UTF-8 stands as
/// one code point of U+10FF00…U+10FFFF (the end of a private-use plane; a real name using those
/// code points has their bytes escaped the same way, so the mapping is one to one). System
/// calls get the original bytes back (`withCString`); messages show such bytes as `\xHH`
/// (`display`).
enum PathBytes {
    private static let escapeBase: UInt32 = 0x10_FF00

    /// The path string for a name or path as the system gives it.
    static func string<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        let bytes = Array(bytes)
        if let text = String(validating: bytes, as: UTF8.self), !text.utf8.contains(0xF4) { return text }
        var scalars = String.UnicodeScalarView()
        var index = 0
        while index < bytes.count {
            if let (scalar, length) = decode(bytes, at: index), scalar.value < escapeBase {
                scalars.append(scalar)
                index += length
            } else {
                scalars.append(Unicode.Scalar(escapeBase + UInt32(bytes[index]))!)
                index += 1
            }
        }
        return String(scalars)
    }

    /// The original bytes of a path string.
    static func bytes(_ path: String) -> [UInt8] {
        guard path.utf8.contains(0xF4) else { return Array(path.utf8) }
        var bytes: [UInt8] = []
        for scalar in path.unicodeScalars {
            if scalar.value >= escapeBase {
                bytes.append(UInt8(scalar.value - escapeBase))
            } else {
                bytes.append(contentsOf: String(scalar).utf8)
            }
        }
        return bytes
    }

    /// Calls `body` with the path as the system knows it, NUL-terminated.
    static func withCString<T>(_ path: String, _ body: (UnsafePointer<CChar>) throws -> T) rethrows -> T {
        guard path.utf8.contains(0xF4) else { return try path.withCString(body) }
        let terminated = bytes(path).map { CChar(bitPattern: $0) } + [0]
        return try terminated.withUnsafeBufferPointer { try body($0.baseAddress!) }
    }

    /// The path for a message: bytes that are not UTF-8 shown as `\xHH`.
    static func display(_ path: String) -> String {
        guard path.utf8.contains(0xF4) else { return path }
        var shown = ""
        for scalar in path.unicodeScalars {
            if scalar.value >= escapeBase {
                let byte = String(scalar.value - escapeBase, radix: 16, uppercase: false)
                shown += "\\x" + (byte.count == 1 ? "0" : "") + byte
            } else {
                shown.unicodeScalars.append(scalar)
            }
        }
        return shown
    }

    /// The scalar of the valid UTF-8 sequence at `index`, with its length; nil if the bytes there
    /// are not one (a stray continuation byte, a truncated or overlong sequence, a surrogate).
    private static func decode(_ bytes: [UInt8], at index: Int) -> (Unicode.Scalar, Int)? {
        let lead = bytes[index]
        let (length, minimum, initial): (Int, UInt32, UInt32)
        switch lead {
        case 0x00...0x7F: return (Unicode.Scalar(lead), 1)
        case 0xC2...0xDF: (length, minimum, initial) = (2, 0x80, UInt32(lead & 0x1F))
        case 0xE0...0xEF: (length, minimum, initial) = (3, 0x800, UInt32(lead & 0x0F))
        case 0xF0...0xF4: (length, minimum, initial) = (4, 0x10000, UInt32(lead & 0x07))
        default: return nil
        }
        guard index + length <= bytes.count else { return nil }
        var value = initial
        for offset in 1..<length {
            let byte = bytes[index + offset]
            guard byte & 0xC0 == 0x80 else { return nil }
            value = value << 6 | UInt32(byte & 0x3F)
        }
        guard value >= minimum, let scalar = Unicode.Scalar(value) else { return nil }
        return (scalar, length)
    }
}
