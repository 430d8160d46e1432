"""Analytics on tiny hand-checked graphs, on public graphs with published answers (Florentine
families, Davis southern women, Zachary's karate club), and against Cypher's shortestPath /
allShortestPaths on both engines."""

from __future__ import annotations

import random

import networkx as nx
import pytest

from graphwatch.analytics import (AmbiguousEntity, centrality, communities, components, find_entity, from_edges,
                                  from_networkx, load_graph, neighbours, paths, project)
from graphwatch.analytics.load import CACHE_DIR
from graphwatch.exc import GraphwatchError
from graphwatch.fixtures import write_graph
from graphwatch.resolve.ids import make_resident_id, make_uscc
from graphwatch.store import Workspace

# -- tiny hand-checked graphs -------------------------------------------------------------
#   a ─SPOUSE─ b ─LEGAL_REP→ c ←AWARDED─ k
#   a ─SIBLING─ d ─SHAREHOLDER→ c        a ─PARENT→ e ─PARENT→ f
HAND = [("a", "b", "SPOUSE_OF"), ("b", "c", "LEGAL_REP_OF"), ("a", "d", "SIBLING_OF"), ("d", "c", "SHAREHOLDER_OF"),
        ("k", "c", "AWARDED_TO"), ("a", "e", "PARENT_OF"), ("e", "f", "PARENT_OF"), ("b", "c", "SHAREHOLDER_OF")]


@pytest.fixture
def hand():
    return from_edges(HAND)


def v(g, name):
    return g.keys.index(name)


def test_every_shortest_path_counts_parallel_relationships_apart(hand):
    df = paths(hand, v(hand, "a"), v(hand, "c"), all_shortest=True)
    assert sorted(map(tuple, df["types"])) == [("SIBLING_OF", "SHAREHOLDER_OF"), ("SPOUSE_OF", "LEGAL_REP_OF"),
                                                ("SPOUSE_OF", "SHAREHOLDER_OF")]
    assert set(df["hops"]) == {2} and list(df["path"]) == [1, 2, 3]
    one = paths(hand, v(hand, "a"), v(hand, "c"))
    assert len(one) == 1 and tuple(one["rels"][0]) in {tuple(r) for r in df["rels"]}


def test_paths_over_types_directions_and_hops(hand):
    a, c, k, f = (v(hand, x) for x in "ackf")
    assert paths(hand, a, c, types=["SIBLING_OF", "SHAREHOLDER_OF"])["keys"].tolist() == [["a", "d", "c"]]
    assert paths(hand, a, k, max_hops=2).empty and paths(hand, a, k, max_hops=3, all_shortest=True)["hops"].tolist() == [3] * 3
    # directed: a → e → f exists, f → a does not
    assert paths(hand, a, f, directed=True)["hops"].tolist() == [2]
    assert paths(hand, f, a, directed=True).empty and not paths(hand, f, a).empty
    # k shortest: the three 2-hop paths, then nothing longer within 4 hops but none exist
    ks = paths(hand, a, c, k=5)
    assert ks["hops"].tolist() == [2, 2, 2]
    with pytest.raises(GraphwatchError, match="same node"):
        paths(hand, a, a)


def test_k_shortest_paths_go_past_the_shortest_length():
    g = from_edges([("s", "t"), ("s", "x"), ("x", "t"), ("s", "y"), ("y", "z"), ("z", "t")])
    df = paths(g, v(g, "s"), v(g, "t"), k=3)
    assert df["hops"].tolist() == [1, 2, 3]
    assert paths(g, v(g, "s"), v(g, "t"), k=3, max_hops=2)["hops"].tolist() == [1, 2]


