#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// What a walk records of a trail file, to tell on the next walk whether it may hold new records.
///
/// A change in any part counts: a size or modification time that moved means more bytes were written, and a
/// new inode under the same name means the file was replaced (a rename over it). From `stat(2)`, links followed.
struct FileSignature: Equatable {
    /// `st_size` in bytes.
    var size: Int64
    /// `st_mtim` in nanoseconds since the Unix epoch, so two writes within one second still differ.
    var modified: Int64
    /// `st_ino`.
    var inode: UInt64

    init(_ info: stat) {
        #if canImport(Darwin)
            let time = info.st_mtimespec
        #else
            let time = info.st_mtim
        #endif
        size = Int64(info.st_size)
        modified = Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
        inode = UInt64(info.st_ino)
    }
}

/// The trail files under a watched root as last seen, by directory and then by name, so a directory's path is
/// stored once rather than once per file: memory grows with the number of files, which is unavoidable for
/// noticing changes by polling.
struct TreeSnapshot {
    private(set) var directories: [String: [String: FileSignature]] = [:]

    /// The path of every file, in no particular order.
    var paths: [String] {
        directories.flatMap { directory, files in files.keys.map { joinPath(directory, $0) } }
    }

    mutating func record(_ signature: FileSignature, name: String, in directory: String) {
        directories[directory, default: [:]][name] = signature
    }

    /// Forgets `directory` and everything below it, which has left the tree.
    mutating func removeDirectories(under directory: String) {
        let prefix = directory + "/"
        for path in directories.keys where path == directory || path.hasPrefix(prefix) {
            directories[path] = nil
        }
    }

    /// Puts what `subtree` saw in place of what was known of its directories.
    mutating func merge(_ subtree: TreeSnapshot) {
        directories.merge(subtree.directories) { _, new in new }
    }

    /// The paths of the files in `newer` that were not in this snapshot, or whose signature differs.
    func changedPaths(in newer: TreeSnapshot) -> [String] {
        var changed: [String] = []
        for (directory, files) in newer.directories {
            let known = directories[directory] ?? [:]
            for (name, signature) in files where known[name] != signature {
                changed.append(joinPath(directory, name))
            }
        }
        return changed
    }
}

/// One walk of a directory tree, seeing the same files discovery (`TrailFiles`) would take from it: names
/// starting with `.` are skipped and hidden directories not entered, symbolic links are followed, a directory
/// reached a second time (a link loop) is not entered again, and only regular files with trail file names are
/// recorded. `CloudTrail-Digest` directories are not entered at all, as discovery would take nothing from them.
struct TreeWalk {
    private(set) var snapshot = TreeSnapshot()
    /// Directories that could not be listed and entries that could not be examined, as readable lines, in walk
    /// order. Entries that vanish while the walk runs are not problems: files come and go under a live tree.
    private(set) var problems: [String] = []
    /// The root did not exist. Not one of `problems`: a new directory that vanished before it could be walked is
    /// normal under a live tree, and only the caller knows whether this root is one or the watched root itself.
    private(set) var rootMissing = false
    private var entered: Set<DirectoryIdentity> = []

    private struct DirectoryIdentity: Hashable {
        var device: UInt64
        var inode: UInt64
    }

    /// Walks `root`, calling `entering` with each directory's path before listing it, so that a watch added
    /// there sees every file created after the listing began: a file is either listed or announced, never neither.
    init(root: String, entering: (String) -> Void) {
        var info = stat()
        guard PathBytes.withCString(root, { stat($0, &info) }) == 0 else {
            if errno == ENOENT {
                rootMissing = true
            } else {
                problems.append("cannot read \(PathBytes.display(root)): \(systemErrorText())")
            }
            return
        }
        guard (info.st_mode & S_IFMT) == S_IFDIR else {
            problems.append("cannot read \(PathBytes.display(root)): not a directory")
            return
        }
        visitDirectory(root, info, entering)
    }

    /// Whether a directory with this name (not a path) is walked and watched.
    static func isEnteredDirectoryName(_ name: String) -> Bool {
        !name.hasPrefix(".") && name != "CloudTrail-Digest"
    }

    private mutating func visitDirectory(_ path: String, _ info: stat, _ entering: (String) -> Void) {
        guard entered.insert(DirectoryIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))).inserted
        else { return }
        entering(path)
        guard let directory = PathBytes.withCString(path, opendir) else {
            if errno != ENOENT { problems.append("cannot list \(PathBytes.display(path)): \(systemErrorText())") }
            return
        }
        var subdirectories: [(path: String, info: stat)] = []
        while let entry = readdir(directory) {
            var rawName = entry.pointee.d_name
            let name = withUnsafeBytes(of: &rawName) { PathBytes.string($0.prefix { $0 != 0 }) }
            // Also skips `.` and `..`.
            guard !name.hasPrefix(".") else { continue }
            let child = joinPath(path, name)
            let isCandidateFile = TrailFiles.isTrailFileName(child)
            // The entry type saves a stat for each file that is not a candidate; links and unknown types are
            // looked at through stat.
            if Int32(entry.pointee.d_type) == Int32(DT_REG) && !isCandidateFile { continue }
            var info = stat()
            guard PathBytes.withCString(child, { stat($0, &info) }) == 0 else {
                if errno != ENOENT { problems.append("cannot read \(PathBytes.display(child)): \(systemErrorText())") }
                continue
            }
            switch info.st_mode & S_IFMT {
            case S_IFDIR where Self.isEnteredDirectoryName(name):
                subdirectories.append((child, info))
            case S_IFREG where isCandidateFile:
                snapshot.record(FileSignature(info), name: name, in: path)
            default:
                break
            }
        }
        closedir(directory)
        for subdirectory in subdirectories {
            visitDirectory(subdirectory.path, subdirectory.info, entering)
        }
    }
}

/// `name` inside `directory`, with exactly one `/` between them.
func joinPath(_ directory: String, _ name: String) -> String {
    directory.hasSuffix("/") ? directory + name : directory + "/" + name
}
