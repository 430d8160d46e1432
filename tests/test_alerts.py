"""Alerts on a real loaded county: stable ids across re-runs, reloads, resolves and engines;
verdicts and their history kept; alerts that stop matching marked, never deleted; missing
data said as such; identifiers masked unless asked (and then audited)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from graphwatch.alerts.runner import run_models
from graphwatch.alerts.store import AlertStore
from graphwatch.cli import main
from graphwatch.exc import GraphwatchError, InvalidPattern
from graphwatch.ingest import load_into
from graphwatch.resolve import resolve
from graphwatch.store import Workspace
from graphwatch.synth import generate_county

MODEL = "own_village_project"


@pytest.fixture(scope="module")
def county(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("alerts") / "county"
    generate_county(out, persons=5000, seed=1)
    return out


@pytest.fixture(scope="module")
def resolved(county, tmp_path_factory) -> Path:
    ws = tmp_path_factory.mktemp("alerts-ws") / "ws"
    load_into(ws, [county])
    with Workspace(ws) as w:
        resolve(w)
    return ws


@pytest.fixture
def ws(resolved, tmp_path) -> Path:
    return Path(shutil.copytree(resolved, tmp_path / "ws"))


def ids(ws: Path, **filters) -> set[str]:
    with AlertStore(ws) as s:
        return {a["id"] for a in s.list(**filters)}


def test_a_rerun_keeps_ids_and_verdicts(ws):
    first, = run_models(ws, [MODEL])
    assert first.status == "ok" and first.found == first.new >= 2
    found = ids(ws)
    a = sorted(found)[0]
    with AlertStore(ws) as s:
        s.verdict(a, "in_review", who="张三", note="开始核查")
        s.verdict(a, "confirmed", who="李四", note="核实属实")
    again, = run_models(ws, [MODEL])
    assert (again.new, again.still, again.gone) == (0, first.found, 0)
    assert ids(ws) == found
    with AlertStore(ws) as s:
        alert = s.get(a)
        assert alert["status"] == "confirmed" and alert["first_run"] < alert["last_run"]
        assert [(h["previous"], h["status"], h["who"]) for h in s.history(a)] == [
            ("new", "in_review", "张三"), ("in_review", "confirmed", "李四")]
        assert s.precision()[MODEL]["precision"] == 1.0


def test_ids_survive_a_reload_and_a_resolve(ws, county):
    run_models(ws, [MODEL])
    before = ids(ws)
    load_into(ws, [county / "contracts.csv", county / "projects.csv"])
    with Workspace(ws) as w:
        resolve(w)
    run_models(ws, [MODEL])
    assert ids(ws, matching=True) == before


def test_an_alert_that_stops_matching_is_marked_and_kept(ws, county, tmp_path):
    run_models(ws, [MODEL])
    with AlertStore(ws) as s:
        victim = s.list()[0]
        s.verdict(victim["id"], "confirmed", who="李四")
    project = victim["object_ident"]                 # the alert's object: the project in the village
    changed = tmp_path / "contracts.csv"
    lines = (county / "contracts.csv").read_bytes().decode("gb18030").splitlines()
    assert lines[0].split(",")[2] == "项目编号"
    kept = [line for line in lines if line.split(",")[2] != project]       # its contracts withdrawn
    changed.write_bytes(("\n".join(kept) + "\n").encode("gb18030"))
    assert 1 <= len(lines) - len(kept) < len(lines) - 1
    load_into(ws, [changed], mapping="contracts")
    run, = run_models(ws, [MODEL])
    assert run.gone == 1
    with AlertStore(ws) as s:
        kept = s.get(victim["id"])
        assert kept["matching"] is False and kept["status"] == "confirmed"
        assert victim["id"] not in {a["id"] for a in s.list(matching=True)}


def test_a_model_without_its_data_says_insufficient_data(county, tmp_path):
    ws = tmp_path / "ws"
    load_into(ws, [county / "divisions.csv", county / "organisations.csv"])
    run, = run_models(ws, [MODEL])
    assert run.status == "insufficient_data" and run.found == 0
    assert "(:VillageCadre)" in run.message and "[:AWARDED_TO]" in run.message
    with AlertStore(ws) as s:
        assert s.precision()[MODEL]["status"].startswith("insufficient data: no (:VillageCadre)")


def test_bad_requests_are_clear_errors(ws, tmp_path):
    with pytest.raises(InvalidPattern, match="no model 'own_village' .*did you mean 'own_village_project'"):
        run_models(ws, ["own_village"])
    with pytest.raises(InvalidPattern, match="model 'own_village_project' has no parameter 'kin'"):
        run_models(ws, [MODEL], params={MODEL: {"kin": ["SPOUSE_OF"]}})
    with pytest.raises(InvalidPattern, match="parameter 'kinship' must be a list of text"):
        run_models(ws, [MODEL], params={MODEL: {"kinship": 3}})
    mine = tmp_path / "models"
    mine.mkdir()
    (mine / "broken.yaml").write_text("id: broken\ntitle: {zh: 坏}\n", encoding="utf-8")
    with pytest.raises(InvalidPattern, match="broken.yaml, line 1: missing required key 'description'"):
        run_models(ws, pattern_dirs=[mine])
    with pytest.raises(GraphwatchError, match="no alert 'nope'"):
        AlertStore(ws).get("nope")


def test_the_cli_masks_unless_asked_and_audits_the_unmasking(ws):
    def gw(*args):
        res = CliRunner().invoke(main, [str(a) for a in args])
        assert res.exit_code == 0, res.output
        return res.output

    out = gw("run", MODEL, "--workspace", ws)
    assert "村干部违规插手本村工程" in out and "new alert(s)" in out
    with AlertStore(ws) as s:
        a = s.list()[0]
    ident = a["subject_ident"]
    listed = gw("alerts", "list", "--workspace", ws, "--format", "csv")
    assert ident not in listed and ident[:4] + "**********" + ident[-4:] in listed
    assert ident in gw("alerts", "list", "--workspace", ws, "--format", "csv", "--unmask", "--who", "王五")
    shown = gw("alerts", "show", a["id"], "--workspace", ws)
    assert ident not in shown and "source records" in shown and a["explain_zh"][:10] in shown
    gw("alerts", "verdict", a["id"], "--workspace", ws, "--status", "dismissed", "--who", "李四", "--note", "同名不同人")
    assert "同名不同人" in gw("alerts", "show", a["id"], "--workspace", ws)
    assert "100.0%" not in gw("alerts", "precision", "--workspace", ws) and "0.0%" in gw(
        "alerts", "precision", "--workspace", ws)
    audit = gw("audit", "--workspace", ws)
    assert "王五" in audit and "unmask" in audit


def test_a_copied_workspace_keeps_its_alerts_and_two_writers_both_keep_their_verdicts(ws, tmp_path):
    run_models(ws, [MODEL])
    copy = Path(shutil.copytree(ws, tmp_path / "copy"))
    assert ids(copy) == ids(ws)
    a, b = sorted(ids(ws))[:2]
    code = ("import sys; from graphwatch.alerts.store import AlertStore\n"
            "with AlertStore(sys.argv[1]) as s:\n"
            "    for i in range(20): s.verdict(sys.argv[2], 'in_review' if i % 2 else 'confirmed', who=sys.argv[3])\n")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(ws), alert, who])
             for alert, who in ((a, "甲"), (b, "乙"))]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    with AlertStore(ws) as s:
        assert len(s.history(a)) == len(s.history(b)) == 20
        assert {h["who"] for h in s.history(a)} == {"甲"} and s.get(b)["status"] == "in_review"


def test_the_same_alerts_with_the_same_ids_on_neo4j(ws, neo4j_ws):
    from graphwatch.neo4j.connection import Neo4jTarget
    from graphwatch.neo4j.push import push

    run_models(ws, [MODEL])
    with AlertStore(ws) as s:
        duck = {a["id"]: (a["explain_zh"], len(a["evidence"]["nodes"]), len(a["evidence"]["rels"])) for a in s.list()}
    target = Neo4jTarget.resolve(neo4j_ws)
    push(ws, target, clear=True)
    run, = run_models(ws, [MODEL], engine="neo4j",
                      connection={"uri": target.uri, "user": target.user, "password": target.password})
    assert (run.new, run.still, run.gone) == (0, len(duck), 0)
    with AlertStore(ws) as s:
        assert {a["id"]: (a["explain_zh"], len(a["evidence"]["nodes"]), len(a["evidence"]["rels"]))
                for a in s.list()} == duck
        assert {a["engine"] for a in s.list()} == {"neo4j"}


def test_evidence_read_together_is_each_alerts_own(ws):
    """run reads the evidence of all a model's alerts in one pass (subgraphs); each is exactly
    what reading that alert's alone gives, focused or not, and what the store keeps."""
    import json

    from graphwatch.alerts.evidence import subgraph, subgraphs
    from graphwatch.alerts.library import load_library
    from graphwatch.alerts.match import matches, run_pattern
    from graphwatch.engines.duckdb import DuckDBEngine

    models = ("own_village_project", "duplicate_benefits", "direct_award_ratio")
    run_models(ws, list(models))
    lib = load_library()
    with DuckDBEngine(ws) as eng:
        found = [m for model in models
                 for m in matches(lib[model], run_pattern(lib[model], eng, eng.ws, lib[model].bind()))]
        assert len(found) >= 4 and any(m.focus for m in found) and any(not m.focus for m in found)
        wanted = [(m.nodes, m.rels, m.focus or None, m.focus_rels) for m in found]
        together = subgraphs(eng.ws.con, wanted)
        alone = [subgraph(eng.ws.con, n, r, focus=f, focus_rels=fr) for n, r, f, fr in wanted]
    assert together == alone and all(e["nodes"] and e["rels"] for e in together)
    with AlertStore(ws) as s:
        kept = {a["id"]: s.get(a["id"]) for a in s.list()}
    for m, ev in zip(found, together):
        assert kept[m.id]["evidence"] == json.loads(json.dumps(ev, ensure_ascii=False))


