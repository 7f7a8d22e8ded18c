"""Redaction takes values out of text (keys, tokens, passwords), never the words around them."""

from __future__ import annotations

import pytest

from router.redaction import (
    MASK,
    Secrets,
    credential_header,
    credential_value,
    describe,
    redact,
    url_secrets,
)

# (text, the secret value in it)
SECRETS_IN_TEXT = [
    (
        "Incorrect API key provided: sk-Tq8Zr3Wn6Mv1Xk4Pb9Lc2Hd7Fj5Gs0Ay.",
        "sk-Tq8Zr3Wn6Mv1Xk4Pb9Lc2Hd7Fj5Gs0Ay",
    ),
    ("key sk-proj-Ab3dE6gH9jK2mN5pQ8sT1vW4yZ7 is revoked", "sk-proj-Ab3dE6gH9jK2mN5pQ8sT1vW4yZ7"),
    (
        "bad key sk-ant-api03-Qz7Wm2Xk9Lp4Rt8Yv3Bn6-Hc1Jd5Fg0AA",
        "sk-ant-api03-Qz7Wm2Xk9Lp4Rt8Yv3Bn6-Hc1Jd5Fg0AA",
    ),
    (
        "Incorrect API key provided: sk-abc12***************wxyz. You can",
        "sk-abc12***************wxyz",
    ),
    ("Incorrect API key provided: sk-proj-********************************Ab1C.", "sk-proj-****"),
    ("header Authorization: Bearer tok123", "tok123"),
    (
        "sent Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig-Nature_1",
        "eyJhbGci",
    ),
    ("x-api-key: k9", "k9"),
    ("x-api-key=Zp3Lq8Rw2Tk7", "Zp3Lq8Rw2Tk7"),
    ('{"api_key": "abc123def456"}', "abc123def456"),
    ("password: hunter2", "hunter2"),
    ("Proxy-Authorization: Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA"),
    (
        "GET https://generativelanguage.googleapis.com/v1/models?key=AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUv&alt=json",
        "AIzaSyA1b2C3",
    ),
    ("https://example.com/v1?access_token=abcdefghijklmnop1&x=1", "abcdefghijklmnop1"),
    ("Error connecting to redis://:s3cret-canary@127.0.0.1:6390/0", "s3cret-canary"),
    ("proxy https://alice:Pa55-w0rd@proxy.internal:8080 refused", "Pa55-w0rd"),
]


@pytest.mark.parametrize(("text", "secret"), SECRETS_IN_TEXT)
def test_keys_tokens_and_passwords_of_every_shape_are_redacted(text: str, secret: str) -> None:
    out = redact(text)
    assert secret not in out and MASK in out, out
    # Only the value goes: the words before it stay.
    assert out.split(MASK)[0] == text[: len(out.split(MASK)[0])]


ORDINARY = [
    "missing x-api-key header",
    "x-api-key header is required",
    "x-api-key: header is required",
    "invalid x-api-key",
    "anthropic-version: header is required",
    "You didn't provide an API key. You need to provide your API key in an Authorization "
    "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
    "Bearer authentication failed",
    "Invalid 'api_key': must be a string",
    "password reset required; token expired",
    "Rate limit reached for gpt-4o in organization org-abc on tokens per min (TPM): Limit 30000",
    "max_tokens: 4096 is too large; tokens: 5000",
    "sk-learn-compatible estimators",
    "You can find your API key at https://platform.openai.com/account/api-keys.",
    "POST https://res.openai.azure.com/openai/deployments/gpt/chat?api-version=2024-02-01",
    "Connection refused: redis at 127.0.0.1:6379",
    "The model `claude-sonnet-4` does not exist or you do not have access to it.",
    "This plan covers basic 4k contexts; token: 4096 max",
    "password: 3 attempts left",
]


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_sentences_naming_headers_and_keys_are_untouched(text: str) -> None:
    assert redact(text) == text


def test_known_secrets_go_whole_and_in_slices_whatever_their_shape() -> None:
    secret = "correct-horse-battery-staple-42"  # shaped like no key at all
    assert redact(f"echoed {secret}!", secret) == f"echoed {MASK}!"
    # A fragment of 8 characters or more is a leak too (providers echo key fragments).
    assert redact("prefix correct-horse****", secret) == f"prefix {MASK}****"
    assert redact("short 'taple-4' stays", secret) == "short 'taple-4' stays"
    known = Secrets([secret, "abcd"])
    assert redact("abcd and correct-horse-battery", known) == f"{MASK} and {MASK}"
    assert repr(known) == "Secrets(<hidden>)" and secret not in repr(known)
    assert redact("nothing to hide", known) == "nothing to hide"


def test_secrets_of_three_characters_or_less_are_not_looked_for() -> None:
    assert redact("a bad day", "bad") == "a bad day"  # it would eat words


def test_credential_headers_are_told_from_ordinary_ones() -> None:
    for name in ("Authorization", "x-api-key", "api-key", "X-Auth-Token", "x-portkey-api-key"):
        assert credential_header(name), name
    for name in ("anthropic-version", "HTTP-Referer", "X-Title", "OpenAI-Organization"):
        assert not credential_header(name), name
    assert credential_value("Authorization", "Bearer tok-123") == "tok-123"  # not "Bearer"
    assert credential_value("x-gateway-key", "gw-42") == "gw-42"
    assert credential_value("HTTP-Referer", "https://app.example.com") is None


def test_describe_names_the_exception_and_redacts_its_message() -> None:
    exc = ConnectionError("Error connecting to redis://:pw12345@host:6379")
    assert describe(exc) == f"ConnectionError: Error connecting to redis://:{MASK}@host:6379"
    assert describe(TimeoutError()) == "TimeoutError"


def test_the_secrets_of_a_url_are_its_password_and_credential_parameters() -> None:
    assert url_secrets("redis://:pw-1234@127.0.0.1:6379/0") == ["pw-1234"]
    assert url_secrets("rediss://user:p%40ss@cache.internal:6380/2") == ["p%40ss", "p@ss"]
    assert url_secrets("redis://cache:6379/0?password=q-99&db=1") == ["q-99"]
    assert url_secrets("redis://127.0.0.1:6379/0") == []  # a location is not a secret