def test_neighbourhood_levels_limit_hubs_and_types(hand):
    df = neighbours(hand, v(hand, "a"), hops=2)
    assert dict(zip(df["key"], df["hops"])) == {"a": 0, "b": 1, "d": 1, "e": 1, "c": 2, "f": 2}
    assert df.iloc[0]["via"] is None and set(df[df.key == "c"]["via"]) <= {"LEGAL_REP_OF", "SHAREHOLDER_OF"}
    rels = set(df.attrs["rels"])
    assert len(rels) == 7         # every relationship among them (not k's AWARDED_TO)
    cut = neighbours(hand, v(hand, "a"), hops=2, limit=4)
    assert len(cut) == 4 and cut.attrs["truncated"] == 2
    assert neighbours(hand, v(hand, "a"), hops=3, types=["PARENT_OF"])["key"].tolist() == ["a", "e", "f"]
    assert neighbours(hand, v(hand, "c"), hops=2, direction="out")["key"].tolist() == ["c"]
    assert set(neighbours(hand, v(hand, "c"), hops=2, direction="in")["key"]) == {"c", "b", "d", "k", "a"}
    # c has four relationships: listed, not walked through
    hub = neighbours(hand, v(hand, "b"), hops=2, max_degree=3)
    assert "k" not in set(hub["key"]) and hub.attrs["not_expanded"] == [int(hand.nid[v(hand, "c")])]


def test_components_and_seeded_communities(hand):
    df = components(hand, types=["SPOUSE_OF", "SIBLING_OF", "PARENT_OF"])
    assert df.groupby("component")["key"].apply(sorted).tolist() == [["a", "b", "d", "e", "f"]]
    two = from_edges([("a", "b"), ("b", "c"), ("c", "a"), ("x", "y"), ("y", "z"), ("z", "x"), ("c", "x")])
    first = communities(two, seed=3)
    assert first.groupby("community")["key"].apply(sorted).tolist() == [["a", "b", "c"], ["x", "y", "z"]]
    assert first.equals(communities(two, seed=3))


def test_leiden_takes_small_components_whole_and_runs_on_the_rest():
    import igraph as ig
    import numpy as np

    from graphwatch.analytics.community import leiden, seeded

    # two 6-cliques joined by one relationship (modularity splits them: Leiden must run there)
    # beside 40 pairs and 20 paths of three (too small to split with gain: taken whole)
    cliques = [(a, b) for base in (0, 6) for a in range(base, base + 6) for b in range(a + 1, base + 6)] + [(5, 6)]
    pairs = [(12 + 2 * i, 13 + 2 * i) for i in range(40)]
    triples = [e for i in range(20) for e in ((92 + 3 * i, 93 + 3 * i), (93 + 3 * i, 94 + 3 * i))]
    graph = ig.Graph(n=152, edges=cliques + pairs + triples)
    mine = leiden(graph, seed=0)
    assert len(set(mine[:6])) == 1 and len(set(mine[6:12])) == 1 and mine[0] != mine[6]
    component = np.asarray(graph.connected_components().membership)
    assert (np.unique(np.stack([mine[12:], component[12:]]), axis=1).shape[1]
            == len(set(component[12:].tolist())))       # every small component is one community, alone
    with seeded(0):
        whole = graph.community_leiden(objective_function="modularity", n_iterations=-1)
    assert graph.modularity(mine.tolist()) >= whole.modularity - 1e-12
    # a high resolution makes even the pairs splittable: then Leiden decides them too
    assert len(set(leiden(graph, resolution=500.0).tolist())) > len(set(mine.tolist()))
    # on a graph built from the workspace arrays, the same through communities()
    g = from_edges([(str(a), str(b)) for a, b in cliques + pairs])
    df = communities(g, seed=0)
    assert df["community"].nunique() == 42 and sorted(df["size"].unique().tolist()) == [2, 6]


# -- public graphs with published answers ---------------------------------------------------
def test_florentine_families_medici_betweenness_and_networkx_agreement():
    nxg = nx.florentine_families_graph()
    df = centrality(from_networkx(nxg), measures=["betweenness", "degree", "pagerank", "triangles"]).set_index("key")
    assert df.index[0] == "Medici" and round(df.loc["Medici", "betweenness"], 3) == 0.522   # Padgett; networkx docs
    from networkx.algorithms.link_analysis.pagerank_alg import _pagerank_python   # networkx's needs no scipy

    bc, pr, tri = nx.betweenness_centrality(nxg), _pagerank_python(nxg, tol=1e-12), nx.triangles(nxg)
    for family in nxg:
        assert df.loc[family, "betweenness"] == pytest.approx(bc[family], abs=1e-9)
        assert df.loc[family, "pagerank"] == pytest.approx(pr[family], abs=1e-6)
        assert df.loc[family, "triangles"] == tri[family] and df.loc[family, "degree"] == nxg.degree(family)


