"""Detection quality (graphwatch/alerts/evaluate.py, ``graphwatch evaluate``): the definitions of
found, true alert and reported near-miss on hand-made cases, bad truth files, insufficient
data, and the whole library against a small generated county."""

from __future__ import annotations

import doctest
import json
import random
import re

import pytest
from click.testing import CliRunner

from graphwatch.alerts import evaluate as ev
from graphwatch.alerts.evaluate import Alert, Case, evaluate, read_truth, score
from graphwatch.cli import main
from graphwatch.exc import SourceError

PERSONS, SEED = 2000, 5


def case(cid, kind="violation", core=(), pay=(), model="m"):
    return Case(model, cid, kind, frozenset(core), frozenset(pay))


def alert(aid, subject, obj=None, evidence=()):
    return Alert(aid, subject, obj, frozenset(evidence) | {subject} | ({obj} if obj else set()))


def test_doctests():
    assert doctest.testmod(ev).failed == 0


def test_a_violation_is_found_when_an_alert_holds_its_core_entities():
    v1 = case("V1", core={"Person:a", "Person:b", "Company:c"}, pay={"Benefit:1", "Benefit:2"})
    v2 = case("V2", core={"Person:x", "Contract:k"})
    alerts = [alert("A1", "Person:a", "Company:c", {"Person:b", "Benefit:2", "Benefit:9"}),   # covers V1
              alert("A2", "Person:x", None, {"Person:y"}),                                   # misses Contract:k
              alert("A3", "Person:a", "Person:b", {"Company:c"})]                            # V1 again, no payment
    q = score("m", [v1, v2], alerts)
    assert (q.planted, q.found, q.missed) == (2, 1, ["V2"])
    assert (q.alerts, q.true_alerts) == (3, 2) and [a["id"] for a in q.false_alerts] == ["A2"]
    assert q.recall == 0.5 and q.precision == pytest.approx(2 / 3)
    # payments do not decide whether a case is found; how much of them the evidence shows is counted
    assert (q.payments_in_evidence, q.payments_planted) == (1, 2)


def test_no_alert_means_no_precision_not_zero_or_one():
    q = score("m", [case("V1", core={"Person:a"})], [])
    assert q.recall == 0.0 and q.precision is None and q.missed == ["V1"]


def test_a_near_miss_is_reported_when_covered_or_pointed_at():
    n1 = case("N1", "near_miss", core={"Company:a", "Company:b", "Tender:t1", "Tender:t2"})
    n2 = case("N2", "near_miss", core={"Person:c", "Project:p2", "Village:v2"})
    n3 = case("N3", "near_miss", core={"Person:d", "Disability:d"}, pay={"Benefit:5"})
    alerts = [alert("A1", "Tender:t1", None, {"Company:a", "Company:z"}),     # about one of N1's tenders
              alert("A2", "Person:c", "Project:p9", {"Village:v2"}),            # another project: not N2
              alert("A3", "Person:q", None, {"Person:d", "Disability:d"})]      # covers N3
    q = score("m", [n1, n2, n3], alerts)
    assert q.reported_near_misses == ["N1", "N3"] and q.near_misses_reported == 2 and q.near_misses == 3
    assert q.true_alerts == 0 and len(q.false_alerts) == 3


def test_a_model_without_truth_is_not_rated_but_its_alerts_are_placed():
    other = case("V1", core={"Person:o", "Contract:k", "Company:c"}, model="relative_direct_award")
    q = score("official_near_winner", [], [alert("A1", "Person:o", "Contract:k"), alert("A2", "Person:z")],
              others=[other])
    assert q.status == "no_truth" and q.recall is None and q.precision is None and not q.false_alerts
    assert (q.alerts, q.other_models_cases) == (2, 1)


HEADER = "model_id,violation_id,kind,entity_kind,entity_key,note\n"
# random bytes, fixed so the test is the same every run (a seeded generator)
JUNK = random.Random(14).randbytes(2000)


@pytest.mark.parametrize("content, message", [
    (None, "truth file not found"),
    ("a,b\n1,2\n", "line 1: not a truth file: no column model_id, violation_id, kind, entity_kind, entity_key"),
    ("model_id,violation_id,kind\nm,V1,violation\n", "line 1: not a truth file: no column entity_kind, entity_key"),
    (HEADER + "m,V1,maybe,Person,Person:a,\n", "line 2, column 'kind': kind 'maybe' must be violation or near_miss"),
    (HEADER + "m,V1,violation,Person\n", "line 2, column 'entity_key': no entity_key"),
    (HEADER + "\nm,V1,violation,Person,Person:a,\nm,,violation,Person,Person:b,\n", "line 4, column 'violation_id'"),
    ("", "empty file; a truth file has a header row model_id"),
    (" \n\n", "empty file"),
    (JUNK, "not UTF-8 text (byte 0x"),
    (HEADER.encode() + b"m,V1,violation,Person,Person:\xff,\n", "line 2, column 30: not UTF-8 text (byte 0xff)"),
    (HEADER.encode() + b"m,V1\0,violation,Person,Person:a,\n", "line 2: not a text file (it holds NUL bytes)"),
    (HEADER + 'm,V1,violation,Person,"Person:a\n', "not a CSV file"),
])
def test_a_bad_truth_file_is_one_line_naming_file_and_line(tmp_path, content, message):
    path = tmp_path / "truth.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(SourceError) as err:
        read_truth(path)
    assert message in str(err.value) and "\n" not in str(err.value)
    assert err.value.file == str(path)


