"""Cypher text → IR (:mod:`graphwatch.cypher.ir`), on Lark.

Every failure is a :class:`~graphwatch.exc.PatternError` carrying line and column; write
clauses and other constructs outside the subset get a message naming them.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, VisitError

from ..exc import PatternError
from . import ir

GRAMMAR = Path(__file__).with_name("grammar.lark")

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


@lru_cache(maxsize=1)
def _lark() -> Lark:
    """The LALR(1) parser. Building its tables takes ~0.1 s, so they are kept in a cache
    file (keyed by the grammar and Lark's version) that later processes load in ~10 ms."""
    text = GRAMMAR.read_text(encoding="utf-8")
    opts = dict(parser="lalr", lexer="basic", propagate_positions=True, maybe_placeholders=False,
                postlex=_Lookahead())
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


class _Lookahead:
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
        tree = _lark().parse(text)
    except UnexpectedInput as exc:
        raise _syntax_error(text, exc, file) from None
    except LarkError as exc:  # pragma: no cover - other Lark failures
        raise PatternError(f"cannot parse the query: {exc}", file=file) from None
    try:
        clauses, unions = _Build(text).transform(tree)
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


def _err(meta_or_tok, message: str) -> PatternError:
    return PatternError(message, line=getattr(meta_or_tok, "line", None),
                        column=getattr(meta_or_tok, "column", None))


def _pos(meta) -> dict:
    return {"line": getattr(meta, "line", 0), "column": getattr(meta, "column", 0),
            "src_start": getattr(meta, "start_pos", -1), "src_end": getattr(meta, "end_pos", -1)}


def _unquote(s: str) -> str:
    body = s[1:-1]
    if "\\" not in body:
        return body
    out, i = [], 0
    simple = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "\\": "\\", "'": "'", '"': '"'}
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nx = body[i + 1]
            if nx in simple:
                out.append(simple[nx])
                i += 2
                continue
            if nx in "uU":
                width = 4 if nx == "u" else 8
                hexs = body[i + 2:i + 2 + width]
                if len(hexs) == width and all(c in "0123456789abcdefABCDEF" for c in hexs):
                    out.append(chr(int(hexs, 16)) if int(hexs, 16) <= 0x10FFFF else "\ufffd")
                    i += 2 + width
                    continue
            raise ValueError(f"unknown escape \\{nx} in a string; write \\\\ for a backslash "
                             f"(a regex digit is '\\\\d')")
        out.append(ch)
        i += 1
    return "".join(out)