def test_evidence_reads_only_the_nodes_the_model_did_not_return(ws, monkeypatch):
    """The rows of the nodes a model returned are kept by the engine; the evidence reads only the
    others, and is what reading them all gives."""
    from graphwatch.alerts import evidence as ev
    from graphwatch.alerts.library import load_library
    from graphwatch.alerts.match import matches, run_pattern
    from graphwatch.engines.duckdb import DuckDBEngine

    p = load_library()["own_village_project"]
    with DuckDBEngine(ws) as eng:
        found = matches(p, run_pattern(p, eng, eng.ws, p.bind()))
        known = eng.node_rows_read()
        wanted = [(m.nodes, m.rels, m.focus or None, m.focus_rels) for m in found]
        asked = []
        real = ev.node_rows
        monkeypatch.setattr(ev, "node_rows", lambda con, ids, *a: asked.extend(ids) or real(con, ids, *a))
        reused = ev.subgraphs(eng.ws.con, wanted, rows=known)
        monkeypatch.setattr(ev, "node_rows", real)
        plain = ev.subgraphs(eng.ws.con, wanted)
    every = {i for n, _r, _f, _fr in wanted for i in n}
    assert found and known and set(known) <= every
    assert reused == plain and not set(asked) & set(known) and set(asked) | set(known) >= {
        n["id"] for e in plain for n in e["nodes"]}


