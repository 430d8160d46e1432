"""Golden Cypher cases on one tiny hand-checked graph: Cypher in, expected rows out.

The engine tests run every case; the Neo4j parity tests (later) run the same table on a
real Neo4j. Results are normalised before comparison: a node becomes its key, a
relationship its type, a path the list of its node keys.

The graph (keys without the label prefix)::

    ann (Person, Official, 女, 1970-05-01) -SPOUSE_OF- bob (Person, 男, 1972-03-10)
    ann -PARENT_OF-> cat (女, 1995-07-20) <-PARENT_OF- bob
    cat -SIBLING_OF- dan (男, 1998-01-01)            eve (no birth date, no sex) -CO_OCCURRED_WITH- eve
    bob -LEGAL_REP_OF-> xco <-SHAREHOLDER_OF {60}- cat;  dan -SHAREHOLDER_OF {40}-> xco
    ann -SERVES_IN-> east (Village);  k1 (Contract) -AWARDED_TO-> xco;  k1 -FOR_PROJECT-> road (Project)
    road -LOCATED_IN-> east;  dan -RECEIVES-> bn1 (Benefit, 2021-01-01) -OF_PROGRAMME-> dibao; bn1 -PAID_IN-> east
    dan -HAS_DEATH_RECORD-> dr (death 2020-12-01);  yco (Company, no links);  west (Village, no links)
"""

from __future__ import annotations

import datetime as dt

NODES = [
    {"key": "Person:ann", "labels": ["Person", "Official"], "name": "Ann", "sex": "女", "birth_date": "1970-05-01",
     "id_number": "110105197005010028"},
    {"key": "Person:bob", "labels": ["Person"], "name": "Bob", "sex": "男", "birth_date": "1972-03-10"},
    {"key": "Person:cat", "labels": ["Person"], "name": "Cat", "sex": "女", "birth_date": "1995-07-20"},
    {"key": "Person:dan", "labels": ["Person"], "name": "Dan", "sex": "男", "birth_date": "1998-01-01"},
    {"key": "Person:eve", "labels": ["Person"], "name": "Eve"},
    {"key": "Company:xco", "labels": ["Company"], "name": "Xco", "registered_capital": 1000000,
     "established": "2015-01-01"},
    {"key": "Company:yco", "labels": ["Company"], "name": "Yco"},
    {"key": "Village:east", "labels": ["Village"], "name": "East", "division_code": "001"},
    {"key": "Village:west", "labels": ["Village"], "name": "West", "division_code": "002"},
    {"key": "Contract:k1", "labels": ["Contract"], "contract_no": "K1", "amount": 500000, "signed": "2022-06-01"},
    {"key": "Project:road", "labels": ["Project"], "name": "Road", "budget": 600000},
    {"key": "Benefit:bn1", "labels": ["Benefit"], "amount": 300, "period_start": "2021-01-01"},
    {"key": "Programme:dibao", "labels": ["Programme"], "name": "低保"},
    {"key": "DeathRecord:dr", "labels": ["DeathRecord"], "death_date": "2020-12-01"},
]

RELS = [
    ["Person:ann", "SPOUSE_OF", "Person:bob"],
    ["Person:ann", "PARENT_OF", "Person:cat"],
    ["Person:bob", "PARENT_OF", "Person:cat"],
    ["Person:cat", "SIBLING_OF", "Person:dan"],
    ["Person:bob", "LEGAL_REP_OF", "Company:xco"],
    ["Person:cat", "SHAREHOLDER_OF", "Company:xco", {"share": 60.0}],
    ["Person:dan", "SHAREHOLDER_OF", "Company:xco", {"share": 40.0}],
    ["Person:ann", "SERVES_IN", "Village:east", {"valid_from": "2019-01-01"}],
    ["Contract:k1", "AWARDED_TO", "Company:xco"],
    ["Contract:k1", "FOR_PROJECT", "Project:road"],
    ["Project:road", "LOCATED_IN", "Village:east"],
    ["Person:dan", "RECEIVES", "Benefit:bn1"],
    ["Benefit:bn1", "OF_PROGRAMME", "Programme:dibao"],
    ["Benefit:bn1", "PAID_IN", "Village:east"],
    ["Person:dan", "HAS_DEATH_RECORD", "DeathRecord:dr"],
    ["Person:eve", "CO_OCCURRED_WITH", "Person:eve", {"basis": "same case"}],
]

