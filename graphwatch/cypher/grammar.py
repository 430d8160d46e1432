"""``grammar.lark`` as Lark's LALR(1) parser, with the token filter it needs.

:func:`lark_parser` builds the parser (its tables cached on disk); :class:`Lookahead` is the
token filter that decides, before the parser sees them, the places where Cypher needs more
than one token of lookahead (see grammar.lark's header). :mod:`.parser` runs it and turns
what it finds into IR (:mod:`.tree`) or a :class:`~graphwatch.exc.PatternError`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from lark import Lark, Token
from lark.exceptions import LarkError

GRAMMAR = Path(__file__).with_name("grammar.lark")


@lru_cache(maxsize=1)
def lark_parser() -> Lark:
    """The LALR(1) parser. Building its tables takes ~0.1 s, so they are kept in a cache
    file (keyed by the grammar and Lark's version) that later processes load in ~10 ms."""
    text = GRAMMAR.read_text(encoding="utf-8")
    opts = dict(parser="lalr", lexer="basic", propagate_positions=True, maybe_placeholders=False,
                postlex=Lookahead())
    cache = _cache_file(text)
    if cache is not None:
        try:
            return Lark(text, cache=str(cache), **opts)
        except OSError:      # a read-only or full cache folder: build in memory
            pass
    return Lark(text, **opts)


def _cache_file(grammar: str) -> Path | None:
    import lark

    from ..cache import cache_file

    return cache_file("cypher-lalr", grammar, lark.__version__)


class Lookahead:
    """The token filter that decides what LALR(1) cannot (see grammar.lark's header):
    a "(" opening a node pattern that an arrow follows becomes PAT_OPEN, a function name
    ``NAME ("." NAME)* "("`` one FUNC_NAME token (``reduce(`` the REDUCE keyword), and
    ``all`` after UNION the ALL keyword. Tokens are read ahead lazily; a lexer error met
    while looking ahead is raised only once the tokens before it have been passed on, so
    the parser reports the first error in the text, as it would without the filter."""

    always_accept = ()

    def process(self, stream):
        buf: list = []
        failure: list = []
        it = iter(stream)

        def peek(i: int):
            while len(buf) <= i and not failure:
                try:
                    buf.append(next(it))
                except StopIteration:
                    failure.append(None)
                except LarkError as exc:
                    failure.append(exc)
            return buf[i] if i < len(buf) else None

        def kind(i: int) -> str | None:
            t = peek(i)
            return t.type if t is not None else None

        previous = None
        while True:
            if not buf and peek(0) is None:
                if failure and failure[0] is not None:
                    raise failure[0]
                return
            tok = buf.pop(0)
            if tok.type == "LPAR" and _opens_node_pattern(kind):
                tok = Token.new_borrow_pos("PAT_OPEN", tok.value, tok)
            elif tok.type in ("NAME", "QUOTED_NAME"):
                tok = _function_name(tok, kind, buf) or tok
                if tok.type == "NAME" and previous == "UNION" and tok.value.lower() == "all":
                    tok = Token.new_borrow_pos("ALL", tok.value, tok)
            previous = tok.type
            yield tok


def _opens_node_pattern(kind) -> bool:
    """Whether the tokens after a "(" (``kind(0)`` is the first) are a node pattern — an
    optional name, labels, a map — closed and followed by an arrow."""
    i = 0
    if kind(i) in ("NAME", "QUOTED_NAME"):
        i += 1
    while kind(i) == "COLON" and kind(i + 1) in ("NAME", "QUOTED_NAME"):
        i += 2
    if kind(i) == "LBRACE":
        depth = 0
        while True:
            k = kind(i)
            if k is None:
                return False
            depth += (k == "LBRACE") - (k == "RBRACE")
            i += 1
            if depth == 0:
                break
    if kind(i) != "RPAR":
        return False
    a, b = kind(i + 1), kind(i + 2)
    return (a == "LARR" and b in ("LSQB", "DASH")) or (a == "DASH" and b in ("LSQB", "DASH", "RARR"))


def _function_name(tok, kind, buf):
    """``NAME ("." NAME)* "("`` as one FUNC_NAME token (REDUCE for ``reduce(``), or None."""
    i = 0
    while kind(i) == "DOT" and kind(i + 1) in ("NAME", "QUOTED_NAME"):
        i += 2
    if kind(i) != "LPAR":
        return None
    parts = [tok] + [buf[j] for j in range(1, i, 2)]
    last = parts[-1]
    value = ".".join(p.value[1:-1] if p.type == "QUOTED_NAME" else p.value for p in parts)
    del buf[:i]
    kind_ = "REDUCE" if len(parts) == 1 and tok.type == "NAME" and value.lower() == "reduce" else "FUNC_NAME"
    return Token(kind_, value, tok.start_pos, tok.line, tok.column, last.end_line, last.end_column, last.end_pos)
