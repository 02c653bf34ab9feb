import AsyncHTTPClient
import Foundation
import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `rolewatch ip-ranges update`: fetches AWS's current `ip-ranges.json`, checks it, and puts it
/// in place of the copy at a path in one step (a reader sees the old file or the new one, never
/// half of one).
///
/// What is checked: the reply is a 200 of at most `AWSIPRanges.maxFileBytes`; the body is a
/// valid ranges document (`AWSIPRanges(data:source:)`); and it is not older than the ranges in
/// use, since a stale mirror or a replayed reply would quietly make AWS's newer addresses look
/// foreign. The body is written as fetched, so the file is AWS's own.
public enum AWSIPRangesUpdate {
    public static let officialURL = "https://ip-ranges.amazonaws.com/ip-ranges.json"

    public struct Outcome: Sendable {
        /// What was fetched.
        public let fetched: AWSIPRanges
        /// What was in use before.
        public let previous: AWSIPRanges
        /// False when the file already held what was fetched (same syncToken), so nothing was written.
        public let written: Bool
    }

    public enum Failure: Error, CustomStringConvertible {
        case badURL(String)
        case fetch(url: String, reason: String)
        case status(url: String, code: UInt)
        case invalid(AWSIPRangesError)
        case older(fetched: AWSIPRanges, inUse: AWSIPRanges)
        case write(path: String, reason: String)

        public var description: String {
            switch self {
            case .badURL(let url):
                return "\(url): not an https URL (plain http is accepted only on this machine, 127.0.0.1, ::1 or localhost)"
            case .fetch(let url, let reason):
                return "cannot fetch \(url): \(reason); check the network (or a proxy) and try again"
            case .status(let url, let code):
                return "\(url) answered HTTP \(code), not 200; nothing was changed, try again later"
            case .invalid(let error):
                return "\(error); nothing was changed"
            case .older(let fetched, let inUse):
                return "\(fetched.source) has syncToken \(fetched.syncToken) (createDate \(fetched.createDate)), older than the ranges in use (\(inUse.source), syncToken \(inUse.syncToken), createDate \(inUse.createDate)); nothing was changed (--allow-older to take it anyway)"
            case .write(let path, let reason):
                return "cannot write \(path): \(reason); the file there is unchanged"
            }
        }
    }

    /// Fetches `url` and replaces the file at `output` with it, unless it is older than
    /// `inUse` (and `allowOlder` is false) or holds the same syncToken as the file already there.
    public static func run(
        url: String, output: String, inUse: AWSIPRanges, allowOlder: Bool = false, timeout: TimeAmount = .seconds(60)
    ) async throws(Failure) -> Outcome {
        let body = try await fetch(url, timeout: timeout)
        let fetched: AWSIPRanges
        do {
            fetched = try AWSIPRanges(data: Data(body), source: url)
        } catch {
            throw .invalid(error)
        }
        if inUse.isNewer(than: fetched), !allowOlder { throw .older(fetched: fetched, inUse: inUse) }
        if inUse.source == output, inUse.syncToken == fetched.syncToken {
            return Outcome(fetched: fetched, previous: inUse, written: false)
        }
        try replace(output, with: body)
        return Outcome(fetched: fetched, previous: inUse, written: true)
    }

    private static func fetch(_ url: String, timeout: TimeAmount) async throws(Failure) -> [UInt8] {
        guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(),
            scheme == "https" || (scheme == "http" && ["127.0.0.1", "::1", "localhost"].contains(parsed.host ?? ""))
        else { throw .badURL(url) }
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        configuration.timeout = .init(connect: .seconds(20), read: timeout)
        // One attempt: a pool that kept reconnecting until the deadline would turn a refused
        // connection into a 20-second wait and a vaguer message.
        configuration.connectionPool.retryConnectionEstablishment = false
        let http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        do {
            let response = try await http.execute(HTTPClientRequest(url: url), timeout: timeout)
            guard response.status == .ok else { throw Failure.status(url: url, code: response.status.code) }
            let buffer = try await response.body.collect(upTo: AWSIPRanges.maxFileBytes)
            try? await http.shutdown()
            return Array(buffer.readableBytesView)
        } catch {
            try? await http.shutdown()
            if let failure = error as? Failure { throw failure }
            throw .fetch(url: url, reason: explain(error))
        }
    }

    private static func explain(_ error: any Error) -> String {
        if let error = error as? NIOTooManyBytesError {
            return "the reply is larger than \(error.maxBytes ?? AWSIPRanges.maxFileBytes) bytes, which AWS's file never is"
        }
        if let error = error as? HTTPClientError { return String(describing: error) }
        return String(describing: error)
    }

    /// Writes `bytes` to a new file beside `path`, flushes it, and renames it over `path`,
    /// making the folder first if need be.
    static func replace(_ path: String, with bytes: [UInt8]) throws(Failure) {
        let folder = (path as NSString).deletingLastPathComponent
        do {
            if !folder.isEmpty { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        } catch {
            throw .write(path: path, reason: "cannot make its folder: \(error.localizedDescription)")
        }
        let temporary = (folder.isEmpty ? "" : folder + "/") + ".ip-ranges.\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw .write(path: path, reason: systemErrorText()) }
        var failure: String?
        bytes.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count, failure == nil {
                let count = write(descriptor, raw.baseAddress! + done, raw.count - done)
                if count > 0 { done += count } else if errno != EINTR { failure = systemErrorText() }
            }
        }
        if failure == nil, fsync(descriptor) != 0 { failure = systemErrorText() }
        close(descriptor)
        if failure == nil, rename(temporary, path) != 0 { failure = systemErrorText() }
        if let failure {
            unlink(temporary)
            throw .write(path: path, reason: failure)
        }
        let folderDescriptor = open(folder.isEmpty ? "." : folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if folderDescriptor >= 0 {
            fsync(folderDescriptor)
            close(folderDescriptor)
        }
    }
}
