"""Cypher text → IR (:mod:`graphwatch.cypher.ir`), on Lark: :func:`parse`.

The text is parsed by grammar.lark's LALR(1) parser and its token filter (:mod:`.grammar`),
the tree turned into IR (:mod:`.tree`), then the clause order checked. Every failure is a
:class:`~graphwatch.exc.PatternError` carrying line and column; write clauses and other
constructs outside the subset get a message naming them.
"""

from __future__ import annotations

from functools import lru_cache

from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, VisitError

from ..exc import PatternError
from . import ir
from .grammar import lark_parser
from .tree import ToIR

#: constructs outside the read-only subset, with what to do instead
REFUSED = {
    "CREATE": "graphwatch patterns are read-only; write data with 'graphwatch load'",
    "MERGE": "graphwatch patterns are read-only; write data with 'graphwatch load'",
    "DELETE": "graphwatch patterns are read-only",
    "DETACH": "graphwatch patterns are read-only",
    "SET": "graphwatch patterns are read-only",
    "REMOVE": "graphwatch patterns are read-only",
    "CALL": "procedures are not supported; shortestPath and the functions in docs/cypher.md are",
    "YIELD": "procedures are not supported",
    "FOREACH": "FOREACH writes data; graphwatch patterns are read-only",
    "LOAD": "LOAD CSV is not supported; load files with 'graphwatch load'",
    "USE": "USE (multiple databases) is not supported",
}


def parse(text: str, *, file: str | None = None) -> ir.Query:
    """Parse Cypher ``text`` into an :class:`ir.Query` or raise :class:`PatternError`.

    Parsed queries are cached (patterns run again and again); the IR is never modified.
    """
    if not isinstance(text, str):
        raise PatternError(f"a query must be text, not {type(text).__name__}", file=file)
    return _parse(text, file)


@lru_cache(maxsize=512)
def _parse(text: str, file: str | None) -> ir.Query:
    if not isinstance(text, str):
        raise PatternError(f"a query must be text, not {type(text).__name__}", file=file)
    if not text.strip():
        raise PatternError("empty query", file=file, line=1, column=1)
    try:
        tree = lark_parser().parse(text)
    except UnexpectedInput as exc:
        raise _syntax_error(text, exc, file) from None
    except LarkError as exc:  # pragma: no cover - other Lark failures
        raise PatternError(f"cannot parse the query: {exc}", file=file) from None
    try:
        clauses, unions = ToIR(text).transform(tree)
    except VisitError as exc:
        if isinstance(exc.orig_exc, PatternError):
            err = exc.orig_exc
            if file and not err.file:
                err = PatternError(err.message, file=file, line=err.line, column=err.column)
            raise err from None
        raise
    q = ir.Query(clauses, text=text, unions=unions, line=1, column=1)
    _check_structure(q, file)
    return q


def _syntax_error(text: str, exc: UnexpectedInput, file: str | None) -> PatternError:
    line, col = getattr(exc, "line", None), getattr(exc, "column", None)
    if isinstance(exc, UnexpectedEOF) or line in (None, -1):
        lines = text.splitlines() or [""]
        return PatternError("the query ends too early (an unclosed bracket or a missing part?)",
                            file=file, line=len(lines), column=len(lines[-1]) + 1)
    if isinstance(exc, UnexpectedCharacters):
        word = text[exc.pos_in_stream:exc.pos_in_stream + 1]
    else:
        tok = getattr(exc, "token", None)
        word = str(tok) if tok is not None else ""
    refused = REFUSED.get(word.upper())
    if refused:
        return PatternError(f"{word.upper()} is not supported: {refused} (see docs/cypher.md)",
                            file=file, line=line, column=col)
    shown = word if word else text[exc.pos_in_stream:exc.pos_in_stream + 10]
    hint = ""
    if word == "<-" or word == "--":
        hint = " (write a space between '<' and a negative number: a < -1)"
    return PatternError(f"syntax error at {shown!r}{hint}", file=file, line=line, column=col)


def _check_structure(q: ir.Query, file: str | None) -> None:
    """Clause order rules of Cypher: each query of a UNION ends with RETURN, and only there;
    the queries a UNION joins are all UNION or all UNION ALL."""
    kinds = {u.all for u in q.unions}
    if len(kinds) > 1:
        u = next(u for u in q.unions if u.all != q.unions[0].all)
        raise PatternError("UNION and UNION ALL cannot be mixed in one query (Neo4j refuses it too)",
                           file=file, line=u.line, column=u.column)
    for cl in q.parts():
        _check_clauses(cl, file)


def _check_clauses(cl: list, file: str | None) -> None:
    for c in cl[:-1]:
        if isinstance(c, ir.Projection) and c.kind == "RETURN":
            raise PatternError("RETURN must be the last clause (use WITH to chain)",
                               file=file, line=c.line, column=c.column)
    last = cl[-1]
    if not (isinstance(last, ir.Projection) and last.kind == "RETURN"):
        raise PatternError("a query must end with RETURN", file=file, line=last.line, column=last.column)
    for c in cl:
        if isinstance(c, ir.Match):
            for p in c.paths:
                if p.kind != "plain" and (len(p.rels) != 1):
                    raise PatternError(f"{'shortestPath' if p.kind == 'shortest' else 'allShortestPaths'} "
                                       "takes a pattern with exactly one relationship, e.g. "
                                       "shortestPath((a)-[*..6]-(b))", file=file, line=p.line, column=p.column)