@v_args(meta=True)
class _Build(Transformer):
    """Lark tree → IR objects."""

    def __init__(self, text: str):
        super().__init__()
        self.text = text

    def _slice(self, meta) -> str:
        return self.text[meta.start_pos:meta.end_pos]

    # -- names and literals ----------------------------------------------------
    def name(self, meta, ch):
        t = str(ch[0])
        return t[1:-1] if t.startswith("`") else t

    def int_lit(self, meta, ch):
        v = int(str(ch[0]))
        if v > 2 ** 63 - 1:
            raise _err(meta, f"integer {ch[0]} is too large (the largest is {2 ** 63 - 1})")
        return ir.Literal(v, **_pos(meta))

    def float_lit(self, meta, ch):
        return ir.Literal(float(str(ch[0])), **_pos(meta))

    def string_lit(self, meta, ch):
        try:
            return ir.Literal(_unquote(str(ch[0])), **_pos(meta))
        except ValueError as exc:
            raise _err(meta, str(exc)) from None

    def true_lit(self, meta, ch):
        return ir.Literal(True, **_pos(meta))

    def false_lit(self, meta, ch):
        return ir.Literal(False, **_pos(meta))

    def null_lit(self, meta, ch):
        return ir.Literal(None, **_pos(meta))

    def param(self, meta, ch):
        return ir.Param(str(ch[0])[1:], **_pos(meta))

    def var(self, meta, ch):
        return ir.Var(ch[0], **_pos(meta))

    # -- expressions -----------------------------------------------------------
    def _bin(op):  # noqa: N805 - a factory used in the class body
        def build(self, meta, ch):
            parts = [c for c in ch if not isinstance(c, Token)]
            return ir.Binary(op, parts[0], parts[1], **_pos(meta))
        return build

    or_ = _bin("OR")
    xor_ = _bin("XOR")
    and_ = _bin("AND")
    in_ = _bin("IN")
    starts_with = _bin("STARTS")
    ends_with = _bin("ENDS")
    contains = _bin("CONTAINS")
    regex = _bin("=~")
    add = _bin("+")
    sub = _bin("-")
    mul = _bin("*")
    div = _bin("/")
    mod = _bin("%")
    pow = _bin("^")
    compare_eq = _bin("=")

    def compare(self, meta, ch):
        left, op, right = ch
        op = "<>" if str(op) == "!=" else str(op)
        # a < b < c means a < b AND b < c
        if isinstance(left, ir.Binary) and left.op in ("<", "<=", ">", ">=", "=", "<>") \
                and getattr(left, "_chain", False):
            out = ir.Binary("AND", left, ir.Binary(op, left.right, right, **_pos(meta)), **_pos(meta))
        else:
            out = ir.Binary(op, left, right, **_pos(meta))
        out._chain = True
        return out

    def not_(self, meta, ch):
        return ir.Unary("NOT", ch[1], **_pos(meta))

    def neg(self, meta, ch):
        operand = ch[1]
        if isinstance(operand, ir.Literal) and isinstance(operand.value, (int, float)) \
                and not isinstance(operand.value, bool):
            return ir.Literal(-operand.value, **_pos(meta))
        return ir.Unary("-", operand, **_pos(meta))

    def pos(self, meta, ch):
        return ch[1]

    def is_null(self, meta, ch):
        return ir.IsNull(ch[0], False, **_pos(meta))

    def is_not_null(self, meta, ch):
        return ir.IsNull(ch[0], True, **_pos(meta))

    def prop(self, meta, ch):
        return ir.Prop(ch[0], ch[1], **_pos(meta))

    def index(self, meta, ch):
        return ir.Index(ch[0], ch[1], **_pos(meta))

    def slice(self, meta, ch):
        subject, rest = ch[0], ch[1:]
        start = stop = None
        seen_range = False
        for c in rest:
            if isinstance(c, Token) and c.type == "RANGE":
                seen_range = True
            elif seen_range:
                stop = c
            else:
                start = c
        return ir.Slice(subject, start, stop, **_pos(meta))

    def has_labels(self, meta, ch):
        subject, labels = ch[0], ch[1]
        # p:A:B may come back nested, (p:A):B — it means p has both labels
        while isinstance(subject, ir.HasLabels):
            labels = subject.labels + labels
            subject = subject.subject
        return ir.HasLabels(subject, labels, **_pos(meta))

    def labels(self, meta, ch):
        return list(ch)

    def paren(self, meta, ch):
        return ch[0]

    def func_call(self, meta, ch):
        name, args, distinct = str(ch[0]), [], False
        for c in ch[1:]:
            if isinstance(c, Token) and c.type == "DISTINCT":
                distinct = True
            else:
                args.append(c)
        return ir.Func(name.lower(), args, distinct, **_pos(meta))

    def reduce_expr(self, meta, ch):
        acc, init, var, source, expr = [c for c in ch if not isinstance(c, Token)]
        return ir.Reduce(acc, init, var, source, expr, **_pos(meta))

    def count_star(self, meta, ch):
        if ch[0].lower() != "count":
            raise _err(meta, f"{ch[0]}(*) is not a function; only count(*) takes '*'")
        return ir.CountStar(**_pos(meta))

    def list_lit(self, meta, ch):
        return ir.ListLit(list(ch), **_pos(meta))

    def map_item(self, meta, ch):
        return (ch[0], ch[1])

    def map_lit(self, meta, ch):
        items = {}
        for k, v in ch:
            if k in items:
                raise _err(meta, f"key {k!r} appears twice in the map")
            items[k] = v
        return ir.MapLit(items, **_pos(meta))

    def list_comp(self, meta, ch):
        var, rest = ch[0], [c for c in ch[1:] if not isinstance(c, Token)]
        source = rest[0]
        where = proj = None
        # the grammar keeps WHERE and '|' apart by their tokens
        toks = [c for c in ch[1:] if isinstance(c, Token)]
        has_where = any(t.type == "WHERE" for t in toks)
        if has_where:
            where = rest[1]
            proj = rest[2] if len(rest) > 2 else None
        else:
            proj = rest[1] if len(rest) > 1 else None
        return ir.ListComp(var, source, where, proj, **_pos(meta))

    def case_when(self, meta, ch):
        parts = [c for c in ch if not isinstance(c, Token)]
        return (parts[0], parts[1])

    def case_expr(self, meta, ch):
        subject = default = None
        whens = []
        seen_else = False
        for c in ch:
            if isinstance(c, Token):
                if c.type == "ELSE":
                    seen_else = True
                continue
            if isinstance(c, tuple):
                whens.append(c)
            elif seen_else:
                default = c
            else:
                subject = c
        return ir.Case(subject, whens, default, **_pos(meta))

    def pattern_pred(self, meta, ch):
        return ir.PatternPred([self._path(meta, None, "plain", list(ch))], **_pos(meta))

    def exists_fn(self, meta, ch):
        arg = ch[-1]
        if isinstance(arg, ir.PatternPred):
            return arg
        # Neo4j 5 refuses exists(n.prop); so do we, to keep one language on both engines
        raise PatternError("exists(n.prop) is not Cypher 5 (Neo4j refuses it too); write n.prop IS NOT NULL",
                           line=meta.line, column=meta.column)

    def exists_sub(self, meta, ch):
        paths = [c for c in ch if isinstance(c, ir.PathPattern)]
        where = next((c for c in ch if isinstance(c, _Where)), None)
        return ir.PatternPred(paths, where.expr if where else None, **_pos(meta))

    # -- patterns --------------------------------------------------------------
    def node_pat(self, meta, ch):
        var, labels, props = None, [], {}
        for c in ch:
            if isinstance(c, Token):
                continue            # the opening parenthesis (PAT_OPEN)
            if isinstance(c, str):
                var = c
            elif isinstance(c, list):
                labels = c
            elif isinstance(c, ir.MapLit):
                props = c.items
        return ir.NodePattern(var, labels, props, **_pos(meta))

    def rel_types(self, meta, ch):
        return ("types", list(ch))

    def var_len(self, meta, ch):
        ints = []
        seen_range = False
        lo = hi = None
        for c in ch:
            if c.type == "RANGE":
                seen_range = True
            elif c.type == "INT":
                ints.append(int(c))
                if seen_range:
                    hi = int(c)
                else:
                    lo = int(c)
        if not seen_range:
            if lo is None:
                return ("len", 1, None)      # '*': unbounded
            return ("len", lo, lo)           # '*2': exactly two
        return ("len", 1 if lo is None else lo, hi)

    def rel_detail(self, meta, ch):
        out = {"var": None, "types": [], "len": None, "props": {}}
        for c in ch:
            if isinstance(c, str):
                out["var"] = c
            elif isinstance(c, tuple) and c[0] == "types":
                out["types"] = c[1]
            elif isinstance(c, tuple) and c[0] == "len":
                out["len"] = (c[1], c[2])
            elif isinstance(c, ir.MapLit):
                out["props"] = c.items
        return out

    def _rel(direction):  # noqa: N805
        def build(self, meta, ch):
            det = next((c for c in ch if isinstance(c, dict)), None) or {
                "var": None, "types": [], "len": None, "props": {}}
            r = ir.RelPattern(det["var"], det["types"], direction, det["props"], **_pos(meta))
            if det["len"] is not None:
                r.var_length = True
                r.min_hops, r.max_hops = det["len"]
                if r.max_hops is not None and r.min_hops > r.max_hops:
                    raise _err(meta, f"variable length *{r.min_hops}..{r.max_hops}: "
                                     "the lower bound is above the upper bound")
            return r
        return build

    rel_in = _rel("in")
    rel_out = _rel("out")
    rel_both = _rel("both")

    def _path(self, meta, var, kind, ch):
        nodes = [c for c in ch if isinstance(c, ir.NodePattern)]
        rels = [c for c in ch if isinstance(c, ir.RelPattern)]
        return ir.PathPattern(var, kind, nodes, rels, **_pos(meta))

    def path(self, meta, ch):
        return self._path(meta, None, "plain", ch)

    def shortest(self, meta, ch):
        p = ch[-1]
        p.kind = "shortest"
        return p

    def all_shortest(self, meta, ch):
        p = ch[-1]
        p.kind = "all_shortest"
        return p

    def pattern(self, meta, ch):
        p = ch[-1]
        if len(ch) == 2:
            p.var = ch[0]
        return p

    # -- clauses ---------------------------------------------------------------
    def where(self, meta, ch):
        return _Where(ch[-1])

    def match_clause(self, meta, ch):
        optional = any(isinstance(c, Token) and c.type == "OPTIONAL" for c in ch)
        paths = [c for c in ch if isinstance(c, ir.PathPattern)]
        where = next((c.expr for c in ch if isinstance(c, _Where)), None)
        return ir.Match(optional, paths, where, **_pos(meta))

    def unwind_clause(self, meta, ch):
        parts = [c for c in ch if not isinstance(c, Token)]
        return ir.Unwind(parts[0], parts[1], **_pos(meta))

    def proj_item(self, meta, ch):
        parts = [c for c in ch if not isinstance(c, Token)]
        expr = parts[0]
        alias = parts[1] if len(parts) > 1 else None
        end = meta.end_pos
        as_ = next((c for c in ch if isinstance(c, Token) and c.type == "AS"), None)
        if as_ is not None:
            end = as_.start_pos       # the text of the expression alone, without ' AS alias'
        return ir.ProjItem(expr, alias, self.text[meta.start_pos:end].strip(), **_pos(meta))

    def proj_items(self, meta, ch):
        return (False, list(ch))

    def proj_star(self, meta, ch):
        return (True, [c for c in ch if isinstance(c, ir.ProjItem)])

    def sort_item(self, meta, ch):
        expr = ch[0]
        desc = len(ch) > 1 and str(ch[1]).lower().startswith("desc")
        text = self.text[meta.start_pos:meta.end_pos]
        if len(ch) > 1:
            text = text[: len(text) - len(str(ch[1]))]
        return ir.SortItem(expr, desc, text.strip(), **_pos(meta))

    def order(self, meta, ch):
        return ("order", [c for c in ch if isinstance(c, ir.SortItem)])

    def skip(self, meta, ch):
        return ("skip", ch[-1])

    def limit(self, meta, ch):
        return ("limit", ch[-1])

    def projection(self, meta, ch):
        distinct = any(isinstance(c, Token) and c.type == "DISTINCT" for c in ch)
        star, items = next(c for c in ch if isinstance(c, tuple) and isinstance(c[0], bool))
        opts = {c[0]: c[1] for c in ch if isinstance(c, tuple) and isinstance(c[0], str)}
        return ir.Projection("", distinct, star, items, opts.get("order", []), opts.get("skip"),
                             opts.get("limit"), **_pos(meta))

    def with_clause(self, meta, ch):
        p = next(c for c in ch if isinstance(c, ir.Projection))
        p.kind = "WITH"
        w = next((c for c in ch if isinstance(c, _Where)), None)
        p.where = w.expr if w else None
        p.line, p.column = _pos(meta)["line"], _pos(meta)["column"]
        return p

    def return_clause(self, meta, ch):
        p = next(c for c in ch if isinstance(c, ir.Projection))
        p.kind = "RETURN"
        p.line, p.column = _pos(meta)["line"], _pos(meta)["column"]
        return p

    def single_query(self, meta, ch):
        return list(ch)

    def union(self, meta, ch):
        return _Union(any(isinstance(c, Token) and c.type == "ALL" for c in ch), meta)

    def start(self, meta, ch):
        parts = [c for c in ch if not isinstance(c, Token)]
        first, unions = parts[0], []
        for u, clauses in zip(parts[1::2], parts[2::2]):
            unions.append(ir.UnionPart(u.all, clauses, **_pos(u.meta)))
        return first, unions


class _Union:
    __slots__ = ("all", "meta")

    def __init__(self, all_: bool, meta):
        self.all = all_
        self.meta = meta


class _Where:
    __slots__ = ("expr",)

    def __init__(self, expr):
        self.expr = expr


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
