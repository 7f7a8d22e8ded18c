"""Secrets pasted into a prompt: provider keys by their published shapes, PEM private keys and
JSON Web Tokens.

Each kind is looked for only when the text holds its literal marker (``sk-``, ``AKIA``,
``-----BEGIN``...: a substring test, no regex), so a text without any costs a few ``in``
tests. Each pattern starts with its literal prefix (the engine skips ahead to it), then a
lookbehind refuses a prefix glued to the character before (a run of look-alike characters is
tried once, from its start); the rest is one character class. Those that need more (a key
holds a digit, so ``sk-learn-...`` is not one) are checked in Python on the match. A PEM
block pairs each ``BEGIN`` with the next ``END`` in one pass over both lists, never by
searching ahead from every ``BEGIN``.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterator
from functools import cache

from router.guardrails.base import Span
from router.guardrails.detect import Detecting, Detector, Found, prioritized
from router.specmodel.guardrails import ROLES, SECRET_KINDS, GuardrailAction

__all__ = ["Secrets", "secret_detectors", "secrets_for"]


def _mixed(token: str) -> bool:
    """A key's random part has digits and letters: words (``sk-learn-compatible``) do not."""
    return any(c.isdigit() for c in token) and any(c.isalpha() for c in token)


# kind → (markers, pattern, check on the match or None, noun)
_SHAPES: dict[str, tuple[tuple[str, ...], str, Callable[[str], bool] | None, str]] = {
    "jwt": (
        ("eyJ",),
        r"eyJ(?<![\w-]eyJ)[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",
        None,
        "a JSON Web Token",
    ),
    "anthropic_key": (
        ("sk-ant-",),
        r"sk-ant-(?<![\w-]sk-ant-)[A-Za-z0-9_-]{20,}",
        _mixed,
        "an Anthropic API key",
    ),
    "openai_key": (
        ("sk-",),
        r"sk-(?<![\w-]sk-)(?!ant-)[A-Za-z0-9_-]{20,}",
        _mixed,
        "an OpenAI API key",
    ),
    # The value after a name that says it is an AWS secret access key (the key alone is 40
    # characters of base64, like many other things).
    "aws_secret_key": (
        ("ecret", "ECRET"),
        r"[sS](?<![A-Za-z0-9][sS])[eE][cC][rR][eE][tT]_?(?:[aA][cC][cC][eE][sS][sS]_?)?[kK][eE][yY]"
        r"[\"']?[ \t]{0,4}[:=][ \t]{0,4}"
        r"[\"']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])",
        None,
        "an AWS secret access key",
    ),
    "aws_access_key": (
        ("AKIA", "ASIA"),
        r"A(?<![A-Za-z0-9]A)(?:KIA|SIA)[A-Z0-9]{16}(?![A-Za-z0-9])",
        None,
        "an AWS access key id",
    ),
    "github_token": (
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
        r"g(?<!\wg)(?:h[pousr]_[A-Za-z0-9]{30,}|ithub_pat_[A-Za-z0-9_]{50,})",
        None,
        "a GitHub token",
    ),
    "gitlab_token": (
        ("glpat-",),
        r"glpat-(?<![\w-]glpat-)[A-Za-z0-9_-]{20,}",
        None,
        "a GitLab token",
    ),
    "slack_webhook": (
        ("hooks.slack.com",),
        r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_-]{20,}",
        None,
        "a Slack webhook URL",
    ),
    "slack_token": (
        ("xox",),
        r"xox(?<![\w-]xox)[abposre]-[A-Za-z0-9-]{10,}",
        _mixed,
        "a Slack token",
    ),
    "google_api_key": (
        ("AIza",),
        r"AIza(?<![\w-]AIza)[0-9A-Za-z_-]{35}(?![\w-])",
        None,
        "a Google API key",
    ),
    "stripe_key": (
        ("_live_", "_test_"),
        r"[sr]k_(?<!\w[sr]k_)(?:live|test)_[A-Za-z0-9]{16,}",
        None,
        "a Stripe secret key",
    ),
    "huggingface_token": (
        ("hf_",),
        r"hf_(?<!\whf_)[A-Za-z0-9]{30,}(?!\w)",
        _mixed,
        "a Hugging Face token",
    ),
    "npm_token": (
        ("npm_",),
        r"npm_(?<!\wnpm_)[A-Za-z0-9]{36}(?!\w)",
        _mixed,
        "an npm token",
    ),
    "sendgrid_key": (
        ("SG.",),
        r"SG\.(?<![\w.-]SG\.)[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}(?![\w-])",
        None,
        "a SendGrid API key",
    ),
}


