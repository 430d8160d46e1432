"""One SQL statement from the compiler's CTEs and a final SELECT: identical CTEs read once,
unused ones left out.

The compiler plans every part of a query on its own, so a statement often carries the same
CTE twice: the lookup of ``(a:Person {id_number: $a})`` for a variable-length hop's start set
and again for the final join, or the whole chain a pattern predicate's semi-join reads
(``ex`` in :mod:`.patterns`) and then the same chain for the rows it filters. DuckDB plans and
materialises each copy (``MATERIALIZED``): friends-of-friends with a pattern predicate at 1 M
persons made 12 CTEs, 7 of them distinct; merged, its statement took 5.7 ms instead of 6.4
(one process, the two forms alternating).

A CTE whose body is the text of an earlier one's, once the CTEs each reads are named
alike, is the same relation — every value is a bound parameter, the text is the whole
definition — unless it calls a function that returns something new on each call
(:data:`VOLATILE`). It stays in the statement under its own name as ``name AS (SELECT * FROM
first)``, which DuckDB reads from the first one's materialised rows: no reference in the SQL
is rewritten, so none can come to mean another relation (a correlated subquery reading the
copy while its outer query reads the first keeps both apart).

Two clauses that match the same chain under other variable names (duplicate_benefits reads
every payment of an exclusive programme as ``b1`` and again as ``b2``) give CTEs that differ
only in the compiler's fresh names: the tables' aliases (``node AS n14`` for ``n1``) and the
columns named after them (``"n14__nid"``). Such a CTE is the first one's relation with its
columns renamed — ``name("n14__nid", …) AS (SELECT * FROM first)`` — when its text, with
its own aliases numbered by first appearance and the columns it reads of such a renamed CTE
written as the first one's, is the first one's text numbered alike (at 5 M persons three of
duplicate_benefits' four 9 M-relationship joins were read twice).
"""

from __future__ import annotations

import re
from functools import lru_cache

from ..store import q as quote_identifier

#: SQL functions whose result differs between two evaluations of the same text
VOLATILE = frozenset({"random", "uuid", "gen_random_uuid", "nextval", "setseed"})

_TOKEN = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|[A-Za-z_]\w*|\s+|.", re.S)


@lru_cache(maxsize=4096)
def _tokens(sql: str) -> tuple[str, ...]:
    """The SQL's tokens (a quoted literal or identifier is one): the same CTE bodies are read
    for every step's statement and the final one, so each is split once."""
    return tuple(_TOKEN.findall(sql))


def render(ctes: list[tuple[str, str]], tail: str, *, materialized: set[str], recursive: bool = False) -> str:
    """``WITH … tail``: the CTEs ``tail`` needs (directly or through another CTE); a CTE equal
    to an earlier one is only a name for it."""
    same: dict[str, str] = {}            # a CTE name -> the earlier CTE it equals
    first: dict[tuple[str, bool], str] = {}
    bodies: dict[str, str] = {}
    filtered: dict[str, str] = {}        # a CTE name -> its body as a filter of an earlier CTE
    canon: list[tuple[str, str]] = []    # (canonical body, name) of the materialised CTEs so far
    # a CTE name -> (the earlier CTE whose relation it is, its column names in order, and each
    # of its column names -> the earlier one's)
    renamed: dict[str, tuple[str, list[str], dict[str, str]]] = {}
    first_named: dict[tuple[str, bool], str] = {}    # (body with aliases numbered, materialised) -> name
    for name, body in ctes:
        toks = _tokens(body)
        # equal once the CTEs it reads are named alike
        canonical = _read_through(toks, same, renamed) if same or renamed else body
        # (one that reads a renamed CTE names its columns after that one's own: its relation
        # may be an earlier one's, but under other names — never ``SELECT * FROM`` that one)
        plain = canonical is not None and not any(t in renamed for t in toks)
        mergeable = not recursive and not bool(VOLATILE & {t.lower() for t in toks})
        numbered = _numbered(canonical) if mergeable and canonical is not None else None
        canonical = body if canonical is None else canonical
        key = (canonical, name in materialized)
        if key in first and mergeable and plain:
            same[name] = first[key]
        elif RENAMED_CTES and numbered is not None and (numbered, key[1]) in first_named and \
                (cols := _renaming(bodies[first_named[(numbered, key[1])]], body)) is not None:
            renamed[name] = (first_named[(numbered, key[1])], *cols)
        else:
            if numbered is not None:
                first_named.setdefault((numbered, key[1]), name)
            if not plain:
                bodies[name] = body
                continue
            first.setdefault(key, name)
            if name in materialized and mergeable:
                for earlier_body, earlier in canon:
                    f = _as_filter(earlier, earlier_body, canonical, set(bodies))
                    if f is not None:
                        filtered[name] = f
                        break
                canon.append((canonical, name))
        bodies[name] = body
    for name, f in filtered.items():
        bodies[name] = f
        materialized = materialized - {name}
    need = {t for t in _tokens(tail) if t in bodies}
    todo = list(need)
    while todo:
        name = todo.pop()
        for t in (same[name],) if name in same else (renamed[name][0],) if name in renamed else _tokens(bodies[name]):
            if t in bodies and t not in need:
                need.add(t)
                todo.append(t)
    kept = [name for name, _ in ctes if name in need]
    if not kept:
        return tail

    def one(name: str) -> str:
        if name in filtered:      # a few rows of a materialised CTE, read in place
            return f"{name} AS ({bodies[name]})"
        if name in same:      # its own name, no rename inside the SQL: no reference can change meaning
            return f"{name} AS (SELECT * FROM {same[name]})"
        if name in renamed:   # … and its own column names
            earlier, names, _map = renamed[name]
            return f"{name}({', '.join(names)}) AS (SELECT * FROM {earlier})"
        return f"{name} AS {'MATERIALIZED ' if name in materialized else ''}({bodies[name]})"

    return "WITH " + ("RECURSIVE " if recursive else "") + ",\n".join(one(n) for n in kept) + "\n" + tail


