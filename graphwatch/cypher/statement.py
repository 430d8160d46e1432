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
"""

from __future__ import annotations

import re
from functools import lru_cache

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
    for name, body in ctes:
        toks = _tokens(body)
        # equal once the CTEs it reads are named alike
        canonical = "".join(same.get(t, t) for t in toks) if same else body
        key = (canonical, name in materialized)
        if key in first and not recursive and not VOLATILE & {t.lower() for t in toks}:
            same[name] = first[key]
        else:
            first.setdefault(key, name)
        bodies[name] = body
    need = {t for t in _tokens(tail) if t in bodies}
    todo = list(need)
    while todo:
        name = todo.pop()
        for t in (same[name],) if name in same else _tokens(bodies[name]):
            if t in bodies and t not in need:
                need.add(t)
                todo.append(t)
    kept = [name for name, _ in ctes if name in need]
    if not kept:
        return tail

    def one(name: str) -> str:
        if name in same:      # its own name, no rename inside the SQL: no reference can change meaning
            return f"{name} AS (SELECT * FROM {same[name]})"
        return f"{name} AS {'MATERIALIZED ' if name in materialized else ''}({bodies[name]})"

    return "WITH " + ("RECURSIVE " if recursive else "") + ",\n".join(one(n) for n in kept) + "\n" + tail