def _finder(
    markers: tuple[str, ...], pattern: str, check: Callable[[str], bool] | None
) -> Callable[[str], Iterator[Span]]:
    compiled = re.compile(pattern)

    def find(text: str) -> Iterator[Span]:
        if not any(marker in text for marker in markers):
            return
        for m in compiled.finditer(text):
            # A pattern with a group marks only the value (``aws_secret_access_key = VALUE``).
            start, end = m.span(1) if m.re.groups else m.span()
            if check is None or check(text[start:end]):
                yield start, end, text[start:end]

    return find


@cache
def _pem() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    head = r"[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----"
    return (
        re.compile(r"-----BEGIN " + head),
        re.compile(r"-----END " + head),
        # the body of a block that never ends: base64 lines, headers, escaped newlines
        re.compile(r"(?:[A-Za-z0-9+/=:,\s-]|\\[nr])*"),
    )


def _private_keys(text: str) -> Iterator[Span]:
    """Each PEM private key block, from its BEGIN line to the first END line after it (or, for
    a block cut short, to the end of its body). One pass: the END lines are found once and
    each BEGIN takes the next one."""
    if "PRIVATE KEY" not in text:
        return
    begin, end, body = _pem()
    lines = [m.span() for m in end.finditer(text)]
    starts = [s for s, _ in lines]
    pos = 0
    for m in begin.finditer(text):
        if m.start() < pos:
            continue  # inside the block before
        i = bisect.bisect_left(starts, m.end())
        stop = lines[i][1] if i < len(lines) else body.match(text, m.end()).end()  # type: ignore[union-attr]
        yield m.start(), stop, text[m.start() : stop]
        pos = stop


#: The kinds whose every marker holds "_".
_UNDERSCORED = frozenset(
    kind for kind, (markers, *_) in _SHAPES.items() if all("_" in m for m in markers)
)


@cache
def secret_detectors() -> dict[str, Detector]:
    """Every secret kind's detector (patterns compiled on the first call)."""
    _pem()
    found = {"private_key": Detector("private_key", "PRIVATE_KEY", "a private key", _private_keys)}
    for kind, (markers, pattern, check, noun) in _SHAPES.items():
        found[kind] = Detector(kind, kind.upper(), noun, _finder(markers, pattern, check))
    return found


def secrets_for(kinds: tuple[str, ...]) -> tuple[Detector, ...]:
    """The detectors of ``kinds`` (all when empty), in the order they run: private keys and
    JWTs first (their bodies would otherwise be read as other things), Anthropic before
    OpenAI (``sk-ant-`` is also ``sk-``)."""
    known = secret_detectors()
    wanted = set(kinds or SECRET_KINDS)
    return tuple(known[k] for k in SECRET_KINDS if k in wanted)


class Secrets(Detecting):
    """Refuses (or masks as ``<OPENAI_KEY_1>``, never restored, or counts) the requests that
    hold a secret. ``kinds``: any of ``SECRET_KINDS`` (all when empty)."""

    __slots__ = ()

    def __init__(
        self,
        name: str = "secrets",
        *,
        kinds: tuple[str, ...] = (),
        action: GuardrailAction = "refuse",
        roles: frozenset[str] = frozenset(ROLES),
    ) -> None:
        super().__init__(name, "secrets", secrets_for(kinds), action=action, roles=roles)

    def findings(self, text: str) -> list[Found]:
        # Four kinds' markers all hold "_", rare in prose: one test spares their nine.
        underscore = "_" in text
        return prioritized(
            (d, d.find(text)) for d in self.detectors if underscore or d.kind not in _UNDERSCORED
        )
