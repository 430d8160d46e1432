"""A CTE that is an earlier CTE's join with more conditions is read as a filter of that
CTE's rows (graphwatch.cypher.statement._as_filter): the same rows, and only where the
text shows it is the same relation."""

import duckdb
import pytest

from graphwatch.cypher.statement import render


def _run(sql: str):
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT range AS x, range % 3 AS y FROM range(10)")
    con.execute("CREATE TABLE u AS SELECT range AS x FROM range(0, 10, 2)")
    return sorted(con.execute(sql).fetchall())


def _plain(ctes, tail, materialized):
    return "WITH " + ",\n".join(f"{n} AS {'MATERIALIZED ' if n in materialized else ''}({b})"
                                for n, b in ctes) + "\n" + tail


def test_the_same_join_with_more_conditions_reads_the_first():
    a = 'SELECT t1.x AS "t1__x", t1.y AS "t1__y" FROM u AS u0 JOIN t AS t1 ON (t1.y = 0 OR t1.x > 7) AND t1.x = u0.x'
    ctes = [("st1", a), ("ex2", 'SELECT DISTINCT st1."t1__x" AS k0 FROM st1'),
            ("exm3", "SELECT ex2.k0 AS k0 FROM ex2 WHERE ex2.k0 > 4"),
            ("st4", a + " AND (NOT EXISTS (SELECT 1 FROM exm3 WHERE exm3.k0 = t1.x)) AND t1.y <> 1")]
    tail = 'SELECT st4."t1__x", st4."t1__y" FROM st4'
    mat = {"st1", "ex2", "exm3", "st4"}
    sql = render(ctes, tail, materialized=mat)
    assert 'st4 AS (SELECT * FROM st1 WHERE (NOT EXISTS (SELECT 1 FROM exm3 WHERE exm3.k0 = st1."t1__x"))' \
           ' AND st1."t1__y" <> 1)' in sql
    assert _run(sql) == _run(_plain(ctes, tail, mat)) == [(0, 0)]


@pytest.mark.parametrize("a, extra", [
    # an OR at the end of the first join: appending AND would bind to its last part
    ('SELECT t1.x AS "t1__x" FROM u AS u0 JOIN t AS t1 ON t1.x = u0.x OR t1.y = 2', "t1.x > 3"),
    # a column the first does not select
    ('SELECT t1.x AS "t1__x" FROM u AS u0 JOIN t AS t1 ON t1.x = u0.x', "t1.y = 0"),
    ('SELECT t1.x AS "t1__x" FROM u AS u0 JOIN t AS t1 ON t1.x = u0.x', "u0.x > 3"),
    # outer joins, DISTINCT, grouping: not a plain filter
    ('SELECT t1.x AS "t1__x" FROM t AS t1 LEFT JOIN u AS u0 ON t1.x = u0.x', "t1.x > 3"),
    ('SELECT DISTINCT t1.y AS "t1__y" FROM u AS u0 JOIN t AS t1 ON t1.x = u0.x', "t1.y > 0"),
    ('SELECT t1.y AS "t1__y" FROM t AS t1 WHERE t1.x > 2', "t1.y > 0 GROUP BY 1"),
    # an OR in the extra conditions
    ('SELECT t1.x AS "t1__x" FROM u AS u0 JOIN t AS t1 ON t1.x = u0.x', "t1.x > 3 OR t1.x < 2"),
])
def test_what_is_not_shown_to_be_a_filter_stays_a_join(a, extra):
    ctes = [("st1", a), ("st2", f"{a} AND {extra}")]
    tail = "SELECT * FROM st1 UNION ALL SELECT * FROM st2"
    sql = render(ctes, tail, materialized={"st1", "st2"})
    assert "SELECT * FROM st1 WHERE" not in sql
    assert _run(sql) == _run(_plain(ctes, tail, {"st1", "st2"}))
