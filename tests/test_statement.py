"""One statement from the compiler's CTEs: identical CTEs merged, unused ones left out."""

import duckdb

from graphwatch.cypher.statement import render


def _run(sql: str):
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT range AS x FROM range(10)")
    return sorted(con.execute(sql).fetchall())


def test_a_repeated_cte_is_read_once_and_references_follow_it():
    ctes = [("a1", "SELECT x FROM t WHERE x < 5"),
            ("b2", "SELECT x FROM a1 WHERE x > 1"),
            ("a3", "SELECT x FROM t WHERE x < 5"),          # a1 again
            ("b4", "SELECT x FROM a3 WHERE x > 1")]          # b2 again, once a3 is a1
    tail = "SELECT b2.x, b4.x FROM b2 JOIN b4 ON b2.x = b4.x"
    sql = render(ctes, tail, materialized={"a1", "b2", "a3", "b4"})
    assert sql.count(" AS MATERIALIZED (") == 2
    assert "b4 AS (SELECT * FROM b2)" in sql and "a3" not in sql     # b4 reads b2: a3 is not needed
    assert _run(sql) == [(i, i) for i in (2, 3, 4)]
    unmerged = "WITH " + ",\n".join(f"{n} AS MATERIALIZED ({b})" for n, b in ctes) + "\n" + tail
    assert _run(sql) == _run(unmerged)


def test_a_copy_keeps_its_name_so_no_reference_changes_meaning():
    # renaming b2 to a1 inside the subquery would make it read its own row (always true)
    ctes = [("a1", "SELECT x FROM t"), ("b2", "SELECT x FROM t")]
    tail = "SELECT count(*) FROM a1 WHERE EXISTS (SELECT 1 FROM b2 WHERE b2.x = a1.x + 1)"
    sql = render(ctes, tail, materialized={"a1", "b2"})
    assert "b2 AS (SELECT * FROM a1)" in sql and sql.endswith(tail)
    assert _run(sql) == [(9,)]
    # a quoted literal naming a CTE is not a reference to it
    ctes = [("a1", "SELECT x FROM t"), ("a3", "SELECT 'a1' AS tag")]
    assert "a3 AS (SELECT 'a1' AS tag)" in render(ctes, "SELECT * FROM a3", materialized=set())
    assert "a1" not in render(ctes, "SELECT * FROM a3", materialized=set()).split("SELECT 'a1'")[0]
    # same text but one materialised and one not: two CTEs
    ctes = [("a1", "SELECT x FROM t"), ("a3", "SELECT x FROM t")]
    sql = render(ctes, "SELECT * FROM a1 JOIN a3 USING (x)", materialized={"a1"})
    assert "a3 AS (" in sql and "a1 AS MATERIALIZED (" in sql


def test_volatile_bodies_stay_apart_and_unused_ctes_are_left_out():
    ctes = [("r1", "SELECT random() AS v"), ("r2", "SELECT random() AS v"), ("u3", "SELECT 1 AS y")]
    sql = render(ctes, "SELECT r1.v = r2.v FROM r1, r2", materialized={"r1", "r2", "u3"})
    assert "r2 AS MATERIALIZED" in sql and "u3" not in sql
    assert _run(sql) == [(False,)]
    assert render(ctes, "SELECT 1", materialized=set()) == "SELECT 1"
    # a CTE needed only through another one is kept
    sql = render([("a1", "SELECT 1 AS y"), ("b2", "SELECT y FROM a1")], "SELECT * FROM b2", materialized=set())
    assert sql.startswith("WITH a1 AS (SELECT 1 AS y),\nb2 AS")


def _chain(n: str, r: str, s: str, nxt: str, cut: int) -> list[tuple[str, str]]:
    """A pattern's rows as the planner writes them: node ``n`` (x below ``cut``) joined to row
    ``r`` of t by value, each step named after its aliases."""
    return [(s, f'SELECT {n}.x AS "{n}__x" FROM t AS {n} WHERE {n}.x < {cut}'),
            (nxt, f'SELECT {s}."{n}__x", {r}.x AS "{r}__x" FROM {s} JOIN t AS {r} ON {r}.x = {s}."{n}__x" + 1')]


def test_a_cte_equal_up_to_its_aliases_is_the_first_one_renamed():
    ctes = _chain("n1", "r2", "st3", "st4", 5) + _chain("n5", "r6", "st7", "st8", 5)
    tail = 'SELECT st4."r2__x", st8."r6__x" FROM st4 JOIN st8 ON st4."n1__x" = st8."n5__x"'
    sql = render(ctes, tail, materialized={"st3", "st4", "st7", "st8"})
    # the second chain's last step is the first one's, its columns named as the tail reads them
    assert 'st8("n5__x", "r6__x") AS (SELECT * FROM st4)' in sql and "st7" not in sql
    assert sql.count(" AS MATERIALIZED (") == 2
    unmerged = "WITH " + ",\n".join(f"{n} AS MATERIALIZED ({b})" for n, b in ctes) + "\n" + tail
    assert _run(sql) == _run(unmerged) == [(i + 1, i + 1) for i in range(5)]


def test_a_different_filter_or_column_is_not_a_renaming():
    # another bound (cut) is another relation
    ctes = _chain("n1", "r2", "st3", "st4", 5) + _chain("n5", "r6", "st7", "st8", 6)
    sql = render(ctes, 'SELECT * FROM st4, st8', materialized={"st3", "st4", "st7", "st8"})
    assert sql.count(" AS MATERIALIZED (") == 4
    # the same text once numbered, but reading another column of the CTE before it
    ctes = [("a1", "SELECT x AS c0, x + 1 AS c1 FROM t"),
            ("b2", "SELECT a1.c0 AS c0 FROM a1"),
            ("b3", "SELECT a1.c1 AS c1 FROM a1")]
    sql = render(ctes, "SELECT b2.c0, b3.c1 FROM b2, b3 WHERE b2.c0 = 0 AND b3.c1 = 1", materialized={"a1", "b2", "b3"})
    assert "b3 AS MATERIALIZED (" in sql
    assert _run(sql) == [(0, 1)]
    # a renamed CTE read whole (``*``): its columns' names are unknown there, no merge
    ctes = _chain("n1", "r2", "st3", "st4", 5) + _chain("n5", "r6", "st7", "st8", 5) + \
        [("p9", "SELECT * FROM st8")]
    sql = render(ctes, "SELECT * FROM p9", materialized={"st3", "st4", "st7", "st8"})
    assert "p9 AS (SELECT * FROM st8)" in sql and 'st8("n5__x", "r6__x") AS (SELECT * FROM st4)' in sql
    assert _run(sql) == [(i, i + 1) for i in range(5)]
    # a CTE reading a renamed one carries that one's column names, not the first one's
    ctes = _chain("n1", "r2", "st3", "st4", 5) + [("y9", 'SELECT st4."r2__x" FROM st4 WHERE st4."r2__x" > 2')] + \
        _chain("n5", "r6", "st7", "st8", 5) + [("y10", 'SELECT st8."r6__x" FROM st8 WHERE st8."r6__x" > 2')]
    tail = 'SELECT y9."r2__x", y10."r6__x" FROM y9 JOIN y10 ON y9."r2__x" = y10."r6__x"'
    sql = render(ctes, tail, materialized={"st3", "st4", "st7", "st8"})
    assert 'y10("r6__x") AS (SELECT * FROM y9)' in sql
    assert _run(sql) == [(i, i) for i in (3, 4, 5)]