def test_davis_southern_women_projection():
    nxg = nx.davis_southern_women_graph()
    women = [n for n, d in nxg.nodes(data=True) if d["bipartite"] == 0]
    proj = project(from_networkx(nxg, label_attr="bipartite"), keep=["0"], via=["1"])
    df = centrality(proj, measures=["neighbours", "degree"]).set_index("key")
    friends = nx.bipartite.projected_graph(nxg, women)
    weighted = nx.bipartite.weighted_projected_graph(nxg, women)
    for w in women:   # networkx's davis_club example: Evelyn 17 friends, Charlotte 11, Olivia 12 …
        assert df.loc[w, "neighbours"] == friends.degree(w)
        assert df.loc[w, "degree"] == weighted.degree(w, weight="weight")
    assert (df.loc["Evelyn Jefferson", "neighbours"], df.loc["Charlotte McDowd", "neighbours"],
            df.loc["Olivia Carleton", "neighbours"]) == (17, 11, 12)


def test_karate_club_leiden_communities_respect_the_split():
    import igraph as ig

    zachary = ig.Graph.Famous("Zachary")           # bundled with igraph
    g = from_edges([(str(a), str(b)) for a, b in zachary.get_edgelist()])
    club = {str(n): d["club"] for n, d in nx.karate_club_graph().nodes(data=True)}
    df = communities(g, seed=42)
    # the best known modularity partition of the karate club has Q = 0.4198 (Brandes et al. 2008)
    assert df.attrs["modularity"] == pytest.approx(0.4198, abs=0.005)
    by = dict(zip(df["key"], df["community"]))
    assert by["0"] != by["33"]        # the instructor and the administrator end apart
    majority = sum(max(sum(club[k] == side for k in members) for side in ("Mr. Hi", "Officer"))
                   for members in df.groupby("community")["key"].apply(list))
    assert majority >= 32             # at most two members sit with the other faction
    assert df.equals(communities(g, seed=42))


# -- on a workspace ---------------------------------------------------------------------------
def _family_ws(path, extra=()):
    ids = [make_resident_id("140105", __import__("datetime").date(1960 + i, 1, 1), 11 + 2 * i) for i in range(4)]
    uscc = make_uscc("91140105MA0ABC123")
    nodes = [{"key": f"Person:{ids[0]}", "labels": ["Person", "Official"], "name": "张建国", "id_number": ids[0]},
             {"key": f"Person:{ids[1]}", "labels": ["Person"], "name": "李丽", "id_number": ids[1]},
             {"key": f"Person:{ids[2]}", "labels": ["Person"], "name": "王明", "id_number": ids[2]},
             {"key": f"Person:{ids[3]}", "labels": ["Person"], "name": "王明", "id_number": ids[3]},
             {"key": f"Company:{uscc}", "labels": ["Company"], "name": "东村建筑有限公司", "uscc": uscc}]
    rels = [[f"Person:{ids[0]}", "SPOUSE_OF", f"Person:{ids[1]}", {"valid_from": "2001-05-01"}],
            [f"Person:{ids[1]}", "LEGAL_REP_OF", f"Company:{uscc}", {"valid_from": "2015-05-05"}],
            [f"Person:{ids[0]}", "SIBLING_OF", f"Person:{ids[2]}"],
            [f"Person:{ids[2]}", "SHAREHOLDER_OF", f"Company:{uscc}", {"share": 60.0, "valid_from": "2019-01-01",
                                                                     "valid_to": "2020-12-31"}],
            *extra]
    with Workspace(path, create=True) as ws:
        write_graph(ws, nodes, rels)
    return ids, uscc