def _both_ways(con, table: str, column: str, ids, vector_rows: int) -> None:
    """With ``vector_rows`` between the extremes, the ids must include rows read each way."""
    from collections import Counter

    rows = [r for (r,) in con.execute(f"SELECT rowid FROM {table} WHERE {column} IN (SELECT unnest($i))",
                                      {"i": ids}).fetchall()]
    per = Counter(r // vector_rows for r in rows)
    assert 1 in per.values() and max(per.values()) > 1


MIXED = 64      # vectors of 64 rows: some hold one of the rows asked for, some several


@pytest.mark.parametrize("vector_rows", [1, MIXED, 10**9], ids=["scattered: through the index", "mixed",
                                                                 "close together: by a scan of their rows"])
def test_relationships_read_by_row_id_are_the_rows_read_through_the_index(ws, monkeypatch, vector_rows):
    """rel_rows reads many relationships that share a vector by row id, the others through the
    index (as rows_by_ids does): each is the same row, lists included."""
    from graphwatch import lookups

    monkeypatch.setattr(lookups, "VECTOR_ROWS", vector_rows)
    with Workspace(ws, read_only=True) as w:
        ids = [r for (r,) in w.con.execute("SELECT rid FROM rel ORDER BY hash(rid) LIMIT 600").fetchall()]
        if vector_rows == MIXED:
            _both_ways(w.con, "rel", "rid", ids, vector_rows)
        cols, rows = lookups.rows_by_ids(w.con, "rel", "rid", ids)
        whole = {r[cols.index("rid")]: dict(zip(cols, r)) for r in rows}
        cols2, rows2 = lookups.rel_rows(w.con, ids)
        apart = {r[cols2.index("rid")]: dict(zip(cols2, r)) for r in rows2}
    assert len(ids) >= lookups.CLUSTERED_FROM and sorted(cols2) == sorted(cols)
    assert apart == whole and len(whole) == len(ids)
    assert any(r["records"] for r in whole.values()) and any(r["datasets"] for r in whole.values())


@pytest.mark.parametrize("vector_rows", [1, MIXED, 10**9], ids=["scattered: through the index", "mixed",
                                                                 "by row id"])
def test_node_rows_with_their_sparse_lists_read_apart_are_the_rows(ws, monkeypatch, vector_rows):
    """node_rows reads the sparse list columns (aliases) apart — by the rows' row ids, or for
    many scattered rows through the index: every node is its row as a plain SELECT gives it,
    those with aliases and those without."""
    from graphwatch import lookups

    monkeypatch.setattr(lookups, "VECTOR_ROWS", vector_rows)
    monkeypatch.setattr(lookups, "CLUSTERED_FROM", 1)

    with Workspace(ws, read_only=True) as w:
        assert lookups.sparse_list_columns(w.con)
        ids = [r for (r,) in w.con.execute("""SELECT nid FROM (SELECT nid FROM node WHERE aliases IS NOT NULL LIMIT 40)
            UNION ALL SELECT nid FROM (SELECT nid FROM node WHERE aliases IS NULL ORDER BY hash(nid) LIMIT 300)""").fetchall()]
        if vector_rows == MIXED:
            _both_ways(w.con, "node", "nid", ids, vector_rows)
        cur = w.con.execute("SELECT * FROM node WHERE nid IN (SELECT unnest($i))", {"i": ids})
        cols = [d[0] for d in cur.description]
        plain = {r[0]: dict(zip(cols, r)) for r in cur.fetchall()}
        got = {r["nid"]: r for r in lookups.node_rows(w.con, ids)}
    assert len(plain) == 340 and any(r["aliases"] for r in plain.values())
    assert got == plain


def test_models_run_at_once_store_what_they_store_one_after_another(ws, tmp_path):
    """``jobs=2`` runs two models at a time, each on its own connection (which must carry the
    workspace's session settings: a cursor starts from DuckDB's defaults), and stores the
    alerts in the models' order: the whole library gives the same runs and the same alerts,
    evidence and explanations as one model after another."""
    import json

    from graphwatch.alerts.library import load_library

    with Workspace(ws, read_only=True) as w, w.reader() as r:
        setting = "SELECT current_setting('dynamic_or_filter_threshold')"
        assert r.con is not w.con and r.con.execute(setting).fetchone() == w.con.execute(setting).fetchone() == (2000,)
        assert w.con.cursor().execute(setting).fetchone() == (50,)      # (what a bare cursor has)
    with Workspace(ws) as w, pytest.raises(Exception, match="read-only"):
        w.reader()

    other = Path(shutil.copytree(ws, tmp_path / "other"))
    one = run_models(ws, jobs=1)
    two = run_models(other, jobs=2)
    assert [(r.model, r.status, r.found, r.new) for r in one] == [(r.model, r.status, r.found, r.new) for r in two]
    assert len(one) == len(load_library()) and sum(r.found for r in one) >= 20

    def kept(path):
        with AlertStore(path) as s:
            return sorted((a["id"], a["explain_zh"], json.dumps(s.get(a["id"])["evidence"], sort_keys=True))
                          for a in s.list())
    assert kept(ws) == kept(other)
    # a second parallel run orders the work by the stored times and keeps every alert
    again = run_models(other, jobs=2)
    assert [(r.model, r.still, r.new) for r in again] == [(r.model, r.found, 0) for r in one]
    with pytest.raises(GraphwatchError, match="--jobs must be at least 1"):
        run_models(other, jobs=0)
    # the CLI passes --jobs on
    res = CliRunner().invoke(main, ["run", "split_contracts", "own_village_project", "--jobs", "2",
                                    "--workspace", str(other)])
    assert res.exit_code == 0, res.output
    assert "split_contracts" in res.output and "own_village_project" in res.output


def test_a_model_failing_among_models_run_at_once_stops_the_run_after_those_before_it(ws, monkeypatch):
    """Run at once, the models' alerts are still stored in order: when one fails, those
    before it are stored, the error reaches the caller, and no later model is stored."""
    from graphwatch.alerts import runner
    from graphwatch.alerts.library import load_library

    order = sorted(load_library())
    bad = order[3]
    real = runner._find

    def find(p, *a, **k):
        if p.id == bad:
            raise GraphwatchError(f"{bad} failed on purpose")
        return real(p, *a, **k)

    monkeypatch.setattr(runner, "_find", find)
    with pytest.raises(GraphwatchError, match="failed on purpose"):
        run_models(ws, jobs=2)
    with AlertStore(ws) as s:
        stored = [r[0] for r in s.con.execute("SELECT model FROM run ORDER BY id")]
    assert stored == order[:3]


def test_each_alert_is_filed_under_the_village_and_township_its_evidence_lies_in(ws):
    """The queue's township / village filters: an alert's own Village and Township nodes,
    else the village its evidence's first village_code names and that village's township
    (looked up for all of a model's alerts at once; checked here alert by alert)."""
    run_models(ws, jobs=2)
    with AlertStore(ws) as s:
        alerts = [s.get(a["id"]) for a in s.list()]
    with Workspace(ws, read_only=True) as w:
        con = w.con
        checked = 0
        for a in alerts:
            nodes = a["evidence"]["nodes"]
            village = next((n for n in nodes if "Village" in n["labels"]), None)
            township = next((n["properties"].get("name") for n in nodes if "Township" in n["labels"]), None)
            vid, vname = (village["id"], village["properties"].get("name")) if village else (None, None)
            if village is None:
                code = next((n["properties"]["village_code"] for n in nodes if n["properties"].get("village_code")), None)
                row = con.execute("SELECT nid, name FROM node WHERE list_contains(labels, 'Village') "
                                  "AND division_code = ? ORDER BY nid LIMIT 1", [code]).fetchone() if code else None
                vid, vname = row if row else (None, None)
            if township is None and vid is not None:
                row = con.execute("SELECT min(t.name) FROM rel r JOIN node t ON t.nid = r.dst WHERE r.src = ? "
                                  "AND r.type = 'PART_OF' AND list_contains(t.labels, 'Township')", [vid]).fetchone()
                township = row[0]
            assert (a["village"], a["township"]) == (vname, township), a["id"]
            checked += vname is not None and township is not None
    assert len(alerts) >= 20 and checked >= len(alerts) // 2


def test_a_reader_that_cannot_open_fails_the_run_at_once(ws, monkeypatch):
    """A thread whose connection cannot be made has no model to answer for: the run raises
    its error instead of waiting for models no thread will take."""
    def broken(self):
        raise GraphwatchError("no connection today")

    monkeypatch.setattr(Workspace, "reader", broken)
    with pytest.raises(GraphwatchError, match="no connection today"):
        run_models(ws, jobs=2)