D = dt.date


def case(id, query, rows, *, params=None, ordered=False, columns=None):
    return {"id": id, "query": query, "rows": rows, "params": params or {}, "ordered": ordered, "columns": columns}


CASES = [
    # -- node patterns
    case("label", "MATCH (p:Person) RETURN p.name", [("Ann",), ("Bob",), ("Cat",), ("Dan",), ("Eve",)]),
    case("two_labels", "MATCH (p:Person:Official) RETURN p.name", [("Ann",)]),
    case("no_label", "MATCH (n) WHERE n.name = 'Xco' RETURN n.key", [("Company:xco",)]),
    case("inline_props", "MATCH (p:Person {name: 'Bob'}) RETURN p.birth_date", [(D(1972, 3, 10),)]),
    case("node_object", "MATCH (p:Person {name: 'Ann'}) RETURN p", [("Person:ann",)]),
    # -- relationship patterns
    case("directed", "MATCH (a:Person)-[:PARENT_OF]->(c) RETURN a.name, c.name", [("Ann", "Cat"), ("Bob", "Cat")]),
    case("reverse", "MATCH (c:Person)<-[:PARENT_OF]-(a) RETURN c.name, a.name", [("Cat", "Ann"), ("Cat", "Bob")]),
    case("undirected_both_orientations", "MATCH (a)-[:SPOUSE_OF]-(b) RETURN a.name, b.name",
         [("Ann", "Bob"), ("Bob", "Ann")]),
    case("undirected_self_loop_once", "MATCH (p)-[r:CO_OCCURRED_WITH]-(q) RETURN p.name, q.name, r.basis",
         [("Eve", "Eve", "same case")]),
    case("type_alternatives", "MATCH (p)-[r:LEGAL_REP_OF|SHAREHOLDER_OF]->(x:Company) RETURN p.name, type(r)",
         [("Bob", "LEGAL_REP_OF"), ("Cat", "SHAREHOLDER_OF"), ("Dan", "SHAREHOLDER_OF")]),
    case("rel_inline_props", "MATCH (p)-[:SHAREHOLDER_OF {share: 60.0}]->(x) RETURN p.name", [("Cat",)]),
    case("rel_return", "MATCH ()-[s:SHAREHOLDER_OF]->() RETURN s.share, s ORDER BY s.share DESC",
         [(60.0, "SHAREHOLDER_OF"), (40.0, "SHAREHOLDER_OF")], ordered=True),
    case("own_village",
         "MATCH (a:Official)-[:SERVES_IN]->(v:Village), "
         "(a)-[:SPOUSE_OF]-(s)-[:LEGAL_REP_OF]->(x:Company)<-[:AWARDED_TO]-(k:Contract)-[:FOR_PROJECT]->"
         "(j:Project)-[:LOCATED_IN]->(v) RETURN a.name, s.name, x.name, k.contract_no, j.name, v.name",
         [("Ann", "Bob", "Xco", "K1", "Road", "East")]),
    case("cycle_two_parents", "MATCH (a)-[:PARENT_OF]->(c)<-[:PARENT_OF]-(b) RETURN a.name, b.name",
         [("Ann", "Bob"), ("Bob", "Ann")]),
    case("rel_uniqueness_in_path", "MATCH (a)-[:PARENT_OF]-(b)-[:PARENT_OF]-(c) RETURN a.name, b.name, c.name",
         [("Ann", "Cat", "Bob"), ("Bob", "Cat", "Ann")]),
    case("rel_uniqueness_across_comma_paths", "MATCH (a)-[:SPOUSE_OF]-(b), (c)-[:SPOUSE_OF]-(d) RETURN count(*)",
         [(0,)]),
    case("one_relationship_twice_in_a_path_is_no_path",
         "MATCH (a)-[r:PARENT_OF]->(b)-[r:PARENT_OF]->(c) RETURN count(*)", [(0,)]),
    case("no_uniqueness_across_match_clauses",
         "MATCH (a)-[:SPOUSE_OF]-(b) MATCH (c)-[:SPOUSE_OF]-(d) RETURN count(*)", [(4,)]),
    # -- variable length
    case("var_length_exact", "MATCH (a {name: 'Ann'})-[:PARENT_OF|SIBLING_OF|SPOUSE_OF*2]-(b) RETURN b.name",
         [("Cat",), ("Bob",), ("Dan",)]),
    case("var_length_zero", "MATCH (a {name: 'Dan'})-[:SIBLING_OF*0..1]-(b) RETURN b.name", [("Dan",), ("Cat",)]),
    case("var_length_directed", "MATCH (a:Person {name: 'Ann'})-[:PARENT_OF|SHAREHOLDER_OF*1..3]->(b) RETURN b.name",
         [("Cat",), ("Xco",)]),
    case("var_length_list", "MATCH (a {name: 'Ann'})-[r:PARENT_OF|SIBLING_OF*2]-(b) RETURN b.name, size(r)",
         [("Bob", 2), ("Dan", 2)]),
    case("var_length_path_from_selective_end",
         "MATCH p = (a)-[:PARENT_OF|SIBLING_OF*2]-(d:Person {name: 'Dan'}) RETURN p",
         [(["Person:ann", "Person:cat", "Person:dan"],), (["Person:bob", "Person:cat", "Person:dan"],)]),
    case("path_variable", "MATCH p = (a {name: 'Bob'})-[:LEGAL_REP_OF]->(x) RETURN length(p), size(nodes(p)), p",
         [(1, 2, ["Person:bob", "Company:xco"])]),
    # -- OPTIONAL MATCH
    case("optional", "MATCH (p:Person) OPTIONAL MATCH (p)-[s:SHAREHOLDER_OF]->(x) RETURN p.name, s.share, x.name",
         [("Ann", None, None), ("Bob", None, None), ("Cat", 60.0, "Xco"), ("Dan", 40.0, "Xco"), ("Eve", None, None)]),
    case("optional_where", "MATCH (p:Person) OPTIONAL MATCH (p)-[s:SHAREHOLDER_OF]->(x) WHERE s.share > 50 "
         "RETURN p.name, x.name",
         [("Ann", None), ("Bob", None), ("Cat", "Xco"), ("Dan", None), ("Eve", None)]),
    case("optional_first", "OPTIONAL MATCH (p:Person {name: 'Zed'}) RETURN p", [(None,)]),
    case("optional_count", "MATCH (p:Person) OPTIONAL MATCH (p)-[:RECEIVES]->(b) RETURN p.name, count(b) AS n "
         "ORDER BY p.name", [("Ann", 0), ("Bob", 0), ("Cat", 0), ("Dan", 1), ("Eve", 0)], ordered=True),
    # -- WHERE
    case("not_pattern", "MATCH (p:Person) WHERE NOT (p)-[:RECEIVES]->(:Benefit) RETURN p.name",
         [("Ann",), ("Bob",), ("Cat",), ("Eve",)]),
    case("exists_subquery", "MATCH (p:Person) WHERE EXISTS { MATCH (p)-[:SHAREHOLDER_OF]->(x:Company) "
         "WHERE x.name STARTS WITH 'X' } RETURN p.name", [("Cat",), ("Dan",)]),
    case("compare_and_in", "MATCH (p:Person) WHERE p.birth_date >= date('1990-01-01') "
         "AND p.name IN ['Cat', 'Dan', 'Zed'] RETURN p.name", [("Cat",), ("Dan",)]),
    case("xor_with_null", "MATCH (p:Person) WHERE p.name = 'Ann' XOR p.sex = '女' RETURN p.name", [("Cat",)]),
    case("is_null", "MATCH (p:Person) WHERE p.birth_date IS NULL RETURN p.name", [("Eve",)]),
    case("is_not_null", "MATCH (p:Person) WHERE p.birth_date IS NOT NULL RETURN count(*)", [(4,)]),
    case("string_predicates", "MATCH (p:Person) WHERE p.name ENDS WITH 'n' OR p.name CONTAINS 'at' RETURN p.name",
         [("Ann",), ("Dan",), ("Cat",)]),
    case("regex", "MATCH (p:Person) WHERE p.name =~ '[AB].*' RETURN p.name", [("Ann",), ("Bob",)]),
    case("label_predicate", "MATCH (p:Person) WHERE p:Official RETURN p.name", [("Ann",)]),
    case("not_label_predicate", "MATCH (p:Person) WHERE NOT p:Official RETURN count(*)", [(4,)]),
    case("three_valued_logic",
         "RETURN null = null AS a, null IS NULL AS b, NOT null AS c, true OR null AS d, false AND null AS e, "
         "1 IN [2, null] AS f, 2 IN [2, null] AS g",
         [(None, True, None, True, False, None, True)]),
    case("arithmetic_functions",
         "RETURN 7 / 2 AS a, 7 % 3 AS b, 2 ^ 3 AS c, abs(-3) AS d, toLower('AbC') AS e, toUpper('x') AS f, "
         "size('abc') AS g, coalesce(null, 5) AS h, toString(12) AS i, toInteger('42') AS j, toInteger(3.9) AS k, "
         "-7 / 2 AS l, 1 + 2 * 3 AS m",
         [(3, 1, 8.0, 3, "abc", "X", 3, 5, "12", 42, 3, -3, 7)]),
    case("dates_and_durations",
         "MATCH (p {name: 'Dan'})-[:HAS_DEATH_RECORD]->(d:DeathRecord), (p)-[:RECEIVES]->(b:Benefit) "
         "WHERE b.period_start > d.death_date "
         "RETURN duration.inDays(d.death_date, b.period_start).days AS days, "
         "d.death_date + duration({days: 31}) AS later, d.death_date - duration('P1M') AS earlier",
         [(31, D(2021, 1, 1), D(2020, 11, 1))]),
    case("date_fields", "MATCH (p {name: 'Bob'}) RETURN p.birth_date.year AS y, p.birth_date.month AS m",
         [(1972, 3)]),
    # -- WITH, aggregation, ordering
    case("aggregate_then_filter", "MATCH (p:Person)-[:SHAREHOLDER_OF|LEGAL_REP_OF]->(x:Company) "
         "WITH x, count(p) AS n WHERE n >= 3 RETURN x.name, n", [("Xco", 3)]),
    case("ordered_collect", "MATCH (a)-[:PARENT_OF]->(c) WITH a, c ORDER BY a.name DESC "
         "RETURN c.name, collect(a.name) AS parents", [("Cat", ["Bob", "Ann"])]),
    case("aggregates", "MATCH (p)-[s:SHAREHOLDER_OF]->(x) RETURN count(DISTINCT x) AS cx, sum(s.share) AS total, "
         "avg(s.share) AS mean, min(p.name) AS lo, max(p.name) AS hi", [(1, 100.0, 50.0, "Cat", "Dan")]),
    case("aggregates_of_nothing", "MATCH (p:Person {name: 'Nobody'}) RETURN count(*) AS n, sum(p.grade) AS s, "
         "collect(p.name) AS l", [(0, 0, [])]),
    case("count_star_vs_count_value", "MATCH (p:Person) RETURN count(*) AS a, count(p.birth_date) AS b", [(5, 4)]),
    case("implicit_grouping", "MATCH (a)-[:PARENT_OF]->(c) RETURN c.name, count(*) AS n", [("Cat", 2)]),
    case("distinct", "MATCH (a)-[:PARENT_OF]->(c) RETURN DISTINCT c.name", [("Cat",)]),
    case("order_nulls_last_ascending", "MATCH (p:Person) RETURN p.name ORDER BY p.birth_date",
         [("Ann",), ("Bob",), ("Cat",), ("Dan",), ("Eve",)], ordered=True),
    case("order_nulls_first_descending", "MATCH (p:Person) RETURN p.name ORDER BY p.birth_date DESC",
         [("Eve",), ("Dan",), ("Cat",), ("Bob",), ("Ann",)], ordered=True),
    case("skip_limit", "MATCH (p:Person) RETURN p.name ORDER BY p.name SKIP 1 LIMIT 2", [("Bob",), ("Cat",)],
         ordered=True),
    case("with_order_limit", "MATCH (p:Person) WITH p ORDER BY p.birth_date DESC LIMIT 2 RETURN p.name",
         [("Eve",), ("Dan",)]),
    case("order_by_alias", "MATCH (p)-[s:SHAREHOLDER_OF]->(x) RETURN p.name AS who, s.share AS pct ORDER BY pct",
         [("Dan", 40.0), ("Cat", 60.0)], ordered=True),
    case("order_by_aggregate", "MATCH (p:Person)-[r]->() RETURN p.name, count(r) AS n ORDER BY n DESC, p.name",
         [("Ann", 3), ("Dan", 3), ("Bob", 2), ("Cat", 2), ("Eve", 1)], ordered=True),
    # -- UNWIND, lists, CASE, parameters
    case("unwind_param", "UNWIND $names AS n MATCH (p:Person {name: n}) RETURN p.name ORDER BY p.name",
         [("Ann",), ("Dan",)], params={"names": ["Dan", "Ann", "Zed"]}, ordered=True),
    case("collect_then_unwind", "MATCH (p:Person) WHERE p.sex = '女' WITH collect(p.name) AS names "
         "UNWIND names AS n RETURN n", [("Ann",), ("Cat",)]),
    case("list_comprehension", "RETURN [x IN range(1, 5) WHERE x % 2 = 1 | x * 10] AS l, size([1, 2, 3]) AS n",
         [([10, 30, 50], 3)]),
    case("case_searched", "MATCH (p:Person) RETURN p.name, CASE WHEN p.birth_date < date('1980-01-01') THEN 'old' "
         "WHEN p.birth_date IS NULL THEN 'unknown' ELSE 'young' END AS g",
         [("Ann", "old"), ("Bob", "old"), ("Cat", "young"), ("Dan", "young"), ("Eve", "unknown")]),
    case("case_simple", "MATCH (p:Person) RETURN p.name, CASE p.sex WHEN '女' THEN 'F' WHEN '男' THEN 'M' END",
         [("Ann", "F"), ("Bob", "M"), ("Cat", "F"), ("Dan", "M"), ("Eve", None)]),
    case("parameters", "MATCH (p:Person {sex: $sex}) WHERE p.birth_date < $before RETURN p.name LIMIT $k",
         [("Ann",)], params={"sex": "女", "before": D(1980, 1, 1), "k": 5}),
    case("return_star", "MATCH (a {name: 'Bob'})-[r:LEGAL_REP_OF]->(x) RETURN *",
         [("Person:bob", "LEGAL_REP_OF", "Company:xco")], columns=["a", "r", "x"]),
    # -- regressions found while documenting (docs/cypher.md)
    case("label_predicate_two_labels", "MATCH (p:Person) WHERE p:Person:Official RETURN p.name", [("Ann",)]),
    case("zero_length_path_lists_node_once", "MATCH p = (a {name: 'Dan'})-[:SIBLING_OF*0..1]-(b) RETURN p",
         [(["Person:dan"],), (["Person:dan", "Person:cat"],)]),
    case("exact_conversions_and_duration_totals",
         "RETURN toInteger('140105196505050011') AS a, duration({years: 1, months: 2}).months AS b, "
         "duration({hours: 2}).minutes AS c, trim('\\t a \\n') AS d, "
         "duration.inDays(localdatetime('2021-01-01T23:00:00'), localdatetime('2021-01-02T01:00:00')).days AS e",
         [(140105196505050011, 14, 120, "a", 0)]),
    # found by running docs/cypher.md on Neo4j: temporal fields spelled as Neo4j spells them
    case("neo4j_temporal_fields", "MATCH (d:DeathRecord) RETURN d.death_date.ordinalDay, d.death_date.weekDay, "
         "d.death_date.dayOfWeek", [(336, 2, 2)]),
    # found by the differential test: an empty OPTIONAL var-length hop wiped an aggregate's bindings
    case("optional_var_length_empty_then_aggregate", "MATCH (p:Person)-[:RECEIVES]->(:Benefit) "
         "OPTIONAL MATCH (p)<-[:CO_OCCURRED_WITH*..2]-(x:Person) RETURN x.name AS k, count(*) AS a",
         [(None, 1)]),
    case("exists_property", "MATCH (p:Person) WHERE p.birth_date IS NOT NULL RETURN count(*)", [(4,)]),
    case("group_keys_after_with", "MATCH (a)-[x:SHAREHOLDER_OF]->(b) WITH x RETURN avg(x.share) AS m, x.share AS y "
         "ORDER BY y", [(40.0, 40.0), (60.0, 60.0)], ordered=True),
    case("constant_order_key", "MATCH (p:Person) RETURN count(*) AS n ORDER BY $k", [(5,)], params={"k": 1}),
    # found by the strict fuzzer: the compiler added 1 to the start (an INT64 overflow);
    # Neo4j takes starts and lengths up to 2^31 - 1 (beyond: REFUSED below)
    case("substring_past_the_end",
         "RETURN substring('abc', 2147483647, 2) AS a, substring('abc', 2147483647) AS b, "
         "substring('abc', 1, 2147483647) AS c, substring('abc', 3, 1) AS d, left('abc', 9223372036854775807) AS e, "
         "substring('abc', null) AS f",
         [("", "", "bc", "", "abc", None)]),
    case("round_halves_up", "RETURN round(-2.5) AS a, round(2.5) AS b, round(-0.5) AS c, round(0.49999999999999994) AS d, "
         "round(5) AS e, floor(5) AS f, round(-0.4) AS g, ceil(-0.5) AS h",
         [(-2.0, 3.0, 0.0, 0.0, 5.0, 5.0, 0.0, -0.0)]),
    # found by the differential test: WITH passed an OPTIONAL MATCH's node on as never null,
    # and reading its property then dropped the rows where it is null
    case("optional_node_through_with", "MATCH (p:Person) OPTIONAL MATCH (p)-[:SHAREHOLDER_OF]->(x) "
         "WITH x, p RETURN p.name, x.name",
         [("Ann", None), ("Bob", None), ("Cat", "Xco"), ("Dan", "Xco"), ("Eve", None)]),
    case("optional_node_renamed_and_ordered", "MATCH (p:Person) OPTIONAL MATCH (p)-[:SHAREHOLDER_OF]->(x) "
         "RETURN p.name AS name, x AS y ORDER BY y.name, name",
         [("Cat", "Company:xco"), ("Dan", "Company:xco"), ("Ann", None), ("Bob", None), ("Eve", None)],
         ordered=True),
    # found by the strict fuzzer (DuckDB refused the SQL before)
    case("in_list_of_another_type", "RETURN 2 IN ['a'] AS a, 2 IN ['a', null] AS b, 'x' IN [1, 2] AS c",
         [(False, None, False)]),
    case("index_far_past_the_end", "RETURN [1, 2][9223372036854775807] AS a, [1, 2][-3] AS b, [1, 2][-1] AS c",
         [(None, None, 2)]),
    case("computed_order_key_of_a_with", "MATCH (p:Person) WITH p.name AS name, count(*) AS n "
         "ORDER BY left(name, n) DESC RETURN collect(name) AS names", [(["Eve", "Dan", "Cat", "Bob", "Ann"],)]),
    # found by the differential test: Neo4j keeps ELSE 0 an integer next to float rows (so
    # mixing them is refused); written as 0.0 the CASE gives the same rows on both engines
    case("case_float_results", "MATCH (c:Company) RETURN c.name, CASE WHEN c.registered_capital > 500000 "
         "THEN c.registered_capital ELSE 0.0 END AS big", [("Xco", 1000000.0), ("Yco", 0.0)]),
    # -- a walk or a search from one node looked up by a property (its labels tested on the row)
    case("walk_from_lookup_of_another_label",
         "MATCH (a:Company {id_number: '110105197005010028'})-[*1..2]-(x) RETURN count(DISTINCT x)", [(0,)]),
    case("walk_from_lookup_second_label",
         "MATCH (a:Official {id_number: '110105197005010028'})-[*1..2]-(x) RETURN count(DISTINCT x)", [(7,)]),
    # f:Person is what every kinship relationship ends at (no row of f read); Dan is paid
    case("walk_end_label_from_the_types",
         "MATCH (a:Person {id_number: '110105197005010028'})-[:SPOUSE_OF|PARENT_OF|SIBLING_OF*1..2]-(f:Person) "
         "WHERE f <> a AND NOT (f)-[:RECEIVES]->(:Benefit) RETURN count(DISTINCT f)", [(2,)]),
    # … but not for a walk of no relationship: it ends where it starts, at a Company
    case("walk_of_none_keeps_the_end_label", "MATCH (c:Company {name: 'Xco'})-[:SIBLING_OF*0..1]-(f:Person) RETURN f.name",
         []),
    case("shortest_path_end_of_another_label",
         "MATCH p = shortestPath((a:Company {id_number: '110105197005010028'})-[*..4]-(d:Person {name: 'Dan'})) "
         "RETURN length(p)", []),
    case("shortest_path_ends_looked_up",
         "MATCH p = shortestPath((a:Official {id_number: '110105197005010028'})-[*..4]-(d:Person {name: 'Dan'})) "
         "RETURN length(p)", [(2,)]),
    # -- shortest paths
    case("shortest_path", "MATCH p = shortestPath((a:Person {name: 'Ann'})-[*..6]-(d:Person {name: 'Dan'})) "
         "RETURN length(p), p", [(2, ["Person:ann", "Person:cat", "Person:dan"])]),
    case("shortest_path_directed_typed",
         "MATCH p = shortestPath((a {name: 'Ann'})-[:PARENT_OF|SHAREHOLDER_OF*..4]->(x:Company)) RETURN p",
         [(["Person:ann", "Person:cat", "Company:xco"],)]),
    case("all_shortest_paths",
         "MATCH p = allShortestPaths((a:Person {name: 'Ann'})-[*..6]-(x:Company {name: 'Xco'})) RETURN p",
         [(["Person:ann", "Person:bob", "Company:xco"],), (["Person:ann", "Person:cat", "Company:xco"],)]),
    # -- UNION, reduce (issue 14)
    case("union_removes_duplicates", "MATCH (a)-[:PARENT_OF]->(c) RETURN c.name AS n "
         "UNION MATCH (a)-[:SIBLING_OF]-(c) RETURN c.name AS n", [("Cat",), ("Dan",)]),
    case("union_all_keeps_them", "MATCH (a)-[:PARENT_OF]->(c) RETURN c.name AS n "
         "UNION ALL MATCH (a)-[:SIBLING_OF]-(c) RETURN c.name AS n", [("Cat",), ("Cat",), ("Cat",), ("Dan",)]),
    case("union_of_aggregates", "MATCH (p:Person) RETURN count(p) AS n UNION ALL MATCH (c:Company) "
         "RETURN count(c) AS n UNION ALL RETURN 5 AS n", [(5,), (2,), (5,)], ordered=True),
    case("union_nodes_and_nulls", "MATCH (p:Person {name: 'Ann'}) RETURN p AS x, p.sex AS s "
         "UNION MATCH (c:Company {name: 'Xco'}) RETURN c AS x, null AS s", [("Person:ann", "女"), ("Company:xco", None)]),
    case("reduce_sum_and_join", "MATCH (p:Person) WHERE p.sex IS NOT NULL WITH p ORDER BY p.name "
         "WITH collect(p.name) AS ns RETURN reduce(s = '', n IN ns | s + n) AS joined, "
         "reduce(t = 0, x IN [1, 2, 3] | t + x * x) AS squares, reduce(t = 0, x IN [] | t + x) AS empty",
         [("AnnBobCatDan", 14, 0)]),
    case("reduce_over_path", "MATCH p = (a {name: 'Ann'})-[:PARENT_OF]->()-[:SIBLING_OF]-(d) "
         "RETURN reduce(k = 0, n IN nodes(p) | k + 1) AS k", [(3,)]),
    case("shortest_path_none", "MATCH p = shortestPath((a {name: 'Ann'})-[*..6]-(y:Company {name: 'Yco'})) "
         "RETURN p", []),
]


