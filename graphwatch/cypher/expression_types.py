"""The checker's rules for expressions: the value type of each, and what is refused.

Part of the checker (:mod:`.checker`), kept apart because it is most of it: one method per
IR expression class, ``t_<ClassName>(e, scope, agg_ok) -> type``; function calls go to the
rules in :mod:`.functions`. Every type is recorded in ``expr_types`` (by the expression's
``id``) for the compiler to read.
"""

from __future__ import annotations

from ..schema import did_you_mean
from . import ir
from .functions import INT32_MAX, REFUSED_FUNCTIONS, REGISTRY
from .valuetypes import (NUMERIC, a_kind, fit_one_list, is_list, kind_name, list_element, mixed_types_message, mixes,
                         of_python, one_of)

#: date and datetime fields, spelled as Neo4j spells them -> DuckDB date_part
DATE_FIELDS = {"year": "year", "month": "month", "day": "day", "quarter": "quarter", "week": "week",
               "dayOfWeek": "isodow", "weekDay": "isodow", "ordinalDay": "dayofyear"}
DATETIME_FIELDS = {**DATE_FIELDS, "hour": "hour", "minute": "minute", "second": "second"}
DURATION_PARTS = ("years", "months", "days", "hours", "minutes", "seconds")
COMPARISONS = ("=", "<>", "<", ">", "<=", ">=")
STRING_PREDICATES = ("STARTS", "ENDS", "CONTAINS", "=~")

MIXED_LIST = "lists mixing value types are not supported (DuckDB lists hold one type)"
IN_COMPREHENSION = ("inside a list comprehension, properties and labels of nodes or relationships "
                    "are not available; UNWIND the list and MATCH instead")


def _mixed_list(value) -> list[str] | None:
    """The element types of a list value (at any depth) that DuckDB cannot hold in one list."""
    if not isinstance(value, (list, tuple)):
        return None
    types = [of_python(x) for x in value if x is not None]
    if mixes(types):
        return types
    return next((m for m in map(_mixed_list, value) if m), None)


