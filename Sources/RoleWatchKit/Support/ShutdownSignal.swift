#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// SIGINT and SIGTERM as a request to stop. The first one is recorded and makes `descriptor` readable, which wakes
/// every loop waiting on it (`DirectoryWatcher.wakeWhenReadable(_:)`) so that it can finish what it is doing and
/// exit cleanly. A second one ends the process at once with status 130, for when finishing takes too long; that is
/// safe because what the tail stores is written in transactions.
///
/// A signal handler can reach nothing but globals, so the state is process-wide (`signalState`), written by
/// `install()` before the handlers exist and afterwards only by the handler. The handler does nothing but read and
/// write that state and call `write(2)` and `_exit(2)`, all async-signal-safe; it takes no locks and allocates
/// nothing.
public enum ShutdownSignal {
    /// Installs the handlers for SIGINT and SIGTERM; calling it again does nothing. Call it from the main thread
    /// before starting other threads that care about signals.
    public static func install() throws(WatchError) {
        // The first use of a global runs its one-time initialisation, which is not async-signal-safe: this is it.
        guard signalState.pointee.wakeWriteEnd < 0 else { return }
        let (readEnd, writeEnd) = try makeWakePipe()
        signalState.pointee.wakeReadEnd = readEnd
        signalState.pointee.wakeWriteEnd = writeEnd
        var action = sigaction()
        #if canImport(Darwin)
            action.__sigaction_u.__sa_handler = handleShutdownSignal
        #else
            action.__sigaction_handler.sa_handler = handleShutdownSignal
        #endif
        // Each handler runs with both signals blocked on its thread, so a second signal waits for the first to be
        // recorded; SA_RESTART keeps reads and writes elsewhere from failing with EINTR.
        sigemptyset(&action.sa_mask)
        sigaddset(&action.sa_mask, SIGINT)
        sigaddset(&action.sa_mask, SIGTERM)
        action.sa_flags = SA_RESTART
        sigaction(SIGINT, &action, nil)
        sigaction(SIGTERM, &action, nil)
        // A blocked signal mask is inherited across exec: a parent that blocks SIGTERM (some test
        // runners and supervisors do) would otherwise leave this process unable to stop.
        var unblock = sigset_t()
        sigemptyset(&unblock)
        sigaddset(&unblock, SIGINT)
        sigaddset(&unblock, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
    }

    /// Whether a SIGINT or SIGTERM has arrived since `install()`.
    public static var requested: Bool { signalState.pointee.firstSignal != 0 }

    /// The first signal that arrived (`SIGINT` or `SIGTERM`), or nil.
    public static var received: Int32? {
        let signal = signalState.pointee.firstSignal
        return signal == 0 ? nil : signal
    }

    /// Readable from the first signal on, and never read by anyone, so it stays readable: a loop that polls it
    /// cannot miss a signal that arrived just before it started waiting. Must stay open: nil before `install()`.
    public static var descriptor: Int32? {
        let readEnd = signalState.pointee.wakeReadEnd
        return readEnd < 0 ? nil : readEnd
    }
}

/// What the handler shares with everyone else: plain integers, as C's `volatile sig_atomic_t`.
private struct SignalState {
    /// The number of the first shutdown signal, 0 before one arrives.
    var firstSignal: Int32 = 0
    /// The ends of the pipe the handler writes to, -1 before `install()`; never closed.
    var wakeReadEnd: Int32 = -1
    var wakeWriteEnd: Int32 = -1
}

/// Behind a pointer rather than in a global `var`, because Swift checks exclusive access to a global `var` at run
/// time: a handler writing it while the thread it interrupted was reading it would trap. A pointer's memory is not
/// checked, and an aligned 32-bit load or store is never torn.
private nonisolated(unsafe) let signalState: UnsafeMutablePointer<SignalState> = {
    let state = UnsafeMutablePointer<SignalState>.allocate(capacity: 1)
    state.initialize(to: SignalState())
    return state
}()

private func handleShutdownSignal(_ signal: Int32) {
    // Status 130, as a shell reports a command stopped by Ctrl-C.
    guard signalState.pointee.firstSignal == 0 else { _exit(130) }
    signalState.pointee.firstSignal = signal
    let savedErrno = errno
    var byte: UInt8 = 1
    _ = write(signalState.pointee.wakeWriteEnd, &byte, 1)
    errno = savedErrno
}
