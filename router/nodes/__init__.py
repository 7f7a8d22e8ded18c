"""The nodes of a model's stack, each wrapping the next: cache → breaker → limiter → adapter.
They read the spec's policies and the state backend; the retry policy lives in
:mod:`router.routing.retry` (the chain walk retries, not a node)."""