class ExpressionTypes:
    """Mixed into the checker, which provides ``schema``, ``user_params``, the property
    tables, ``err`` and the bookkeeping attributes these methods fill."""

    def type(self, e: ir.Expr, scope, *, agg_ok: bool = False) -> str:
        t = getattr(self, "t_" + type(e).__name__)(e, scope, agg_ok)
        self.expr_types[id(e)] = t
        return t

    def condition(self, e: ir.Expr, scope, what: str = "WHERE") -> None:
        t = self.type(e, scope)
        if t not in ("bool", "any", "null"):
            raise self.err(e, f"{what} needs a true/false condition, not {a_kind(t)}")

    def arg_types(self, e: ir.Func, scope, agg_ok: bool, n: int | tuple) -> list[str]:
        ns = n if isinstance(n, tuple) else (n,)
        if len(e.args) not in ns:
            want = " or ".join(str(x) for x in ns)
            raise self.err(e, f"{e.name}() takes {want} argument{'s' if ns != (1,) else ''}, got {len(e.args)}")
        return [self.type(a, scope, agg_ok=agg_ok) for a in e.args]

    def row_of(self, e: ir.Expr, name: str, scope) -> None:
        """Reading a node's or relationship's row (properties, labels, type) needs a variable
        bound by a pattern, not one of a list comprehension (a value inside a DuckDB lambda)."""
        if scope.vars[name].in_comprehension:
            raise self.err(e, IN_COMPREHENSION)

    def entity_variable(self, e: ir.Func, scope, kind: str) -> None:
        """labels(), type(), startNode(), endNode(): the argument is a variable of ``kind``."""
        arg = e.args[0] if len(e.args) == 1 else None
        if not isinstance(arg, ir.Var) or arg.name not in scope.vars or scope.vars[arg.name].type != kind:
            raise self.err(e, f"{e.name}() needs {a_kind(kind)} variable")
        self.row_of(e, arg.name, scope)

    # ------------------------------------------------------------------ leaves
    def t_Literal(self, e, scope, agg_ok):
        # a literal is null, a boolean, a number or text: typed as a parameter value is,
        # except that a literal null is known to be null
        return "null" if e.value is None else of_python(e.value)

    def t_Param(self, e, scope, agg_ok):
        if e.name not in self.parameters:
            self.parameters.append(e.name)
            if e.name not in self.user_params:
                self.missing.append(e)
        value = self.user_params.get(e.name)
        mixed = _mixed_list(value)
        if mixed:
            raise self.err(e, f"parameter ${e.name}: " + mixed_types_message(MIXED_LIST, mixed))
        return of_python(value)

    def t_Var(self, e, scope, agg_ok):
        v = scope.vars.get(e.name)
        if v is None:
            raise self.err(e, f"unknown variable {e.name!r}{did_you_mean(e.name, list(scope.vars))}")
        return v.type

    def t_CountStar(self, e, scope, agg_ok):
        if not agg_ok:
            raise self.err(e, "count(*) is an aggregate: use it in WITH or RETURN")
        if self.in_aggregate:
            raise self.err(e, "aggregates cannot be nested")
        self.aggregate_seen = True
        return "int"

    # ------------------------------------------------------------------ access
    def t_Prop(self, e, scope, agg_ok):
        if isinstance(e.subject, ir.Var) and e.subject.name in scope.vars:
            v = scope.vars[e.subject.name]
            if v.type in ("node", "rel"):
                self.row_of(e, e.subject.name, scope)
                return self.node_property(e.key, e) if v.type == "node" else self.rel_property(e.key, e)
        t = self.type(e.subject, scope, agg_ok=agg_ok)
        if t in ("node", "rel"):
            raise self.err(e, f"property of a computed {kind_name(t)} is not supported; bind it to a variable first")
        if t in ("date", "datetime"):
            fields = DATETIME_FIELDS if t == "datetime" else DATE_FIELDS
            if e.key not in fields:
                hint = " (the day of the year is .ordinalDay)" if e.key.lower() == "dayofyear" else ""
                raise self.err(e, f"a {t} has no field {e.key!r}{hint}{did_you_mean(e.key, fields)}")
            return "int"
        if t == "duration":
            if e.key not in DURATION_PARTS:
                raise self.err(e, f"a duration has no field {e.key!r}{did_you_mean(e.key, DURATION_PARTS)}")
            return "int"
        if t in ("map", "any"):
            return "any"
        if t == "null":
            return "null"
        raise self.err(e, f"{a_kind(t)} has no property {e.key!r}")

    def t_HasLabels(self, e, scope, agg_ok):
        for lab in e.labels:
            if lab not in self.schema.labels:
                raise self.err(e, f"unknown label {lab!r}{did_you_mean(lab, self.schema.labels)}")
        if not (isinstance(e.subject, ir.Var) and e.subject.name in scope.vars
                and scope.vars[e.subject.name].type == "node"):
            raise self.err(e, "a label test needs a node variable, e.g. WHERE p:Official")
        self.row_of(e, e.subject.name, scope)
        return "bool"

    def t_Index(self, e, scope, agg_ok):
        t = self.type(e.subject, scope, agg_ok=agg_ok)
        it = self.type(e.index, scope, agg_ok=agg_ok)
        if not (is_list(t) or t == "map"):
            raise self.err(e, f"cannot index {a_kind(t)}")
        if it == "str" or t == "map":
            return "any"
        if it not in ("int", "any", "null"):
            raise self.err(e.index, f"a list index must be an integer, not {a_kind(it)}")
        return list_element(t)

    def t_Slice(self, e, scope, agg_ok):
        t = self.type(e.subject, scope, agg_ok=agg_ok)
        if not is_list(t):
            raise self.err(e, f"cannot slice {a_kind(t)}")
        for bound in (e.start, e.stop):
            if bound is not None:
                self.type(bound, scope)
                if isinstance(bound, ir.Literal) and isinstance(bound.value, int) \
                        and not -INT32_MAX - 1 <= bound.value <= INT32_MAX:
                    raise self.err(bound, f"a list slice needs bounds between {-INT32_MAX - 1} and {INT32_MAX} "
                                          "(Neo4j fails on this one too)")
        return "list:rel" if t == "rels" else t

    # ------------------------------------------------------------------ operators
    def t_Unary(self, e, scope, agg_ok):
        t = self.type(e.operand, scope, agg_ok=agg_ok)
        if e.op == "NOT":
            if t not in ("bool", "any", "null"):
                raise self.err(e, f"NOT needs a true/false value, not {a_kind(t)}")
            return "bool"
        if t not in NUMERIC + ("any", "null"):
            raise self.err(e, f"cannot negate {a_kind(t)}")
        return t

    def t_IsNull(self, e, scope, agg_ok):
        self.type(e.operand, scope, agg_ok=agg_ok)
        return "bool"

    def t_Binary(self, e, scope, agg_ok):
        op = e.op
        lt = self.type(e.left, scope, agg_ok=agg_ok)
        rt = self.type(e.right, scope, agg_ok=agg_ok)
        if op in ("AND", "OR", "XOR"):
            for side, t in ((e.left, lt), (e.right, rt)):
                if t not in ("bool", "any", "null"):
                    raise self.err(side, f"{op} needs true/false values, not {a_kind(t)}")
            return "bool"
        if op in COMPARISONS or op in STRING_PREDICATES:
            return "bool"
        if op == "IN":
            if not is_list(rt):
                raise self.err(e.right, f"IN needs a list on the right, not {a_kind(rt)}")
            return "bool"
        return self.arithmetic(e, op, lt, rt)

    def arithmetic(self, e, op, lt, rt) -> str:
        if "null" in (lt, rt):
            return "null"
        if op == "+":
            if lt.startswith("list:") or rt.startswith("list:") or "rels" in (lt, rt):
                both = (lt.startswith("list:") or lt == "rels") and (rt.startswith("list:") or rt == "rels")
                if both:
                    elements = (list_element(lt), list_element(rt))
                else:     # a list and one more element, on either side
                    elements = (list_element(lt), rt) if lt.startswith("list:") or lt == "rels" \
                        else (lt, list_element(rt))
                if not fit_one_list(*elements):
                    raise self.err(e, mixed_types_message(MIXED_LIST, elements))
                if both:
                    return lt if lt != "rels" else "list:rel"
                return lt if lt.startswith("list:") else rt
            if lt == "str" or rt == "str":
                return "str"
            if lt in ("date", "datetime") and rt in ("duration", "any"):
                return lt
            if rt in ("date", "datetime") and lt in ("duration", "any"):
                return rt
        if op == "-" and lt in ("date", "datetime"):
            if rt not in ("duration", "any"):
                raise self.err(e, "subtract a duration from a date; for the days between two dates use "
                                  "duration.inDays(a, b).days")
            return lt
        for side, t in ((e.left, lt), (e.right, rt)):
            if t not in NUMERIC + ("any",):
                raise self.err(side, f"'{op}' needs numbers, not {a_kind(t)}")
        out = "float" if "float" in (lt, rt) else ("int" if lt == rt == "int" else "any")
        if op == "/":
            return "int" if out == "int" else ("float" if out != "any" else "any")
        if op == "^":
            return "float"
        return out

    # ------------------------------------------------------------------ composites
    def t_ListLit(self, e, scope, agg_ok):
        if not e.items:
            return "list:any"
        types = [self.type(i, scope, agg_ok=agg_ok) for i in e.items]
        if mixes(types):
            raise self.err(e, mixed_types_message(MIXED_LIST, types))
        known = {t for t in types if t != "null"}
        return f"list:{known.pop() if len(known) == 1 else 'any'}"

    def t_MapLit(self, e, scope, agg_ok):
        if not e.items:
            raise self.err(e, "an empty map is not supported here")
        for v in e.items.values():
            self.type(v, scope, agg_ok=agg_ok)
        return "map"

    def t_ListComp(self, e, scope, agg_ok):
        from .checker import VarInfo

        t = self.type(e.source, scope, agg_ok=agg_ok)
        if not is_list(t):
            raise self.err(e.source, f"a list comprehension needs a list, not {a_kind(t)}")
        inner = scope.copy(sub=True)
        inner.vars[e.var] = VarInfo(list_element(t), in_comprehension=True)
        if e.where is not None:
            self.condition(e.where, inner)
        if e.projection is not None:
            return f"list:{self.type(e.projection, inner)}"
        return t

    def t_Reduce(self, e, scope, agg_ok):
        from .checker import VarInfo

        init = self.type(e.init, scope, agg_ok=agg_ok)
        t = self.type(e.source, scope, agg_ok=agg_ok)
        if not is_list(t):
            raise self.err(e.source, f"reduce() needs a list, not {a_kind(t)}")
        inner = scope.copy(sub=True)
        inner.vars[e.acc] = VarInfo(init, in_comprehension=True)
        inner.vars[e.var] = VarInfo(list_element(t), in_comprehension=True)
        step = self.type(e.expr, inner)
        if mixes([init, step]):
            # DuckDB's accumulator keeps the type of its initial value
            raise self.err(e, mixed_types_message("reduce() whose accumulator changes type is not supported",
                                                  [init, step]))
        return init if init not in ("null", "any") else step

    def t_Case(self, e, scope, agg_ok):
        if e.subject is not None:
            self.type(e.subject, scope, agg_ok=agg_ok)
        types = []
        for cond, val in e.whens:
            t = self.type(cond, scope, agg_ok=agg_ok)
            if e.subject is None and t not in ("bool", "any", "null"):
                raise self.err(cond, f"WHEN needs a true/false condition, not {a_kind(t)}")
            types.append(self.type(val, scope, agg_ok=agg_ok))
        if e.default is not None:
            types.append(self.type(e.default, scope, agg_ok=agg_ok))
        if mixes(types):
            # DuckDB's CASE has one result type (Neo4j's may differ by row)
            raise self.err(e, mixed_types_message("CASE results of different value types are not supported", types))
        return one_of(types)

    def t_PatternPred(self, e, scope, agg_ok):
        if any(v.in_comprehension for v in scope.vars.values()):
            # the comprehension is a DuckDB lambda, and DuckDB has no subqueries in lambdas
            raise self.err(e, "a pattern predicate inside a list comprehension is not supported; "
                              "MATCH (or OPTIONAL MATCH) the pattern first")
        self.patterns(e.paths, scope.copy(sub=True), where=e.where)
        return "bool"

    def t_Func(self, e, scope, agg_ok):
        fn = REGISTRY.get(e.name)
        if fn is not None and fn.aggregate:
            if not agg_ok:
                raise self.err(e, f"{e.name}() is an aggregate: use it in WITH or RETURN, not here")
            if self.in_aggregate:
                raise self.err(e, "aggregates cannot be nested")
            self.in_aggregate = True
            try:
                t = fn.result(self, e, scope, agg_ok)
            finally:
                self.in_aggregate = False
            self.aggregate_seen = True
            return t
        if e.distinct:
            raise self.err(e, f"DISTINCT is only for aggregates, not {e.name}()")
        if e.name in REFUSED_FUNCTIONS:
            raise self.err(e, REFUSED_FUNCTIONS[e.name])
        if fn is None:
            raise self.err(e, f"unknown or unsupported function {e.name}(){did_you_mean(e.name, REGISTRY)}")
        return fn.result(self, e, scope, agg_ok)


__all__ = ["DATE_FIELDS", "DATETIME_FIELDS", "ExpressionTypes"]
