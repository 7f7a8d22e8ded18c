"""I/O plumbing shared by the providers and the state backends: a request's deadline across
threads and event loops (:mod:`router.aio.deadline`: the sync driver's socket watchdog, the
async driver's timers), clients that belong to one event loop
(:mod:`router.aio.eventloops`) and worker threads started on first use
(:mod:`router.aio.workers`). Imports only the bottom layer."""
