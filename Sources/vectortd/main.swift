import VectortDaemon

#if VECTORT_SYNC_MAIN
// valgrind 3.19 cannot run Swift's async main (it crashes in libdispatch's main-thread
// sigsuspend): the instructions benchmark builds with -DVECTORT_SYNC_MAIN, and the main thread
// waits on a semaphore while the daemon runs on the cooperative pool.
import Dispatch

let stopped = DispatchSemaphore(value: 0)
// Detached: top-level code is on the main actor, whose queue the blocked main thread never runs.
Task.detached {
    await VectortdCommand.start()
    stopped.signal()
}
stopped.wait()
#else
await VectortdCommand.start()
#endif