def _read_through(toks: tuple[str, ...], same: dict[str, str],
                  renamed: dict[str, tuple[str, list[str], dict[str, str]]]) -> str | None:
    """The body with every CTE it reads named as the earlier CTE it equals, and every column
    it reads of a renamed CTE (``x."col"``) named as that CTE's; None when it reads one that
    CTE does not have (``x.*``). A column read unqualified keeps its own name, so the body
    then equals no other (the compiler qualifies every column it reads)."""
    out = []
    i = 0
    while i < len(toks):
        t = toks[i]
        if t in renamed and (i == 0 or toks[i - 1] != "."):
            earlier, _names, cols = renamed[t]
            if i + 2 < len(toks) and toks[i + 1] == ".":
                mapped = cols.get(_unquote(toks[i + 2]))
                if mapped is None:
                    return None
                out += [earlier, ".", quote_identifier(mapped)]
                i += 3
                continue
            out.append(earlier)       # the relation (its columns are read qualified, as above)
            i += 1
            continue
        out.append(same.get(t, t))
        i += 1
    return "".join(out)


#: False: a CTE equal to an earlier one only up to aliases is computed again (for comparisons)
RENAMED_CTES = True

#: a name the compiler made (``fresh``): letters then digits, as a table alias or a column's prefix
_FRESH = re.compile(r"[a-z]+\d+")


def _numbered(body: str) -> str:
    """``body`` with its own table aliases (an unquoted fresh name after ``AS``) numbered by
    first appearance, alone and as the prefix of a quoted column name (``"n14__nid"``)."""
    toks = _tokens(body)
    words = [t for t in toks if not t.isspace()]
    local = {words[k + 1] for k, w in enumerate(words[:-1]) if w.upper() == "AS" and _FRESH.fullmatch(words[k + 1])}
    order: dict[str, str] = {}

    def num(alias: str) -> str:
        return order.setdefault(alias, f"#{len(order)}")

    out = []
    before = ""
    for t in toks:
        if before == ".":          # a column of some relation: its own name
            out.append(t)
        elif t in local:
            out.append(num(t))
        elif t.startswith('"') and "__" in t and t[1:].split("__", 1)[0] in local:
            head, rest = t[1:].split("__", 1)
            out.append(f'"{num(head)}__{rest}')
        else:
            out.append(t)
        if not t.isspace():
            before = t
    return "".join(out)


def _renaming(a: str, b: str) -> tuple[list[str], dict[str, str]] | None:
    """(``b``'s column names, each -> ``a``'s in the same place) for two bodies equal once
    numbered (:func:`_numbered`); None when either select list cannot be read."""
    na, nb = _output_names(a), _output_names(b)
    if na is None or nb is None or len(na) != len(nb) or len(set(nb)) != len(nb):
        return None
    return [quote_identifier(n) for n in nb], dict(zip(nb, na))


def _output_names(body: str) -> list[str] | None:
    """The column names of ``SELECT items FROM …`` (unquoted), or None."""
    if not body.startswith("SELECT "):
        return None
    head = body[len("SELECT "):]
    depth, cut = 0, None
    pos = 0
    for t in _tokens(head):
        depth += (t == "(") - (t == ")")
        if depth == 0 and t == "FROM":
            cut = pos
            break
        pos += len(t)
    if cut is None:
        return None
    names = []
    for item in _split_commas(head[:cut]):
        words = [t for t in _tokens(item) if not t.isspace()]
        if len(words) >= 3 and words[-2].upper() == "AS":
            names.append(_unquote(words[-1]))
        elif len(words) == 3 and words[1] == "." and words[2] != "*":
            names.append(_unquote(words[2]))
        else:
            return None
    return names