def test_workspace_graph_entities_dates_and_cache(tmp_path):
    ids, uscc = _family_ws(tmp_path / "ws")
    g = load_graph(tmp_path / "ws")
    zhang, company = find_entity(g, "张建国"), find_entity(g, uscc)
    assert find_entity(g, ids[0]) == zhang and find_entity(g, f"Company:{uscc}") == company
    assert find_entity(g, str(g.nid[company])) == company
    with pytest.raises(AmbiguousEntity, match="2 nodes have the name '王明'") as err:
        find_entity(g, "王明")
    assert len(err.value.candidates) == 2 and "**" in err.value.candidates[0]["key"]   # keys masked
    assert paths(g, zhang, company, all_shortest=True)["names"].tolist() == [
        ["张建国", "李丽", "东村建筑有限公司"], ["张建国", "王明", "东村建筑有限公司"]]
    # the shareholding ended in 2020: in 2023 only the spouse's company remains
    assert len(paths(g, zhang, company, all_shortest=True, since="2023-01-01")) == 1
    assert len(paths(g, zhang, company, all_shortest=True, until="2010-01-01")) == 0
    table = g.node_table([company, zhang, zhang])           # read from the cached blobs
    assert table[["key", "label", "name"]].values.tolist() == [
        [f"Company:{uscc}", "Company", "东村建筑有限公司"], [f"Person:{ids[0]}", "Official", "张建国"],
        [f"Person:{ids[0]}", "Official", "张建国"]]
    assert table["labels"].tolist()[1] == ["Official", "Person"] and table["labels"][1] is not table["labels"][2]
    cached = list((tmp_path / "ws" / CACHE_DIR).iterdir())
    assert len(cached) == 1 and (cached[0] / "adj_edge.npy").exists()
    # a changed graph is never read from the old cache
    _family_ws(tmp_path / "ws", extra=[[f"Person:{ids[3]}", "SPOUSE_OF", f"Person:{ids[2]}"]])
    again = load_graph(tmp_path / "ws")
    assert again.ecount == g.ecount + 1
    assert len(list((tmp_path / "ws" / CACHE_DIR).iterdir())) == 1     # the stale one removed


def test_a_load_and_a_resolve_invalidate_the_cache(tmp_path, mini_county):
    from graphwatch.ingest import load_into
    from graphwatch.resolve import resolve

    ws = tmp_path / "ws"

    def cached():
        return sorted(d.name for d in (ws / CACHE_DIR).iterdir())

    load_into(ws, [mini_county / "divisions.csv"])
    first = load_graph(ws)
    before = cached()
    load_into(ws, [mini_county])
    loaded = load_graph(ws)
    assert loaded.vcount > first.vcount and cached() != before and len(cached()) == 1
    before = cached()
    with Workspace(ws) as w:
        resolve(w)
    load_graph(ws)
    assert cached() != before and len(cached()) == 1      # resolve changed the graph: read it again


# -- the same answers as Cypher's shortest paths, on both engines ---------------------------------
def _random_ws(path, seed: int = 5):
    rng = random.Random(seed)
    types = ["SPOUSE_OF", "SIBLING_OF", "LEGAL_REP_OF", "SHAREHOLDER_OF"]
    # every node both a person and a company, so any type may join any two (the schema's ends)
    nodes = [{"key": f"Person:p{i}", "labels": ["Person", "Company"], "name": f"人{i}"} for i in range(30)]
    rels = []
    for _ in range(55):
        a, b = rng.sample(range(30), 2)
        rels.append([f"Person:p{a}", rng.choice(types), f"Person:p{b}"])
    with Workspace(path, create=True) as ws:
        write_graph(ws, nodes, rels)
    pairs = [tuple(rng.sample(range(30), 2)) for _ in range(12)]
    return pairs


CYPHER = {False: """MATCH (a:Person {name: $a}), (b:Person {name: $b})
                    MATCH p = allShortestPaths((a)-[:SPOUSE_OF|SIBLING_OF|LEGAL_REP_OF*..4]-(b)) RETURN p""",
          True: """MATCH (a:Person {name: $a}), (b:Person {name: $b})
                   MATCH p = allShortestPaths((a)-[:SPOUSE_OF|SIBLING_OF|LEGAL_REP_OF*..4]->(b)) RETURN p"""}


