#!/usr/bin/env bash
# The gateway, keys-free: `router serve --sandbox --no-auth` on a free loopback port (every
# provider of the spec answered by the in-process sandbox), then a `curl` and an OpenAI SDK
# call against it, then SIGTERM (it drains and exits 0). Run by scripts/demo.sh after
# `router demo`; on its own: bash scripts/demo_gateway.sh [SPEC] (default configs/demo.yaml).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUTER=${ROUTER:-.venv/bin/router}
PYTHON=${PYTHON:-.venv/bin/python}
SPEC=${1:-configs/demo.yaml}
tmp=$(mktemp -d)
"$ROUTER" serve --config "$SPEC" --sandbox --no-auth --port 0 --no-access-log \
  >"$tmp/out" 2>"$tmp/err" &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
for _ in $(seq 600); do  # up to 60 s for the SDKs to load on a cold machine
  grep -q "listening on" "$tmp/out" 2>/dev/null && break
  if ! kill -0 "$pid" 2>/dev/null; then cat "$tmp/err" >&2; exit 1; fi
  sleep 0.1
done
url=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$tmp/out" | head -1)
if [ -z "$url" ]; then echo "router serve did not start" >&2; cat "$tmp/err" >&2; exit 1; fi
task=$(sed -n 's/^  \([a-z_-]*\):$/\1/p' "$SPEC" | grep -m1 -x -e summarize -e chat || true)
task=${task:-summarize}

echo "7. the gateway: router serve --config $SPEC --sandbox --no-auth (keys-free) at $url"
echo "   \$ curl -s $url/v1/chat/completions -d '{\"model\": \"$task\", \"messages\": [...]}'"
curl -sS -D "$tmp/headers" "$url/v1/chat/completions" -H 'content-type: application/json' \
  -d "{\"model\": \"$task\", \"messages\": [{\"role\": \"user\", \"content\": \"The gateway speaks the OpenAI wire format. Any client can call it.\"}]}" \
  >"$tmp/body"
"$PYTHON" - "$tmp/body" "$tmp/headers" <<'PY'
import json, sys
body = json.load(open(sys.argv[1]))
head = dict(
    line.split(": ", 1) for line in open(sys.argv[2]).read().splitlines()[1:] if ": " in line
)
print(f"   answer: {body['choices'][0]['message']['content']}")
print("   headers: " + " · ".join(f"{k}: {v}" for k, v in head.items() if k.startswith("x-router-")))
PY
echo "   the OpenAI SDK, unmodified: OpenAI(base_url=\"$url/v1\").chat.completions.create(...)"
"$PYTHON" - "$url" "$task" <<'PY'
import sys
from openai import OpenAI

url, task = sys.argv[1], sys.argv[2]
with OpenAI(base_url=url + "/v1", api_key="unused", max_retries=0) as client:
    r = client.chat.completions.create(
        model=task, messages=[{"role": "user", "content": "Is the gateway answering? Say so."}]
    )
    print(f"   answer: {r.choices[0].message.content}  (model {r.model})")
PY
kill -TERM "$pid"
wait "$pid"
trap - EXIT
rm -rf "$tmp"
echo "   stopped with SIGTERM (requests in flight drain first). Your own spec, keys-free:"
echo "   router serve --config routes.yaml --sandbox --no-auth"
