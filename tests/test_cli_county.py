"""Every CLI command on a generated county with all its source kinds: CSV in UTF-8, UTF-8
with BOM and GBK, and Excel. The county is generated once per module (by the CLI itself),
loaded once; commands that change a workspace work on a copy."""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from graphwatch.alerts.library import load_library, load_pattern
from graphwatch.cli import main
from graphwatch.ingest.mapping import load_mappings
from graphwatch.resolve import entity_members, review_queue
from graphwatch.store import Workspace
from graphwatch.synth.spec import GROUND_TRUTH

PERSONS, SEED = 2000, 5
EXCEL = ("officials_roster.xlsx", "tenders.xlsx", "death_records.xlsx")


def gw(*args, code: int = 0) -> str:
    """Run ``graphwatch ARGS`` in-process; the output, after checking the exit status."""
    res = CliRunner().invoke(main, [str(a) for a in args])
    assert res.exit_code == code, res.output + (repr(res.exception) if res.exception else "")
    return res.output


def table_counts(output: str) -> dict[str, int]:
    """``│ name │ 1,234 │`` rows of a two-column rich table."""
    return {m[1]: int(m[2].replace(",", "")) for m in re.finditer(r"│ (\S+)\s+│\s+([\d,]+) │", output)}


def read_csv(path: Path, encoding: str) -> list[dict]:
    with open(path, encoding=encoding, newline="") as f:
        return list(csv.DictReader(f))


def persons(ws: Path) -> int:
    with Workspace(ws, read_only=True) as w:
        return w.counts()["labels"]["Person"]


