"""Semantic checks on content rules (``when.text``): keywords that are empty once cut into
words or that repeat another of their list (case and spacing aside), and regular expressions
that are invalid, unsupported, could backtrack (:mod:`router.spec.regexcheck`) or match
without reading a character. The schema has checked the shapes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from router.diagnostics import Diagnostic
from router.spec.regexcheck import examine
from router.specmodel.content import DEFAULT_MAX_CHARS, keyword_words

if TYPE_CHECKING:
    from router.spec.checks import Context

__all__ = ["check_content", "text_implies"]


def _items(value: Any) -> list[tuple[int | None, str]]:
    """(index, string) for a string or a list of strings; index None for a lone string."""
    if isinstance(value, str):
        return [(None, value)]
    if isinstance(value, list):
        return [(i, v) for i, v in enumerate(value) if isinstance(v, str)]
    return []


def check_content(ctx: Context) -> Iterator[Diagnostic]:
    for i, rule in ctx.rules():
        when = rule.get("when")
        text = when.get("text") if isinstance(when, dict) else None
        if not isinstance(text, dict):
            continue
        base = ("rules", i, "when", "text")
        name = str(rule.get("name", f"#{i}"))
        for key in ("any", "all"):
            yield from _keywords(ctx, (*base, key), name, text.get(key))
        for j, source in _items(text.get("regex")):
            if not source:
                continue  # the schema says it is empty
            path = (*base, "regex", *((j,) if j is not None else ()))
            examined = examine(source)
            if examined.pattern is None:
                yield ctx.doc.diagnostic(
                    path,
                    f"rule '{name}': regex `{source}`: {examined.message}",
                    examined.code,
                    hint=examined.hint,
                )


def _keywords(ctx: Context, path: tuple[Any, ...], rule: str, value: Any) -> Iterator[Diagnostic]:
    seen: dict[tuple[str, ...], str] = {}
    for j, keyword in _items(value):
        at = (*path, *((j,) if j is not None else ()))
        words = keyword_words(keyword)
        if not words:
            yield ctx.doc.diagnostic(
                at,
                f"rule '{rule}': keyword {keyword!r} has no words, so it can never match",
                "empty-keyword",
                hint="remove it, or write the word it should match",
            )
            continue
        if words in seen:
            yield ctx.doc.diagnostic(
                at,
                f"rule '{rule}': keyword {keyword!r} repeats {seen[words]!r} (keywords match "
                "whatever the case and the spacing between words)",
                "duplicate-keyword",
                hint="remove one of them",
            )
            continue
        seen[words] = keyword


def _words_of(value: Any) -> set[tuple[str, ...]]:
    return {w for _, k in _items(value) if (w := keyword_words(k))}


def text_implies(later: Any, earlier: Any) -> bool:
    """True when every request whose text meets ``later`` (a rule's ``when.text``, None when
    it has none) also meets ``earlier``: the same text read, earlier's ``all`` keywords among
    later's, one of earlier's ``any`` keywords sure to be there, earlier's patterns a superset
    of later's. Conservative: False whenever that cannot be told from the keys alone."""
    if earlier is None:
        return True
    if not isinstance(earlier, dict) or not isinstance(later, dict):
        return False
    for key, default in (("in", "last_user"), ("max_chars", DEFAULT_MAX_CHARS)):
        if later.get(key, default) != earlier.get(key, default):
            return False
    e_any, l_any = _words_of(earlier.get("any")), _words_of(later.get("any"))
    e_all, l_all = _words_of(earlier.get("all")), _words_of(later.get("all"))
    if not e_all <= l_all:
        return False
    if e_any and not ((l_any and l_any <= e_any) or (l_all & e_any)):
        return False
    e_re = {s for _, s in _items(earlier.get("regex"))}
    l_re = {s for _, s in _items(later.get("regex"))}
    return not e_re or bool(l_re and l_re <= e_re)
