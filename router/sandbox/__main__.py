"""python -m router.sandbox --port 0   ->   prints "READY <port>", serves until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse

from .sandbox import serve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m router.sandbox", description="Local OpenAI/Anthropic sandbox LLM provider."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument(
        "--api-key", default=None, help="require exactly this key (default: any non-empty key)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed for p= fault rolls and ids")
    args = parser.parse_args(argv)
    serve(
        args.host,
        args.port,
        args.api_key,
        seed=args.seed,
        ready=lambda port: print(f"READY {port}", flush=True),
    )


if __name__ == "__main__":
    main()
