import Foundation

/// Exclusive advisory locks (`flock`) held while a writing store is open: one on the database
/// file itself, which cannot be deleted from under a running process while it keeps its data,
/// and one on `<path>.lock`, which also stays beside the database as the mark that a state was
/// kept there. Two processes on one state would read every file twice.
///
/// The database file is created here (mode 0600: alerts carry evidence records; SQLite gives its
/// -wal and -shm files the database file's permissions).
final class StateLock {
    private let lockDescriptor: Int32
    private let databaseDescriptor: Int32
    /// `<path>.lock` was there before: a state was kept at this path.
    let lockFileExisted: Bool
    /// The database file did not exist and was created now.
    let databaseWasCreated: Bool
    /// The database file has no bytes (new, or a failed copy).
    let databaseWasEmpty: Bool

    init(statePath: String) throws(StateError) {
        let lockPath = statePath + ".lock"
        lockFileExisted = access(lockPath, F_OK) == 0
        lockDescriptor = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard lockDescriptor >= 0 else {
            throw StateError(path: lockPath, problem: "cannot create the lock file: \(systemErrorText())")
        }
        var created = false
        var descriptor = open(statePath, O_RDWR | O_CLOEXEC)
        if descriptor < 0, errno == ENOENT {
            descriptor = open(statePath, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            created = descriptor >= 0
        }
        guard descriptor >= 0 else {
            let reason = systemErrorText()
            close(lockDescriptor)
            throw StateError(path: statePath, problem: "cannot open the state database: \(reason)")
        }
        databaseDescriptor = descriptor
        databaseWasCreated = created
        for held in [lockDescriptor, databaseDescriptor] where flock(held, LOCK_EX | LOCK_NB) != 0 {
            let reason = errno == EWOULDBLOCK ? "another rolewatch process is using it" : systemErrorText()
            close(lockDescriptor)
            close(databaseDescriptor)
            throw StateError(
                path: statePath, problem: "the state is locked: \(reason) (stop it, or give this one its own --state)")
        }
        var info = stat()
        databaseWasEmpty = fstat(databaseDescriptor, &info) == 0 && info.st_size == 0
    }

    deinit {
        flock(databaseDescriptor, LOCK_UN)
        close(databaseDescriptor)
        flock(lockDescriptor, LOCK_UN)
        close(lockDescriptor)
    }
}
