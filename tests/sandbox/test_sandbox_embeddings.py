"""The sandbox's embeddings endpoint as the openai SDK sees it: deterministic vectors of the
asked-for length (base64, the SDK's default, or floats), OpenAI's usage, its 400s, and faults."""

from __future__ import annotations

import openai
import pytest

from router.sandbox import Sandbox
from router.sandbox.embeddings import DEFAULT_DIMENSIONS, KNOWN_DIMENSIONS, vector


def test_vectors_are_deterministic_in_either_encoding(oai: openai.OpenAI, sb: Sandbox) -> None:
    out = oai.embeddings.create(model="emb", input=["one", "two"])  # base64 on the wire
    assert [d.index for d in out.data] == [0, 1]
    for d, text in zip(out.data, ["one", "two"], strict=True):
        assert d.embedding == pytest.approx(vector(text, DEFAULT_DIMENSIONS), abs=1e-6)
    assert out.usage.prompt_tokens == out.usage.total_tokens == 2
    floats = oai.embeddings.create(
        model="text-embedding-3-large", input="one", encoding_format="float"
    )
    assert len(floats.data[0].embedding) == KNOWN_DIMENSIONS["text-embedding-3-large"]
    short = oai.embeddings.create(model="emb", input="one", dimensions=5, encoding_format="float")
    assert short.data[0].embedding == vector("one", 5)
    assert sb.stats["embeddings"] == 3


def test_bad_requests_and_faults_answer_as_openai_does(oai: openai.OpenAI, sb: Sandbox) -> None:
    with pytest.raises(openai.BadRequestError, match="non-empty"):
        oai.embeddings.create(model="emb", input=[])
    with pytest.raises(openai.BadRequestError, match="dimensions"):
        oai.embeddings.create(model="emb", input="x", dimensions=0)
    sb.script("429", model="emb")
    with pytest.raises(openai.RateLimitError):
        oai.embeddings.create(model="emb", input="x")
    sb.set_fault("503")
    with pytest.raises(openai.InternalServerError):
        oai.embeddings.create(model="emb", input="x")
