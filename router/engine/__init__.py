"""The engine: the :class:`~router.engine.router.Router` and what it runs.

- :mod:`router.engine.compile`: the spec compiled into a runtime (adapters, state backend,
  each model's node stack);
- :mod:`router.engine.router`: the Router; :mod:`router.engine.drive`: its sync and async
  drivers of the chain walk; :mod:`router.engine.inventory`: its model list;
- :mod:`router.engine.streams`: the stream drivers; :mod:`router.engine.hedge`: hedged attempts;
- :mod:`router.engine.accounting`: the ledger, spend and latency after each request;
  :mod:`router.engine.spend`: spend caps; :mod:`router.engine.latency`: latency windows;
- :mod:`router.engine.graph`: the compiled graph, drawn.
"""