def _agree(engine, g, pairs):
    checked = 0
    for directed in (False, True):
        for a, b in pairs:
            res = engine.run(CYPHER[directed], {"a": f"人{a}", "b": f"人{b}"})
            cypher = sorted(tuple(r.id for r in p.rels) for (p,) in res.rows)
            ours = paths(g, find_entity(g, f"人{a}"), find_entity(g, f"人{b}"), max_hops=4, directed=directed,
                         all_shortest=True, types=["SPOUSE_OF", "SIBLING_OF", "LEGAL_REP_OF"])
            assert sorted(map(tuple, ours["rels"])) == cypher, (a, b, directed)
            one = paths(g, find_entity(g, f"人{a}"), find_entity(g, f"人{b}"), max_hops=4, directed=directed,
                        types=["SPOUSE_OF", "SIBLING_OF", "LEGAL_REP_OF"])
            assert (tuple(one["rels"][0]) in cypher) if cypher else one.empty
            checked += bool(cypher)
    assert checked >= 8        # most pairs are connected: the test compares real paths


def test_paths_agree_with_cypher_all_shortest_paths_on_duckdb(tmp_path):
    from graphwatch.engines.duckdb import DuckDBEngine

    pairs = _random_ws(tmp_path / "ws")
    g = load_graph(tmp_path / "ws")
    with DuckDBEngine(tmp_path / "ws") as eng:
        _agree(eng, g, pairs)


def test_paths_agree_with_cypher_all_shortest_paths_on_neo4j(tmp_path, neo4j_ws):
    from graphwatch.engines.neo4j import Neo4jEngine
    from graphwatch.neo4j.connection import Neo4jTarget
    from graphwatch.neo4j.push import push

    pairs = _random_ws(tmp_path / "ws")
    g = load_graph(tmp_path / "ws")
    target = Neo4jTarget.resolve(neo4j_ws)
    push(tmp_path / "ws", target, clear=True)
    with Neo4jEngine(target=target) as eng:
        _agree(eng, g, pairs)


def test_cli_mistakes_are_one_line(tmp_path):
    from click.testing import CliRunner

    from graphwatch.cli import main

    ids, uscc = _family_ws(tmp_path / "ws")
    w = str(tmp_path / "ws")
    cases = [(["paths", "张建国", "王明", "-w", w], "2 nodes have the name '王明'; give one by id"),
             (["paths", "张建国", "无此人", "-w", w], "no node is called '无此人'"),
             (["paths", "张建国", uscc, "--types", "SPOUSE_OFF", "-w", w], "did you mean 'SPOUSE_OF'"),
             (["neighbours", "张建国", "-w", str(tmp_path / "nowhere")], "not a graphwatch workspace"),
             (["export", "no_such_model-123", "--format", "svg", "-o", str(tmp_path / "x.svg"), "-w", w], "no alert"),
             (["export", "--entity", "张建国", "--format", "svg", "-o", str(tmp_path / "no" / "x.svg"), "-w", w],
              "no such folder"),
             (["export", "--path", "张建国", "李丽", "--max-hops", "1", "--types", "LEGAL_REP_OF", "--format", "json",
               "-o", str(tmp_path / "p.json"), "-w", w], "no path of at most 1 hops")]
    for args, expected in cases:
        res = CliRunner().invoke(main, args)
        assert res.exit_code == 2 and expected in res.output and "Traceback" not in res.output, (args, res.output)
        assert len([line for line in res.output.splitlines() if line.startswith("error:")]) == 1, res.output
    res = CliRunner().invoke(main, ["paths", "张建国", uscc, "-w", w])
    assert res.exit_code == 0 and "李丽" in res.output and "王明" in res.output
    res = CliRunner().invoke(main, ["paths", "张建国", uscc, "-w", w, "--unmask", "--who", "审计员", "--format", "json"])
    from graphwatch.alerts.store import AlertStore

    with AlertStore(tmp_path / "ws") as s:
        assert s.audit_log(1)[0]["who"] == "审计员" and not s.audit_log(1)[0]["masked"]