def copy_ws(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("county") / "county"
    return out, gw("generate", "--persons", PERSONS, "--seed", SEED, "--out", out)


@pytest.fixture(scope="module")
def county(generated) -> Path:
    return generated[0]


@pytest.fixture(scope="module")
def loaded(county, tmp_path_factory) -> tuple[Path, str]:
    ws = tmp_path_factory.mktemp("loaded") / "ws"
    return ws, gw("load", county, "--workspace", ws)


@pytest.fixture(scope="module")
def ws(loaded) -> Path:
    return loaded[0]


@pytest.fixture(scope="module")
def resolved(ws, tmp_path_factory) -> tuple[Path, str]:
    path = copy_ws(ws, tmp_path_factory.mktemp("resolved") / "ws")
    return path, gw("resolve", "--workspace", path)


# -- generate, load -------------------------------------------------------------------------
def test_generate_writes_every_source_kind(generated):
    county, out = generated
    counts = table_counts(out)
    assert counts["household_registry.csv"] == PERSONS
    for name in EXCEL:
        assert (county / name).read_bytes()[:2] == b"PK" and counts[name] > 0     # a real .xlsx (zip)
    household = (county / "household_registry.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        household.decode("utf-8")
    assert household.decode("gbk").count("\n") == PERSONS + 1
    assert (county / "company_registry.csv").read_bytes().startswith(b"\xef\xbb\xbf")          # BOM
    assert not (county / "divisions.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert len(read_csv(county / "company_registry.csv", "utf-8-sig")) == counts["company_registry.csv"]
    assert counts[GROUND_TRUTH.name] == len(read_csv(county / GROUND_TRUTH.name, "utf-8"))


def test_load_folder_accounts_for_every_file(generated, loaded):
    county_counts = table_counts(generated[1])
    ws, out = loaded
    assert "rows read = loaded + quarantined" in out
    with Workspace(ws, read_only=True) as w:
        reports = {r["dataset"]: r for r in w.load_reports().to_dict("records")}
    sources = {name for name in county_counts if "/" not in name}
    assert {d.split("/")[1] for d in reports} == sources              # the truth files are no sources
    for dataset, r in reports.items():
        assert r["rows_read"] == county_counts[dataset.split("/")[1]] == r["rows_loaded"] + r["rows_quarantined"]
        assert r["format"] == ("excel" if dataset.endswith(".xlsx") else "csv")
    assert reports["household_registry/household_registry.csv"]["encoding"] == "gb18030"
    assert reports["company_registry/company_registry.csv"]["encoding"] == "utf-8-sig"
    assert reports["divisions/divisions.csv"]["encoding"] == "utf-8"
    assert re.search(r"│ officials_roster/officials_roster\.xlsx\s+│ excel\s+│ -\s+│", out)
    total = re.search(r"│ total\s+│\s+│\s+│\s+([\d,]+) │\s+([\d,]+) │\s+([\d,]+) │", out)
    read, ok, bad = (int(g.replace(",", "")) for g in total.groups())
    assert read == sum(r["rows_read"] for r in reports.values()) == ok + bad
    assert "note officials_roster/officials_roster.xlsx: skipped 1 title row(s) above the header" in out


def test_load_one_file_with_a_mapping(county, tmp_path):
    """Files whose names no mapping claims are claimed by their header (an Excel one too), or
    load with --mapping: GBK CSV and Excel."""
    ws = tmp_path / "ws"
    (tmp_path / "roll_2023.csv").write_bytes((county / "benefit_rolls.csv").read_bytes())
    (tmp_path / "deaths.xlsx").write_bytes((county / "death_records.xlsx").read_bytes())
    out = gw("load", tmp_path / "deaths.xlsx", "-w", ws)
    assert re.search(r"│ death_records/deaths\.xlsx\s+│ excel\s+│", out)
    gw("load", county / "divisions.csv", county / "organisations.csv", county / "programmes.csv", "-w", ws)
    rolls = read_csv(county / "benefit_rolls.csv", "gbk")
    out = gw("load", tmp_path / "roll_2023.csv", "--mapping", "benefit_rolls", "-w", ws)
    assert re.search(rf"│ benefit_rolls/roll_2023\.csv\s+│ csv\s+│ gb18030\s+│\s+{len(rolls):,} │\s+{len(rolls):,} │\s+0 │", out)
    out = gw("load", tmp_path / "deaths.xlsx", "-m", "death_records", "-w", ws)
    assert re.search(r"│ death_records/deaths\.xlsx\s+│ excel\s+│ -\s+│", out)
    with Workspace(ws, read_only=True) as w:
        labels = w.counts()["labels"]
        amount, = w.con.execute("SELECT sum(amount) FROM node WHERE list_contains(labels, 'Benefit')").fetchone()
    assert labels["Benefit"] == len(rolls) and labels["DeathRecord"] > 0
    assert float(amount) == pytest.approx(sum(float(r["发放金额"]) for r in rolls))
    # the Excel + CSV workspace that made 'stats' crash under pandas 3
    assert "│ death_records/deaths.xlsx " in gw("stats", "-w", ws)


# -- stats, quarantine, mappings ------------------------------------------------------------
def test_stats_on_a_workspace_with_excel_and_csv(ws):
    out = gw("stats", "--workspace", ws)
    with Workspace(ws, read_only=True) as w:
        counts, totals = w.counts(), w.totals()
        datasets = list(w.load_reports()["dataset"])
    assert f"{totals['nodes']:,} nodes, {totals['relationships']:,} relationships" in " ".join(out.split())
    assert re.search(rf"│ \(:Person\)\s+│ 人员\s+│\s+{counts['labels']['Person']:,} │", out)
    assert re.search(rf"│ \[:SPOUSE_OF\]\s+│ 配偶\s+│\s+{counts['types']['SPOUSE_OF']:,} │", out)
    assert all(d in out for d in datasets) and len(datasets) == 20
    assert re.search(r"│ tenders/tenders\.xlsx\s+│ -\s+│", out)              # Excel: no encoding
    assert re.search(r"│ benefit_rolls/benefit_rolls\.csv\s+│ gb18030\s+│", out)
    assert ("Quarantine: empty" in out) == (totals["quarantined_rows"] == 0)


def test_frame_rows_turns_missing_text_into_none():
    import pandas as pd

    from graphwatch.cli.console import frame_rows

    df = pd.DataFrame({"dataset": ["a.xlsx", "b.csv"], "encoding": pd.array([None, "gbk"], dtype="str"),
                       "rows": [1, 2]})
    assert [(r.encoding or "-", r.rows) for r in frame_rows(df)] == [("-", 1), ("gbk", 2)]


def test_quarantine_names_file_line_column_and_reason(county, tmp_path):
    dirty = tmp_path / "county"
    shutil.copytree(county, dirty)
    path = dirty / "contracts.csv"
    with open(path, encoding="gbk", newline="") as f:
        rows = list(csv.reader(f))
    header = rows[0]
    rows[4][header.index("合同金额")] = "十万元"           # file line 5
    rows[7][header.index("发包方式")] = "内部指定"         # file line 8: not one of the mapped values
    with open(path, "w", encoding="gbk", newline="") as f:
        csv.writer(f).writerows(rows)
    ws = tmp_path / "ws"
    out = gw("load", dirty, "-w", ws)
    assert re.search(rf"│ contracts/contracts\.csv\s+│ csv\s+│ gb18030\s+│\s+{len(rows) - 1} │\s+{len(rows) - 3} │\s+2 │",
                     out)
    out = gw("quarantine", "-w", ws)
    assert "contracts.csv, line 5, column '合同金额': " in out and "十万元" in out
    assert "contracts.csv, line 8, column '发包方式': " in out and "内部指定" in out
    assert out.count(", line ") == 2
    assert gw("quarantine", "-w", ws, "--dataset", "contracts/contracts.csv").count(", line ") == 2
    assert gw("quarantine", "-w", ws, "--dataset", "contracts/contracts.csv", "--limit", "1").count(", line ") == 1
    assert "no quarantined rows" in gw("quarantine", "-w", ws, "--dataset", "bids/bids.csv")
    out = gw("stats", "-w", ws)
    assert "Quarantine: 2 rows" in out
    assert re.search(r"│ contracts/contracts\.csv\s+│ 合同金额\s+│ .+│ 1\s+│", out)
    with Workspace(ws, read_only=True) as w:
        assert w.counts()["labels"]["Contract"] == len(rows) - 3


def test_mappings_lists_every_shipped_mapping():
    out = gw("mappings")
    shipped = load_mappings()
    assert len(shipped) == 20
    for m in shipped.values():
        assert re.search(rf"│ {m.name}\s+│ {re.escape(m.title_zh)}\s+│", out), m.name
    household = shipped["household_registry"]
    assert re.search(rf"│ household_registry .*│ {len({c.header for c in household.columns})}\s+│", out)


# -- query ----------------------------------------------------------------------------------
def test_query_table(ws):
    out = gw("query", "MATCH (p:Person) RETURN count(*) AS n", "-w", ws)
    assert "1 row" in out and re.search(rf"│ {persons(ws)}\s+│", out)


def test_query_json_with_nodes_and_bindings(ws, county):
    out = gw("query", "MATCH (o:VillageCadre)-[:SERVES_IN]->(v:Village) RETURN o, v.name AS village "
             "ORDER BY o.key LIMIT 3", "-w", ws, "--format", "json", "--bindings")
    rows = json.loads(out)
    villages = {r["区划名称"] for r in read_csv(county / "divisions.csv", "utf-8") if r["级别"] == "村"}
    assert len(rows) == 3 and [r["o"]["key"] for r in rows] == sorted(r["o"]["key"] for r in rows)
    for r in rows:
        assert "VillageCadre" in r["o"]["labels"] and r["village"] in villages
        assert r["o"]["id"] in r["_bindings"]["nodes"] and len(r["_bindings"]["nodes"]) == 2
        assert len(r["_bindings"]["rels"]) == 1 and r["_bindings"]["matches"] == 1
    # evidence only when asked for
    out = gw("query", "MATCH (o:VillageCadre) RETURN o.key AS k LIMIT 1", "-w", ws, "--format", "json")
    assert "_bindings" not in json.loads(out)[0]


def test_query_csv(ws, county):
    out = gw("query", "MATCH (c:Company) RETURN c.uscc AS uscc, c.name AS name ORDER BY uscc", "-w", ws,
             "--format", "csv")
    rows = list(csv.reader(out.splitlines()))
    registry = read_csv(county / "company_registry.csv", "utf-8-sig")
    assert rows[0] == ["uscc", "name"]
    assert {name for _, name in rows[1:]} >= {r["企业名称"] for r in registry}
    assert [u for u, _ in rows[1:]] == sorted(u for u, _ in rows[1:])


def test_query_explain_prints_sql_and_runs_nothing(ws):
    out = gw("query", "MATCH (p:Person {name: $n}) RETURN p.name", "-w", ws, "--explain", "-p", "n=张三")
    sql, params = out.split("-- parameters:")
    assert "SELECT" in sql and "FROM node" in sql and "张三" in params
    assert "张三" not in sql                    # values are bound, never formatted into the SQL
    assert "1 row" not in out


def test_query_params_keep_ids_as_text_and_read_numbers(ws, county):
    person = next(r for r in read_csv(county / "household_registry.csv", "gbk")
                  if re.fullmatch(r"\d{18}", r["公民身份号码"]))
    out = gw("query", "MATCH (p:Person {id_number: $id}) RETURN DISTINCT p.name AS name", "-w", ws,
             "--param", f"id={person['公民身份号码']}", "--format", "csv")
    assert person["姓名"] in out.splitlines()[1:]
    contracts = read_csv(county / "contracts.csv", "gbk")
    want = sum(float(c["合同金额"]) >= 500000 for c in contracts)
    out = gw("query", "MATCH (c:Contract) WHERE c.amount >= $min RETURN count(*) AS n", "-w", ws,
             "-p", "min=500000", "--format", "csv")
    assert out.splitlines() == ["n", str(want)] and 0 < want < len(contracts)


def test_query_errors_are_one_line(ws):
    out = gw("query", "MATCH (p:Persn) RETURN p", "-w", ws, code=2)
    assert "unknown label 'Persn'" in out and "did you mean 'Person'" in out and "Traceback" not in out


# -- resolve, review ------------------------------------------------------------------------
def test_help_shows_the_resolvers_thresholds():
    from graphwatch.resolve.resolver import MERGE_THRESHOLD, REVIEW_THRESHOLD

    out = " ".join(gw("resolve", "--help").split())
    assert f"[default: {MERGE_THRESHOLD};" in out and f"[default: {REVIEW_THRESHOLD};" in out


def test_resolve(resolved, county):
    path, out = resolved
    truth = read_csv(county / "_truth" / "person_records.csv", "utf-8")
    true_persons = len({r["true_person_id"] for r in truth})
    m = re.search(r"([\d,]+) person records → ([\d,]+) persons", out)
    records, entities = (int(g.replace(",", "")) for g in m.groups())
    assert records == len(truth)
    assert entities == persons(path)
    assert true_persons <= entities <= true_persons * 1.01      # a few uncertain pairs stay apart, for review
    with Workspace(path, read_only=True) as w:
        same_as = w.counts()["types"].get("SAME_AS", 0)
    assert re.search(rf"review queue \(SAME_AS\) · 待人工复核\s+│\s+{same_as:,} │", out) and same_as > 0


def _queue(path: Path):
    with Workspace(path, read_only=True) as w:
        return review_queue(w, limit=None).to_dict("records")


def test_review_queue_and_explain(resolved):
    path = resolved[0]
    queue = _queue(path)
    out = gw("review", "-w", path, "--limit", 3)
    first = queue[0]
    assert re.search(rf"│ {first['probability']:.3f} │ {re.escape(first['a'])}\s+│ {first['a_name']}\s+│ "
                     rf"{re.escape(first['b'])}\s+│", out)
    assert out.count("│ 0.") == min(3, len(queue))
    # the total is printed beside the pairs shown: the number the resolve report gave (SAME_AS)
    with Workspace(path, read_only=True) as w:
        same_as = w.counts()["types"].get("SAME_AS", 0)
    assert len(queue) == same_as >= 2
    flat = " ".join(gw("review", "-w", path, "--limit", 1).split())
    assert f"1 of {same_as:,} review pairs shown · 共 {same_as:,} 对待复核 · --limit N shows more" in flat
    out = gw("review", "-w", path, "--limit", 0)
    assert out.count("│ 0.") == same_as and f"{same_as:,} of {same_as:,} review pairs shown" in " ".join(out.split())
    out = gw("review", "-w", path, "--explain", first["a"], first["b"])
    assert f"probability {first['probability']:.4f}" in out
    assert "two random records" in out and re.search(r"│ name\s+│", out)


def test_review_same_and_not_same(resolved, tmp_path):
    path = copy_ws(resolved[0], tmp_path / "ws")
    queue = _queue(path)
    a, b, *judged = next((p["a"], p["b"], p["a_entity"], p["b_entity"]) for p in queue
                         if p["a_entity"] != p["b_entity"])
    before = persons(path)
    gw("review", "-w", path, "--unsure", a, b)           # stays in the queue, counted, listed last
    flat = " ".join(gw("review", "-w", path).split())
    assert f"{len(queue)} of {len(queue)} review pairs shown · 共 {len(queue)} 对待复核 (1 judged unsure, listed last)" \
        in flat
    out = gw("review", "-w", path, "--not-same", a, b, "--why", "不同的人")
    assert f"recorded not same: {a} ≢ {b}; now two entities" in " ".join(out.split())
    assert (a, b) not in {(p["a"], p["b"]) for p in _queue(path)}
    explained = gw("review", "-w", path, "--explain", a, b)
    assert "judged not_same by" in explained and "不同的人" in explained
    assert persons(path) == before
    # two records of other entities, away from the pair judged (joining either of those entities
    # may be blocked by that judgement) and without valid IDs of their own (which never join)
    with Workspace(path, read_only=True) as w:
        c, d = [r[0] for r in w.con.execute("""SELECT any_value(u.ref) FROM er_unit u JOIN er_member m USING (unit)
            WHERE m.entity NOT IN (SELECT unnest($judged)) GROUP BY m.entity
            HAVING count(*) = 1 AND bool_and(u.id_usable IS NULL AND u.key LIKE 'Person:@%')
            ORDER BY m.entity LIMIT 2""", {"judged": judged}).fetchall()]
    out = gw("review", "-w", path, "--same", c, d, "--who", "tester")
    assert f"recorded same: {c} ≡ {d}; now one entity" in " ".join(out.split())
    assert persons(path) == before - 1
    out = gw("review", "-w", path, "--same", a, b, "--explain", a, b, code=2)
    assert "give one of --same" in out


def test_review_show_and_unmerge(resolved, county, tmp_path):
    path = copy_ws(resolved[0], tmp_path / "ws")
    cadre = next(r["entity_key"] for r in read_csv(county / GROUND_TRUTH.name, "utf-8")
                 if r["model_id"] == "own_village_project" and r["entity_kind"] == "Person")
    with Workspace(path, read_only=True) as w:
        members = entity_members(w, cadre)
    assert len(members) >= 2          # the household registry and the officials roster at least
    out = gw("review", "-w", path, "--show", cadre)
    assert f"{cadre}: {len(members)} source record(s)" in out
    assert all(ref in out for ref in members["ref"]) and "officials_roster/officials_roster.xlsx#" in out
    before = persons(path)
    out = gw("review", "-w", path, "--unmerge", cadre)
    assert f"{cadre}: split into its {len(members)} source records" in out
    assert persons(path) == before + len(members) - 1
    out = gw("review", "-w", path, "--show", "Person:nobody", code=2)
    assert "no resolved entity 'Person:nobody'" in out


# -- demo -----------------------------------------------------------------------------------
def test_demo_runs_every_model_and_finds_the_planted_violations(tmp_path):
    out = gw("demo", "--persons", PERSONS, "--seed", SEED, "--dir", tmp_path)
    truth = read_csv(tmp_path / "county" / GROUND_TRUTH.name, "utf-8")
    library = load_library()
    planted = {(r["model_id"], r["violation_id"]) for r in truth if r["kind"] == "violation"}
    near = {(r["model_id"], r["violation_id"]) for r in truth if r["kind"] == "near_miss"}
    assert planted and near and {m for m, _ in planted} <= set(library)
    assert (f"the generator planted {len(planted)} violation(s): {len(planted)} found, "
            f"0 of {len(near)} near-misses reported") in out
    for p in library.values():                      # every model in the summary, with its Chinese title
        assert p.id in out and p.title_zh in out
    assert "rows read = loaded + quarantined" in out and "entity resolution" in out
    # the alerts are in the workspace's store, as 'graphwatch run' leaves them
    shown = re.search(r"graphwatch alerts show (\S+) --workspace", out)
    assert shown, out[-2000:]
    detail = gw("alerts", "show", shown.group(1), "-w", tmp_path / "workspace", "--format", "json")
    assert json.loads(detail)["id"] == shown.group(1)
    assert (tmp_path / "workspace" / "graph.duckdb").exists()


# -- neo4j ----------------------------------------------------------------------------------
def test_neo4j_start_status_push_query_stop(resolved, tmp_path, java_and_maven):
    path = copy_ws(resolved[0], tmp_path / "ws")
    out = gw("neo4j", "start", "-w", path, "--heap", "512m", "--pagecache", "64")
    try:
        assert "started at bolt://127.0.0.1:" in out
        assert "running at bolt://127.0.0.1:" in gw("neo4j", "status", "-w", path)
        with Workspace(path, read_only=True) as w:
            totals = w.totals()
        out = gw("neo4j", "push", "-w", path)
        assert f"pushed {totals['nodes']:,} nodes and {totals['relationships']:,} relationships" in out
        assert "counts match the workspace" in out
        own_village = load_pattern("own_village_project")
        params = [a for k, v in own_village.bind().items() for a in ("-p", f"{k}={json.dumps(v)}")]
        rows = {engine: gw("query", own_village.cypher, *params, "-w", path, "--engine", engine, "--format", "csv")
                for engine in ("duckdb", "neo4j")}
        assert rows["neo4j"] == rows["duckdb"] and len(rows["duckdb"].splitlines()) > 1
        out = gw("query", "MATCH (p:Person) RETURN count(*) AS n", "-w", path, "--engine", "neo4j", "--format", "csv")
        assert out.splitlines() == ["n", str(persons(path))]
    finally:
        out = gw("neo4j", "stop", "-w", path)
    assert "Neo4j stopped" in out
    assert "not running" in gw("neo4j", "status", "-w", path, code=1)


# -- values that look like rich markup ------------------------------------------------------
def test_values_that_look_like_markup_print_as_they_are(county, tmp_path):
    """A file name, a node name, a model's title or a reviewer's name holding [...] is data:
    load's accounting, stats, patterns list/show, run, alerts list/show and audit print it as
    it is, never read as rich markup (which showed 发放名册[final].csv as 发放名册.csv and the
    name below as 王有财)."""
    from graphwatch.alerts.library import patterns_dir

    name, title = "[bold]王[i]有财[/i][/bold]", "[b]重复领取[/b]互斥补贴"
    truth = read_csv(county / GROUND_TRUTH.name, "utf-8")
    subject = next(r["entity_key"] for r in truth if r["model_id"] == "duplicate_benefits"
                   and r["kind"] == "violation" and r["entity_kind"] == "Person")
    with open(county / "benefit_rolls.csv", encoding="gbk", newline="") as f:
        rows = list(csv.reader(f))
    header = rows[0]
    name_col, id_col, amount_col = (header.index(h) for h in ("姓名", "公民身份号码", "发放金额"))
    for row in rows[1:]:
        if f"Person:{row[id_col]}" == subject:
            row[name_col] = name
    next(row for row in rows[1:] if f"Person:{row[id_col]}" != subject)[amount_col] = "十万"   # quarantined
    (tmp_path / "drop").mkdir()
    roll = tmp_path / "drop" / "发放名册[final].csv"     # claimed by the benefit_rolls mapping's *发放*
    with open(roll, "w", encoding="gbk", newline="") as f:
        csv.writer(f).writerows(rows)
    dataset = "benefit_rolls/发放名册[final].csv"
    models = tmp_path / "models"                        # the shipped model, under a title with brackets
    models.mkdir()
    text = (patterns_dir() / "duplicate_benefits.yaml").read_text(encoding="utf-8")
    (models / "my_duplicate_benefits.yaml").write_text(
        text.replace("id: duplicate_benefits", "id: my_duplicate_benefits", 1)
            .replace("zh: 重复领取互斥补贴", f'zh: "{title}"', 1), encoding="utf-8")
    ws = tmp_path / "ws"
    gw("load", county / "divisions.csv", county / "organisations.csv", county / "programmes.csv", "-w", ws)

    out = gw("load", roll, "-w", ws)
    assert re.search(rf"│ {re.escape(dataset)}\s+│ csv\s+│ gb18030\s+│\s+{len(rows) - 1:,} │", out), out
    out = gw("stats", "-w", ws)
    assert re.search(rf"│ {re.escape(dataset)}\s+│ gb18030\s+│", out), out              # datasets
    assert re.search(rf"│ {re.escape(dataset)}\s+│ 发放金额\s+│", out), out            # quarantine

    out = gw("patterns", "list", "--patterns", models, "--no-shipped-patterns")
    assert f"│ my_duplicate_benefits │ {title} │" in out, out
    assert f"my_duplicate_benefits  {title} · " in gw("patterns", "show", "my_duplicate_benefits", "--patterns", models)
    out = gw("run", "my_duplicate_benefits", "--patterns", models, "-w", ws)
    assert f"│ my_duplicate_benefits │ {title} · One person" in out, out

    listed = json.loads(gw("alerts", "list", "-w", ws, "--format", "json"))
    alert = next(a for a in listed if a["subject_name"] == name)
    out = gw("alerts", "list", "-w", ws)
    assert f"│ {name} " in out, out
    out = gw("alerts", "show", alert["id"], "-w", ws, "--unmask", "--who", "[red]审计员")
    assert f"name={name}" in out, out                                                # evidence: nodes
    assert f"{dataset}#" in out, out                                                 # their source records
    assert re.search(r"│ \[red\]审计员\s+│ unmask\s+│", gw("audit", "-w", ws))
