"""What the secrets guardrail finds (provider keys by their shapes, private keys, JWTs) and
what it leaves (words and ids that only start like a key); refusing, masking, reporting."""

from __future__ import annotations

import json

import pytest

from router.guardrails import Guardrails, Secrets
from router.types import Message, ToolCall

from .helpers import masked, user

# Made-up values in each provider's published shape (none of them is a real key).
KEYS = [
    ("openai_key", "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z", "OPENAI_KEY"),
    ("openai_key", "sk-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb3dEf6hIj9kLm2n", "OPENAI_KEY"),
    ("openai_key", "sk-svcacct-Ab3dEf6hIj9kLm2nOp5qRs8tUv1w", "OPENAI_KEY"),
    ("anthropic_key", "sk-ant-api03-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z-AbCdEf", "ANTHROPIC_KEY"),
    ("aws_access_key", "AKIAIOSFODNN7EXAMPLE", "AWS_ACCESS_KEY"),
    ("aws_access_key", "ASIAY34FZKBOKMUTVV7A", "AWS_ACCESS_KEY"),
    ("github_token", "ghp_Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb3d", "GITHUB_TOKEN"),
    ("github_token", "github_pat_11ABCDEFG0" + "a1B2c3D4e5" * 6, "GITHUB_TOKEN"),
    ("gitlab_token", "glpat-Ab3dEf6hIj9kLm2nOp5q", "GITLAB_TOKEN"),
    ("slack_token", "xoxb-123456789012-1234567890123-Ab3dEf6hIj9kLm2nOp5qRs8t", "SLACK_TOKEN"),
    (
        "slack_webhook",
        "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
        "SLACK_WEBHOOK",
    ),
    ("google_api_key", "AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q", "GOOGLE_API_KEY"),
    ("stripe_key", "sk_live_Ab3dEf6hIj9kLm2nOp5qRs8t", "STRIPE_KEY"),
    ("stripe_key", "rk_test_Ab3dEf6hIj9kLm2nOp5qRs8t", "STRIPE_KEY"),
    ("huggingface_token", "hf_Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb", "HUGGINGFACE_TOKEN"),
    ("npm_token", "npm_Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb3d", "NPM_TOKEN"),
    (
        "sendgrid_key",
        "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",
        "SENDGRID_KEY",
    ),
    (
        "jwt",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "JWT",
    ),
]
PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIEowIBAAKCAQEAx3Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb3dEf6hIj9kLm\n"
    "2nOp5qRs8tUv1wXy4z==\n"
    "-----END RSA PRIVATE KEY-----"
)


@pytest.mark.parametrize(
    ("kind", "key", "label"), KEYS, ids=[f"{k}-{i}" for i, (k, _, _) in enumerate(KEYS)]
)
def test_a_key_in_its_published_shape_is_found(kind: str, key: str, label: str) -> None:
    text = f"my key is {key} thanks"
    assert masked(text, Secrets(kinds=(kind,), action="mask")) == f"my key is <{label}_1> thanks"
    decision = Guardrails([Secrets()]).check([user(text)])
    assert decision.refusal is not None and decision.refusal.kind == kind


@pytest.mark.parametrize(
    "text",
    [
        "sk-learn-compatible-estimators",  # a word, not a key (no digit)
        "task-sk-Ab3dEf6hIj9kLm2nOp5qRs8tUv1w",  # sk- glued to a word
        "sk-Ab3dEf6hIj9kLm2n",  # too short
        "AKIAIOSFODNN7EXAMPL",  # 19 characters
        "XAKIAIOSFODNN7EXAMPLE",
        "ghp_short",
        "the github_pat_ prefix",
        "xoxb-no-digits-here",
        "AIzaTooShort",
        "sk_live_short",
        "hf_hub_download_function_name_is_long",
        "eyJhbGciOiJIUzI1NiJ9 alone",
        "eyJhbGciOiJIUzI1NiJ9.notjson.sig",
        "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkq\n-----END PUBLIC KEY-----",
        "a secret: it is 40 characters of base64 but not after a key name",
        "secret_key = short",
    ],
)
def test_what_only_looks_like_a_key_is_left(text: str) -> None:
    assert masked(text, Secrets(action="mask")) == text
    assert not Guardrails([Secrets()]).check([user(text)]).refused


