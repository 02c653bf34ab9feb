import Foundation
import Testing

@testable import RoleWatchKit

/// The first signal only, in this process: a second one would end the test runner (a CLI test covers it).
@Suite struct ShutdownSignalTests {
    @Test func firstSignalIsRecordedAndWakesWhoeverWaitsOnIt() throws {
        var previousInterrupt = sigaction()
        var previousTerminate = sigaction()
        sigaction(SIGINT, nil, &previousInterrupt)
        sigaction(SIGTERM, nil, &previousTerminate)
        defer {
            sigaction(SIGINT, &previousInterrupt, nil)
            sigaction(SIGTERM, &previousTerminate, nil)
        }
        try ShutdownSignal.install()
        try ShutdownSignal.install()
        let descriptor = try #require(ShutdownSignal.descriptor)
        #expect(!ShutdownSignal.requested)
        #expect(ShutdownSignal.received == nil)

        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let watcher = try DirectoryWatcher(root: directory.path, mode: .polling(interval: .seconds(60)))
        watcher.wakeWhenReadable(descriptor)

        // To the process, not with raise(3): test threads block signals, and one sent to such a thread would
        // wait there; the kernel hands this one to a thread that takes it, as it would in the CLI.
        kill(getpid(), SIGTERM)

        // The descriptor stays readable, so the wait after the first returns at once too.
        for _ in 0..<2 {
            let started = ContinuousClock.now
            #expect(watcher.next(timeout: .seconds(30)) == [])
            #expect(started.duration(to: .now) < .seconds(20))
        }
        #expect(ShutdownSignal.requested)
        #expect(ShutdownSignal.received == SIGTERM)
        var readable = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        #expect(poll(&readable, 1, 0) == 1)
    }
}
