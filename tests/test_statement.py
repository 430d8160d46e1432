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
