import Foundation

/// An exclusive advisory lock (`flock`) on a file beside the state database, held while the
/// store is open: two tail processes on one state would read every file twice.
final class StateLock {
    private let descriptor: Int32

    init(path: String, statePath: String) throws(StateError) {
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw StateError(path: path, problem: "cannot create the lock file: \(String(cString: strerror(errno)))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let reason = errno == EWOULDBLOCK ? "another rolewatch process is using it" : String(cString: strerror(errno))
            close(descriptor)
            throw StateError(
                path: statePath,
                problem: "the state is locked: \(reason) (stop it, or give this one its own --state)")
        }
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
