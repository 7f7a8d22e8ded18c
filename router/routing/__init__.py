"""Routing, in pure code (no I/O, no clock read, no sleep): which models a request may go to
and in what order, and what to do next after each attempt.

- :mod:`router.routing.arguments`: every per-call argument checked before anything is sent;
- :mod:`router.routing.extras`: provider parameters (``service_tier``, ``top_k``...), checked
  against what the chain's models declare, and the fields each deployment is sent;
- :mod:`router.routing.plan`: request features → rules → candidates and fallbacks → the chain;
- :mod:`router.routing.explain`: the plan as text and as data (``router explain``);
- :mod:`router.routing.call`: call preparation (``prepare_call``), the :class:`Target` of one
  model and ``build_request``, the request one attempt sends;
- :mod:`router.routing.walk`: the chain walk (:class:`ChainRun`), which decides (go to a
  target, wait, done) while a driver in :mod:`router.engine` does the I/O;
- :mod:`router.routing.retry`: the retry policy (the retry share and the backoff).
"""