def test_evaluate_names_a_truth_file_of_random_bytes_in_one_line(tmp_path):
    from graphwatch.fixtures import write_graph
    from graphwatch.store import Workspace

    with Workspace(tmp_path / "ws", create=True) as ws:
        write_graph(ws, [{"key": "Person:a", "labels": ["Person"], "name": "张三"}], [])
    junk = tmp_path / "junk.csv"
    junk.write_bytes(JUNK)
    out = CliRunner().invoke(main, ["evaluate", "--truth", str(junk), "-w", str(tmp_path / "ws")])
    assert out.exit_code == 2, out.output
    assert re.match(rf"error: {re.escape(str(junk))}, line \d+, column \d+: not UTF-8 text \(byte 0x[0-9a-f]{{2}}\)",
                    out.output)
    assert len(out.output.strip().splitlines()) == 1
    assert "internal error" not in out.output and "UnicodeDecodeError" not in out.output


def test_read_truth_groups_rows_into_cases(tmp_path):
    path = tmp_path / "truth.csv"
    path.write_text("model_id,violation_id,kind,entity_kind,entity_key,note\n"
                    "m,V1,violation,Person,Person:a,n\nm,V1,violation,Benefit,Benefit:1,n\n"
                    "m,N1,near_miss,Person,Person:b,\nk,V1,violation,Company,Company:c,\n", encoding="utf-8")
    truth = read_truth(path)
    assert sorted(truth) == ["k", "m"]
    v1 = next(c for c in truth["m"] if c.id == "V1")
    assert v1.core == {"Person:a"} and v1.payments == {"Benefit:1"} and v1.kind == "violation"


def test_a_model_whose_data_is_not_loaded_is_insufficient_data(tmp_path):
    from graphwatch.fixtures import write_graph
    from graphwatch.store import Workspace

    ws_dir = tmp_path / "ws"
    with Workspace(ws_dir, create=True) as ws:
        write_graph(ws, [{"key": "Person:a", "labels": ["Person"], "name": "张三"}], [])
    truth = tmp_path / "truth.csv"
    truth.write_text("model_id,violation_id,kind,entity_kind,entity_key,note\n"
                     "deceased_beneficiary,V1,violation,Person,Person:a,\n"
                     "deceased_beneficiary,N1,near_miss,Person,Person:b,\n", encoding="utf-8")
    q, = evaluate(ws_dir, truth, models=["deceased_beneficiary"])
    assert q.status == "insufficient_data" and "(:DeathRecord)" in q.message
    assert (q.planted, q.near_misses, q.recall, q.precision) == (1, 1, None, None)
    out = CliRunner().invoke(main, ["evaluate", "--truth", str(truth), "-w", str(ws_dir), "-m", "deceased_beneficiary"])
    assert out.exit_code == 0, out.output
    assert "insufficient data" in out.output


def test_evaluate_refuses_what_is_not_a_workspace_in_one_line(tmp_path):
    truth = tmp_path / "truth.csv"
    truth.write_text("model_id,violation_id,kind,entity_kind,entity_key,note\n", encoding="utf-8")
    out = CliRunner().invoke(main, ["evaluate", "--truth", str(truth), "-w", str(tmp_path / "nothing")])
    assert out.exit_code == 2 and "no workspace here" in out.output and "Traceback" not in out.output


# -- the whole library on a small generated county --------------------------------------------------
@pytest.fixture(scope="module")
def county(tmp_path_factory):
    """A 2 000-person generated county, loaded and resolved (two plants per model)."""
    from graphwatch.ingest import load_into
    from graphwatch.resolve import resolve
    from graphwatch.store import Workspace
    from graphwatch.synth import generate_county

    root = tmp_path_factory.mktemp("county")
    generate_county(root / "county", persons=PERSONS, seed=SEED)
    load_into(root / "ws", [root / "county"])
    with Workspace(root / "ws") as ws:
        resolve(ws)
    return root / "county" / "_truth" / "ground_truth.csv", root / "ws"


def test_every_model_finds_its_planted_violations_and_no_near_miss(county):
    truth, ws = county
    results = {q.model: q for q in evaluate(ws, truth)}
    planted = read_truth(truth)
    assert set(planted) <= set(results)
    for model, q in results.items():
        if model in planted:
            assert q.status == "calculated" and q.planted >= 1, model
            assert (q.found, q.missed) == (q.planted, []), (model, q.missed)
            assert q.near_misses_reported == 0, (model, q.reported_near_misses)
            assert q.true_alerts == q.alerts, (model, q.false_alerts)
        else:
            assert q.status == "no_truth" and q.other_models_cases == q.alerts, model


def test_the_command_prints_the_table_and_json(county):
    truth, ws = county
    out = CliRunner().invoke(main, ["evaluate", "--truth", str(truth), "--workspace", str(ws),
                                    "-m", "split_contracts", "-m", "own_village_project"])
    assert out.exit_code == 0, out.output
    assert "split_contracts" in out.output and "own_village_project" in out.output and "1.000" in out.output
    out = CliRunner().invoke(main, ["evaluate", "--truth", str(truth), "--workspace", str(ws), "-m", "split_contracts",
                                    "--param", "split_contracts.min_awards=4", "--format", "json"])
    assert out.exit_code == 0, out.output
    q, = json.loads(out.output)
    # four awards inside the window are asked for, the plants have three: none is found
    assert (q["model"], q["found"], q["alerts"], q["recall"]) == ("split_contracts", 0, 0, 0.0)
