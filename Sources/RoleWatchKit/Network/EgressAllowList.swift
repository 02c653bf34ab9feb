import Crypto
import Foundation
import NIOConcurrencyHelpers

/// Where the backend may call from: the prefixes the config lists (`allowed_cidrs`) and those
/// of its vendor files (`allowed_cidrs_file`, see `VendorIPList`), which `tail` reloads when
/// they change.
///
/// Detectors read `cidrs` for every event through the site config, which shares this object
/// with the engine's copy, so a reload is seen by the next event without rebuilding rules.
/// A reload runs on the engine's thread between files (`TrailFollower`); the lock makes a read
/// from another thread (a report) safe too.
///
/// A file that does not parse at load is a config error; one that does not parse on a reload
/// keeps the last good list, with one warning per bad version of the file.
public final class EgressAllowList: Sendable {
    /// The prefixes written in the config itself.
    public let written: [CIDR]
    public let files: [VendorIPList]
    private let state: NIOLockedValueBox<State>

    private struct FileState {
        var prefixes: [CIDR]
        /// What `stat` said when the file was last looked at: unchanged, it is not read again.
        var signature: FileSignature?
        /// SHA-256 of the last good version and of the last bad one warned about.
        var goodDigest: SHA256Digest
        var badDigest: SHA256Digest?
        var warnedUnreadable: String?
    }

    private struct State {
        var files: [FileState]
        var cidrs: [CIDR]
    }

    /// Prefixes written in code or config only.
    public convenience init(_ written: [CIDR]) {
        self.init(written: written, files: [], states: [])
    }

    private init(written: [CIDR], files: [VendorIPList], states: [FileState]) {
        self.written = written
        self.files = files
        state = NIOLockedValueBox(State(files: states, cidrs: Self.union(written, states)))
    }

    /// Reads every file now; the first that cannot be read or parsed is the error.
    static func load(written: [CIDR], files: [VendorIPList]) throws(ConfigError) -> EgressAllowList {
        var states: [FileState] = []
        for file in files {
            let signature = signature(of: file.path)
            let bytes = try file.read()
            states.append(
                FileState(
                    prefixes: try file.prefixes(in: bytes), signature: signature, goodDigest: SHA256.hash(data: bytes)))
        }
        return EgressAllowList(written: written, files: files, states: states)
    }

    /// Every prefix allowed now: the written ones and those of the files' last good versions.
    public var cidrs: [CIDR] { state.withLockedValue { $0.cidrs } }

    /// Whether anything was configured (written prefixes or files).
    public var isConfigured: Bool { !written.isEmpty || !files.isEmpty }

    /// Looks at each file again, and takes in those that changed and parse; `say` gets one line
    /// per change (prefixes added and removed, a few of each) and one warning per bad version.
    /// Called by `tail` on every wake-up: a file whose size, mtime and inode are unchanged is not read.
    public func reload(say: (String) -> Void) {
        for (index, file) in files.enumerated() {
            let signature = Self.signature(of: file.path)
            let known = state.withLockedValue { $0.files[index] }
            guard signature == nil || signature != known.signature else { continue }
            let bytes: [UInt8]
            do {
                bytes = try file.read()
            } catch {
                if known.warnedUnreadable != error.problem {
                    say(
                        "warning: allowed_cidrs_file \(file.path): \(error.problem); keeping the last good list (\(known.prefixes.count) prefixes)"
                    )
                    state.withLockedValue { $0.files[index].warnedUnreadable = error.problem }
                }
                continue
            }
            let digest = SHA256.hash(data: bytes)
            var updated = known
            (updated.signature, updated.warnedUnreadable) = (signature, nil)
            if digest == known.goodDigest {
                updated.badDigest = nil
            } else if digest != known.badDigest {
                do {
                    let prefixes = try file.prefixes(in: bytes)
                    say(Self.change(file, from: known.prefixes, to: prefixes))
                    (updated.prefixes, updated.goodDigest, updated.badDigest) = (prefixes, digest, nil)
                } catch {
                    say("warning: \(error); keeping the last good list (\(known.prefixes.count) prefixes)")
                    updated.badDigest = digest
                }
            }
            state.withLockedValue {
                $0.files[index] = updated
                $0.cidrs = Self.union(written, $0.files)
            }
        }
    }

    /// What a reload changed, in one line: counts, and up to three prefixes of each side.
    static func change(_ file: VendorIPList, from old: [CIDR], to new: [CIDR]) -> String {
        let (before, after) = (Set(old), Set(new))
        func sample(_ set: Set<CIDR>) -> String {
            let shown = set.map(\.description).sorted().prefix(3).joined(separator: ", ")
            return set.count > 3 ? "\(shown), …" : shown
        }
        let added = after.subtracting(before)
        let removed = before.subtracting(after)
        var parts = ["allowed_cidrs_file \(file.path) changed: \(new.count) prefixes (was \(old.count))"]
        if !added.isEmpty { parts.append("added \(added.count) (\(sample(added)))") }
        if !removed.isEmpty { parts.append("removed \(removed.count) (\(sample(removed)))") }
        return parts.joined(separator: "; ")
    }

    private static func union(_ written: [CIDR], _ files: [FileState]) -> [CIDR] {
        var seen: Set<CIDR> = []
        return (written + files.flatMap(\.prefixes)).filter { seen.insert($0).inserted }
    }

    private static func signature(of path: String) -> FileSignature? {
        var info = stat()
        guard PathBytes.withCString(path, { stat($0, &info) }) == 0 else { return nil }
        return FileSignature(info)
    }
}
