"""router: a declarative, config-driven LLM router."""
