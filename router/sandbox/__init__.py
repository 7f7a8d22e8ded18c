"""A local sandbox LLM provider speaking the OpenAI and Anthropic wire formats.

    from router.sandbox import Sandbox
    with Sandbox() as sb:
        OpenAI(base_url=sb.openai_base_url, api_key="k")
        Anthropic(base_url=sb.anthropic_base_url, api_key="k")
        sb.script("429,retry-after=2", times=1)      # next completion request fails
        sb.set_fault("500,p=0.3", model="gpt-x")      # persistent, seeded-random fault
        sb.requests, sb.stats, sb.reset()

Answers are deterministic, written as a model doing the request's task would start (read from
the system prompt and the user's words): "Summary: <first sentence of the last user message>"
for a summary or a plain statement, a greeting for a greeting, a code block for code, JSON
for an extraction, "Good question: ..." for a question (see answer.py); faults
follow the grammar documented in router/sandbox/faults.py. `python -m router.sandbox`
runs one in the foreground (its /_sandbox/* control endpoints are in control.py).
"""

from .answer import count_tokens
from .faults import FaultSpec, parse_fault
from .sandbox import Sandbox, serve
from .state import DEFAULT_MODELS, RecordedRequest

__all__ = [
    "DEFAULT_MODELS",
    "FaultSpec",
    "RecordedRequest",
    "Sandbox",
    "count_tokens",
    "parse_fault",
    "serve",
]