def test_an_aws_secret_key_is_found_after_its_name_and_only_the_value_is_masked() -> None:
    value = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    for text in (
        f"aws_secret_access_key = {value}",
        f'"SecretAccessKey": "{value}"',
        f"AWS_SECRET_ACCESS_KEY={value}",
    ):
        out = masked(text, Secrets(kinds=("aws_secret_key",), action="mask"))
        assert out == text.replace(value, "<AWS_SECRET_KEY_1>")


def test_a_private_key_block_is_masked_whole() -> None:
    text = f"here:\n{PEM}\nthat is all"
    assert masked(text, Secrets(action="mask")) == "here:\n<PRIVATE_KEY_1>\nthat is all"


@pytest.mark.parametrize(
    "header", ["PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY", "ENCRYPTED PRIVATE KEY"]
)
def test_every_kind_of_pem_private_key_is_found(header: str) -> None:
    text = f"-----BEGIN {header}-----\nAAAAB3NzaC1yc2E=\n-----END {header}-----"
    assert masked(text, Secrets(action="mask")) == "<PRIVATE_KEY_1>"


def test_a_private_key_cut_short_is_masked_to_the_end_of_its_body() -> None:
    text = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkq\nhkiG9w0BAQEFAASC\n\nand then words"
    out = masked(text, Secrets(action="mask"))
    assert out.startswith("<PRIVATE_KEY_1>") and "MIIE" not in out and "hkiG" not in out


def test_a_private_key_in_tool_call_arguments_keeps_the_json_valid() -> None:
    arguments = json.dumps({"key": PEM, "note": "deploy"})
    message = Message("assistant", "", tool_calls=(ToolCall("c1", "deploy", arguments),))
    out = Guardrails([Secrets(action="mask")]).check([message]).messages[0]
    assert json.loads(out.tool_calls[0].arguments) == {"key": "<PRIVATE_KEY_1>", "note": "deploy"}


def test_two_begins_and_one_end_are_one_block() -> None:
    begin, end = "-----BEGIN PRIVATE KEY-----", "-----END PRIVATE KEY-----"
    text = f"{begin}\nAAAA\n{begin}\nBBBB\n{end}"
    assert masked(text, Secrets(action="mask")) == "<PRIVATE_KEY_1>"


def test_an_anthropic_key_is_not_also_an_openai_key() -> None:
    key = KEYS[3][1]
    decision = Guardrails([Secrets(action="report")]).check([user(f"{key} and {key}")])
    assert decision.counts() == {"secrets": {"anthropic_key": 2}}


def test_masked_secrets_are_never_restored() -> None:
    key = KEYS[0][1]
    decision = Guardrails([Secrets(action="mask")]).check([user(f"key {key}")])
    assert decision.messages[0].content == "key <OPENAI_KEY_1>"
    assert len(decision.restore) == 0
    assert decision.restore.text("echo <OPENAI_KEY_1>") == "echo <OPENAI_KEY_1>"


def test_a_refusal_names_the_guardrail_the_kind_and_where_never_the_key() -> None:
    key = KEYS[0][1]
    messages = [Message("system", "be brief"), user("hello"), user(f"use {key} please")]
    decision = Guardrails([Secrets("no-keys")]).check(messages)
    refusal = decision.refusal
    assert refusal is not None
    assert (refusal.guardrail, refusal.kind, refusal.argument) == (
        "no-keys",
        "openai_key",
        "messages[2].content",
    )
    assert decision.messages == tuple(messages)  # nothing is rewritten when refused
    error = refusal.error()
    assert str(error) == (
        "guardrail 'no-keys' refused the request: messages[2].content holds an OpenAI API key "
        "(openai_key); nothing was sent"
    )
    for shown in (str(error), repr(error), repr(error.args), repr(decision), repr(refusal)):
        assert key not in shown and key[8:16] not in shown
