// SignalWatch, the one signal watcher of the trainer and the explorer: it records signals instead of dying of
// them, and gives their default action back when cancelled.
import Foundation
import Signals
import Testing

@Suite struct SignalWatchTests {
    @Test func aWatchedSignalIsRecordedNotFatal() {
        let watch = SignalWatch([SIGUSR1, SIGUSR2])
        defer { watch.cancel() }
        #expect(!watch.anyReceived && watch.take().isEmpty)
        kill(getpid(), SIGUSR2)
        var got: [Int32] = []
        let deadline = Date().addingTimeInterval(5)
        while got.isEmpty && Date() < deadline {
            got = watch.take()
            Thread.sleep(forTimeInterval: 0.005)
        }
        #expect(got == [SIGUSR2])
        #expect(watch.anyReceived)  // stays set
        #expect(watch.take().isEmpty)  // take empties the list
    }

    @Test func cancelGivesTheDefaultActionBack() {
        let watch = SignalWatch([SIGUSR1])
        var old = sigaction()
        sigaction(SIGUSR1, nil, &old)
        let watched = old.__sigaction_handler.sa_handler != nil  // nil is SIG_DFL
        #expect(watched)
        watch.cancel()
        sigaction(SIGUSR1, nil, &old)
        let restored = old.__sigaction_handler.sa_handler == nil
        #expect(restored)
    }
}
