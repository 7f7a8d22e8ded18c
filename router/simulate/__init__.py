"""``router simulate``: a seeded workload through the real router, every provider replaced by an
in-process sandbox, with faults injected per model; reports per task which models answered,
the fallbacks taken, the requests lost, cost and latency percentiles. A CI check of a config:
``report.exit_code`` is 0 only when no request was lost.

    from router.simulate import run_simulation, format_report
    report = run_simulation("configs/routes.yaml", requests=1000, faults="first=500,p=0.3")
    print(format_report(report)); raise SystemExit(report.exit_code)

- The router is the real one (planning, chain walk, retries, limits, breakers, cache), with
  its adapters making real HTTP calls to the sandbox; only the clock is simulated
  (:mod:`router.simulate.clock`): backoffs, Retry-After, limits, arrivals and model latency
  cost no real time, so a simulated hour runs in seconds.
- Faults: the grammar in :mod:`router.simulate.faults`, e.g. ``first=500,p=0.3;
  model:claude-haiku=delay=200``. Probabilities are rolled per attempt from the seed, so the
  same seed gives the same report.
- Latency: each successful call takes a time drawn from its model's ``latency`` prior
  (lognormal through p50 and p95), plus injected ``delay=``, plus the router's own waits.
- No key is needed or sent: every variable the providers read gets a dummy value in a
  private environment; the spec's state backend is replaced by a private in-memory one.
"""

from .faults import FaultRule, FaultSpecError, parse_faults
from .report import ModelStats, Outcome, SimulationReport, TaskStats, format_report, to_json
from .runner import run_simulation
from .workload import parse_mix

__all__ = [
    "FaultRule",
    "FaultSpecError",
    "ModelStats",
    "Outcome",
    "SimulationReport",
    "TaskStats",
    "format_report",
    "parse_faults",
    "parse_mix",
    "run_simulation",
    "to_json",
]