def refused(id, query, message, line, column, *, params=None):
    return {"id": id, "query": query, "message": message, "line": line, "column": column, "params": params or {}}


#: queries Neo4j itself fails on (checked on the server); both engines refuse them with a
#: PatternError at this line and column, before anything runs
REFUSED = [
    refused("substring_start_beyond_32_bits", "RETURN substring('abc', 9223372036854775807, 2)",
            "substring() needs between 0 and 2147483647", 1, 25),
    refused("substring_negative_length", "RETURN substring('abc', 1, -1)", "substring() needs between 0", 1, 28),
    refused("left_negative", "RETURN left('abc', -1)", "left() needs 0 or more", 1, 20),
    refused("reverse_number", "RETURN reverse(5)", "reverse() needs a string or a list", 1, 8),
    refused("case_when_not_boolean", "RETURN CASE WHEN 1 THEN 2 END", "WHEN needs a true/false condition", 1, 18),
    refused("substring_of_a_number", "RETURN substring(3.5, 0)", "substring() needs a string, not a float", 1, 18),
    refused("slice_bound_beyond_32_bits", "RETURN [1, 2, 3][9223372036854775807..] AS a",
            "a list slice needs bounds between", 1, 18),
    refused("shortest_path_to_itself", "MATCH (a:Person {name: 'Ann'}) MATCH p = shortestPath((a)-[*..4]-(a)) "
            "RETURN length(p)", "shortestPath from a node to itself", 1, 55),
    refused("index_of_a_string", "RETURN 'abc'[1] AS x", "cannot index a string", 1, 8),
    refused("relationship_named_like_a_node", "MATCH (a)-[a:PARENT_OF]->(b) RETURN b", "'a' is a node", 1, 10),
]
