"""Lark's parse tree → IR (:mod:`graphwatch.cypher.ir`): :class:`ToIR`, a Lark
:class:`~lark.Transformer` with one method per grammar rule.

A mistake only the tree shows (an integer beyond 64 bits, an unknown string escape, a key
twice in a map, ``*3..1``) is a :class:`~graphwatch.exc.PatternError` at its line and column.
"""

from __future__ import annotations

from lark import Token, Transformer, v_args

from ..exc import PatternError
from . import ir


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
class ToIR(Transformer):
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