def _unquote(name: str) -> str:
    return name[1:-1].replace('""', '"') if name.startswith('"') else name


_FROM_ITEM = re.compile(r"\b(?:FROM|JOIN)\s+([A-Za-z_]\w*)(?:\s+AS\s+([A-Za-z_]\w*))?")
_RISKY = re.compile(r"\b(?:DISTINCT|GROUP|ORDER|LIMIT|OFFSET|OVER|LEFT|RIGHT|FULL|OUTER|UNION|EXCEPT|"
                    r"INTERSECT|LATERAL|USING|QUALIFY|HAVING|WITH)\b", re.I)


def top_level(sql: str) -> list[str] | None:
    """The tokens of ``sql`` outside parentheses (quoted text is one token); None when its
    parentheses do not balance."""
    out, depth = [], 0
    for t in _tokens(sql):
        if t == "(":
            depth += 1
        elif t == ")":
            depth -= 1
        elif depth == 0:
            out.append(t)
        if depth < 0:
            return None
    return out if depth == 0 else None


def _as_filter(earlier: str, a: str, b: str, names: set[str]) -> str | None:
    """``SELECT * FROM earlier WHERE …`` when the (canonical) body ``b`` is body ``a`` with
    more conditions ``AND extra`` at its end that read only columns ``a`` selects: the planner
    writes a pattern predicate's start set (``ex``) from the same join chain as the rows it
    then filters, so friends-of-friends with ``NOT (f)-[:RECEIVES]->()`` joined ``node`` twice
    for the same rows. Both are plain inner joins (``SELECT cols FROM x JOIN y ON c``, no
    DISTINCT, grouping, window, outer join …): filtering ``a``'s rows by ``extra`` (a function
    of its selected columns) gives ``b``'s rows. None when that cannot be shown from the text."""
    if not b.startswith(a + " AND ") or not a.startswith("SELECT ") or _RISKY.search(a):
        return None
    extra = b[len(a) + len(" AND "):]
    top, extra_top = top_level(a), top_level(extra)
    if not top or extra_top is None or "FROM" not in top:
        return None
    # ``… ON c1 OR c2`` + `` AND e`` would be ``c1 OR (c2 AND e)``; an OR in ``extra`` likewise
    if any(t.upper() == "OR" for t in top[top.index("FROM"):] + extra_top):
        return None
    # the last clause must be a conjunction the extra condition joins: ON … or WHERE …
    last = max((i for i, t in enumerate(top) if t.upper() in ("ON", "WHERE", "FROM", "JOIN")), default=-1)
    if last < 0 or top[last].upper() not in ("ON", "WHERE"):
        return None
    head = a[len("SELECT "):a.index(" FROM ")]
    cols: dict[str, str] = {}
    for item in _split_commas(head):
        m = re.fullmatch(r'\s*([A-Za-z_]\w*\.(?:"(?:[^"]|"")+"|[A-Za-z_]\w*)) AS ("(?:[^"]|"")+"|[A-Za-z_]\w*)\s*', item)
        if m is None:
            return None
        cols[m.group(1)] = m.group(2)
    froms = {m.group(2) or m.group(1) for m in _FROM_ITEM.finditer(a)}
    ref = re.compile(r'\b([A-Za-z_]\w*)\.("(?:[^"]|"")+"|[A-Za-z_]\w*)')
    out, bad = [], False
    pos = 0
    text = extra
    for m in ref.finditer(text):
        if _in_quotes(text, m.start()):
            continue
        whole = m.group(0)
        if whole in cols:
            out.append(text[pos:m.start()] + f"{earlier}.{cols[whole]}")
            pos = m.end()
        elif m.group(1) in froms or m.group(1) not in names:
            bad = True
            break
    if bad:
        return None
    extra2 = "".join(out) + text[pos:]
    if any(t in froms for t in _tokens(extra2)) or _RISKY.search(extra2):
        return None
    return f"SELECT * FROM {earlier} WHERE {extra2}"


def _split_commas(text: str) -> list[str]:
    out, depth, cur = [], 0, []
    for t in _tokens(text):
        depth += (t == "(") - (t == ")")
        if t == "," and depth == 0:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(t)
    out.append("".join(cur))
    return out


def _in_quotes(text: str, pos: int) -> bool:
    """Whether ``pos`` falls inside a quoted literal of ``text``."""
    i = 0
    for t in _tokens(text):
        if i <= pos < i + len(t):
            return t[0] == "'" and len(t) > 1
        i += len(t)
    return False
