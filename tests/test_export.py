"""Evidence exports opened as a case officer's tools would open them: the SVG holds the Chinese
as text, the PNG is drawn with a CJK font, the PDFs open (pypdf) and render (pdftoppm),
GraphML/GEXF read back into networkx unchanged, the ANX is XML holding every entity and link,
and every format is masked unless asked — each export audited."""

from __future__ import annotations

import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import networkx as nx
import pytest
from click.testing import CliRunner

from graphwatch.alerts.runner import run_models
from graphwatch.alerts.store import AlertStore
from graphwatch.cli import main
from graphwatch.export import FORMATS, evidence, export
from graphwatch.export.diagram import render, to_dot
from graphwatch.export.evidence import node_caption
from graphwatch.export.style import FONT
from graphwatch.ingest import load_into
from graphwatch.resolve import resolve
from graphwatch.schema import load_schema
from graphwatch.store import Workspace
from graphwatch.synth import generate_county

MODEL = "own_village_project"


@pytest.fixture(scope="module")
def county_ws(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("export")
    generate_county(root / "county", persons=3000, seed=1)
    load_into(root / "ws", [root / "county"])
    with Workspace(root / "ws") as w:
        resolve(w)
    run_models(root / "ws", [MODEL])
    return root / "ws"


@pytest.fixture
def ws(county_ws, tmp_path) -> Path:
    return Path(shutil.copytree(county_ws, tmp_path / "ws"))


@pytest.fixture
def alert_id(ws) -> str:
    with AlertStore(ws) as s:
        found = s.list(model=MODEL)
        assert found, "the generated county plants own-village violations"
        a = found[0]["id"]
        s.verdict(a, "in_review", who="张三", note="开始核查")
        s.verdict(a, "confirmed", who="李四", note="核实属实，移交案件承办")
    return a


def id_numbers(ws: Path, alert: str) -> list[str]:
    with AlertStore(ws) as s:
        ev = s.get(alert)["evidence"]
    ids = [n["properties"]["id_number"] for n in ev["nodes"] if n["properties"].get("id_number")]
    assert ids
    return ids


def pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    assert len(reader.pages) >= 1
    return "\n".join(p.extract_text() or "" for p in reader.pages)


def pdftoppm(path: Path, tmp: Path) -> list[Path]:
    """Render every page as a reader would see it; each page must have ink on it."""
    from PIL import Image

    subprocess.run(["pdftoppm", "-r", "40", "-png", str(path), str(tmp / "page")], check=True, capture_output=True)
    pages = sorted(tmp.glob("page*.png"))
    assert pages
    for p in pages:
        lo, hi = Image.open(p).convert("L").getextrema()
        assert lo < 128 < hi, p          # not a blank page
    return pages


def test_svg_holds_the_chinese_labels_as_text(ws, alert_id, tmp_path):
    out = tmp_path / "a.svg"
    export(ws, evidence.from_alert(ws, alert_id), "svg", out, who="李四")
    root = ET.parse(out).getroot()
    texts = "".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
    ev = evidence.from_alert(ws, alert_id)
    for n in ev.nodes:
        assert node_caption(n) in texts, node_caption(n)
    assert "村干部违规插手本村工程" in texts and "图例" in texts and "来源" in texts
    families = {t.get("font-family") for t in root.iter("{http://www.w3.org/2000/svg}text")}
    assert any(FONT in (f or "") for f in families)


def test_png_is_drawn_with_a_cjk_font_that_covers_every_character(ws, alert_id, tmp_path, monkeypatch):
    from fontTools.ttLib import TTCollection

    ev = evidence.from_alert(ws, alert_id)
    schema = load_schema()
    dot = to_dot(ev, schema=schema)
    log = subprocess.run(["dot", "-v", "-Tpng", "-o", str(tmp_path / "v.png")], input=dot.encode(),
                         capture_output=True, check=True).stderr.decode()
    resolved = [line for line in log.splitlines() if line.startswith(f'fontname: "{FONT}" resolved to')]
    assert resolved and "CJK" in resolved[0], log[-2000:]
    font_file = resolved[0].rsplit(" ", 1)[-1]
    cmap = TTCollection(font_file).fonts[0].getBestCmap()
    chars = {c for n in ev.nodes for c in node_caption(n)} | set(ev.title_zh) | set(ev.explain_zh)
    missing = sorted(c for c in chars if not c.isspace() and ord(c) not in cmap)
    assert not missing, missing                      # no tofu: every character has a glyph
    ours = render(ev, "png", schema=schema)
    assert ours[:8] == b"\x89PNG\r\n\x1a\n"
    # the same diagram where fontconfig knows no CJK font is drawn differently (boxes)
    conf = tmp_path / "fonts.conf"
    conf.write_text(f"<?xml version='1.0'?><fontconfig><dir>/usr/share/fonts/truetype/dejavu</dir>"
                    f"<cachedir>{tmp_path / 'fc'}</cachedir></fontconfig>")
    monkeypatch.setenv("FONTCONFIG_FILE", str(conf))
    tofu = render(ev, "png", schema=schema)
    assert tofu != ours


def test_pdf_diagram_and_dossier_open_and_render(ws, alert_id, tmp_path):
    pdf, dossier = tmp_path / "a.pdf", tmp_path / "dossier.pdf"
    export(ws, evidence.from_alert(ws, alert_id), "pdf", pdf, who="李四")
    export(ws, evidence.from_alert(ws, alert_id), "dossier", dossier, who="李四")
    (tmp_path / "p1").mkdir()
    (tmp_path / "p2").mkdir()
    pdftoppm(pdf, tmp_path / "p1")
    assert len(pdftoppm(dossier, tmp_path / "p2")) >= 2
    text = pdf_text(dossier)
    ev = evidence.from_alert(ws, alert_id)
    for needle in ("案件证据材料", "预警说明", "关系图", "核查记录", "核实属实，移交案件承办", "李四", "已脱敏", alert_id[-8:]):
        assert needle in text.replace("\n", ""), needle
    for r in ev.rels:            # every relationship's source record is listed
        assert r["records"][0].split("#")[-1] in text
    assert "村干部违规插手本村工程" in pdf_text(pdf).replace("\n", "")


def test_graphml_and_gexf_read_back_with_the_same_nodes_edges_and_properties(ws, alert_id, tmp_path):
    ev = evidence.from_alert(ws, alert_id)
    export(ws, evidence.from_alert(ws, alert_id), "graphml", tmp_path / "a.graphml")
    export(ws, evidence.from_alert(ws, alert_id), "gexf", tmp_path / "a.gexf")
    masked = evidence.masked(evidence.from_alert(ws, alert_id), False)
    for g in (nx.read_graphml(tmp_path / "a.graphml", force_multigraph=True), nx.read_gexf(tmp_path / "a.gexf")):
        assert set(g.nodes) == {str(n["id"]) for n in ev.nodes}
        assert sorted((a, b, d["rel_type"]) for a, b, d in g.edges(data=True)) == sorted(
            (str(r["start"]), str(r["end"]), r["type"]) for r in ev.rels)
        for n in masked.nodes:
            d = g.nodes[str(n["id"])]
            assert d["entity_key"] == n["key"] and d["labels"] == "; ".join(n["labels"])
            for k, value in n["properties"].items():
                if isinstance(value, (str, int, float)) and not isinstance(value, bool):
                    assert str(d[k]) == str(value) or float(d[k]) == pytest.approx(float(value)), (k, d[k], value)
        for a, b, d in g.edges(data=True):
            r = next(r for r in masked.rels if str(r["id"]) == str(d["id"]))
            assert d["dataset"] == r["dataset"] and d.get("valid_from") == r.get("valid_from")
            assert d["records"] == "; ".join(f"{r['dataset']}#{x}" for x in r["records"])


def test_json_and_csv_carry_properties_and_provenance(ws, alert_id, tmp_path):
    ev = evidence.from_alert(ws, alert_id)
    export(ws, evidence.from_alert(ws, alert_id), "json", tmp_path / "a.json")
    doc = json.loads((tmp_path / "a.json").read_text(encoding="utf-8"))
    assert doc["format"] == "graphwatch-evidence" and doc["masked"] is True
    assert {n["id"] for n in doc["nodes"]} == {n["id"] for n in ev.nodes}
    assert {r["id"] for r in doc["relationships"]} == {r["id"] for r in ev.rels}
    assert all(n["provenance"]["records"] for n in doc["nodes"])
    assert all(r["provenance"]["dataset"] and r["provenance"]["records"] for r in doc["relationships"])
    assert [h["status"] for h in doc["verdict_history"]] == ["in_review", "confirmed"]
    files = export(ws, evidence.from_alert(ws, alert_id), "csv", tmp_path / "case.csv")
    assert [f.name for f in files] == ["case.nodes.csv", "case.edges.csv"]
    import csv

    with open(files[0], encoding="utf-8-sig") as f:
        nodes = list(csv.DictReader(f))
    with open(files[1], encoding="utf-8-sig") as f:
        edges = list(csv.DictReader(f))
    assert {int(r["id"]) for r in nodes} == {n["id"] for n in ev.nodes}
    assert {int(r["id"]) for r in edges} == {r["id"] for r in ev.rels}
    assert all(r["records"] and r["dataset"] for r in edges)


def test_anx_holds_every_entity_and_link(ws, alert_id, tmp_path):
    ev = evidence.from_alert(ws, alert_id)
    export(ws, evidence.from_alert(ws, alert_id), "anx", tmp_path / "a.anx")
    root = ET.parse(tmp_path / "a.anx").getroot()
    assert root.tag == "Chart"
    entities = {e.get("EntityId"): e for e in root.iter("Entity")}
    assert set(entities) == {f"N{n['id']}" for n in ev.nodes}
    links = {i.get("Id"): i for i in root.iter("ChartItem") if i.find("Link") is not None}
    assert set(links) == {f"R{r['id']}" for r in ev.rels}
    types = {t.get("Name") for t in root.iter("EntityType")}
    for r in ev.rels:
        item = links[f"R{r['id']}"]
        link, style = item.find("Link"), item.find("Link/LinkStyle")
        assert (link.get("End1Id"), link.get("End2Id")) == (f"N{r['start']}", f"N{r['end']}")
        assert style.get("Type") == r["type"]
        assert style.get("ArrowStyle") == ("ArrowNone" if r["type"] == "SPOUSE_OF" else "ArrowOnHead")
        if r.get("valid_from"):
            assert item.get("DateTime") == r["valid_from"] + "T00:00:00.000"
        cards = item.findall("CardCollection/Card")
        assert [c.get("SourceReference") for c in cards] == [f"{r['dataset']}#{x}" for x in r["records"]][:50]
    for n in ev.nodes:
        icon = entities[f"N{n['id']}"].find("Icon/IconStyle")
        assert icon.get("Type") in types
    assert {s.get("DotStyle") for s in root.iter("Strength")} >= {"DotStyleSolid", "DotStyleDashed"}


def test_every_format_is_masked_unless_asked_and_every_export_is_audited(ws, alert_id, tmp_path):
    ids = id_numbers(ws, alert_id)
    for fmt in FORMATS:
        out = tmp_path / f"masked.{fmt}"
        for f in export(ws, evidence.from_alert(ws, alert_id), fmt, out, who="王五"):
            text = pdf_text(f) if fmt in ("pdf", "dossier") else f.read_text(encoding="utf-8", errors="replace")
            if fmt == "png":
                continue     # pixels: its text is the SVG's, checked there
            for i in ids:
                assert i not in text, (fmt, f)
            assert ids[0][:4] + "*" * 10 + ids[0][-4:] in text or fmt in ("pdf",), (fmt, f)
    files = export(ws, evidence.from_alert(ws, alert_id), "json", tmp_path / "open.json", unmask=True, who="王五")
    assert ids[0] in files[0].read_text(encoding="utf-8")
    with AlertStore(ws) as s:
        log = s.audit_log(50)
    exports = [r for r in log if r["action"] == "export" and r["who"] == "王五"]
    assert len(exports) == len(FORMATS) + 1
    assert {r["format"] for r in exports} == set(FORMATS)
    assert [r["masked"] for r in exports][0] == 0 and all(r["masked"] == 1 for r in exports[1:])
    assert all(r["what"] == alert_id for r in exports)


def test_the_cli_exports_a_path_a_neighbourhood_and_a_pattern(ws, alert_id, tmp_path):
    with AlertStore(ws) as s:
        a = s.get(alert_id)
    subject, obj = a["subject_key"], a["object_key"]
    runner = CliRunner()
    result = runner.invoke(main, ["export", "--path", subject, obj, "--format", "json", "-o", str(tmp_path / "p.json"),
                                  "-w", str(ws), "--who", "赵六"])
    assert result.exit_code == 0, result.output
    doc = json.loads((tmp_path / "p.json").read_text(encoding="utf-8"))
    assert doc["kind"] == "path" and len(doc["nodes"]) >= 2 and "**" in doc["what"] + json.dumps(doc["nodes"])
    result = runner.invoke(main, ["export", "--entity", subject, "--hops", "1", "--format", "svg", "-o",
                                  str(tmp_path / "e.svg"), "-w", str(ws)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["export", "--cypher", "MATCH (o:VillageCadre)-[r:SERVES_IN]->(v:Village) RETURN o, r, v "
                                  "LIMIT 2", "--format", "anx", "-o", str(tmp_path / "c.anx"), "-w", str(ws)])
    assert result.exit_code == 0, result.output
    assert len(list(ET.parse(tmp_path / "c.anx").getroot().iter("Entity"))) >= 2
    result = runner.invoke(main, ["export", "--format", "svg", "-o", str(tmp_path / "x.svg"), "-w", str(ws)])
    assert result.exit_code == 2 and "export one thing" in result.output
    result = runner.invoke(main, ["paths", subject, obj, "-w", str(ws), "--format", "json"])
    assert result.exit_code == 0 and json.loads(result.output)[0]["hops"] >= 1
    result = runner.invoke(main, ["neighbours", subject, "--hops", "1", "-w", str(ws)])
    assert result.exit_code == 0 and "**" in result.output
    for cmd in (["components", "--types", "LEGAL_REP_OF,SHAREHOLDER_OF"], ["communities", "--types", "SPOUSE_OF,PARENT_OF"],
                ["centrality", "--types", "SPOUSE_OF,PARENT_OF,SIBLING_OF", "--top", "5", "--format", "csv"]):
        result = runner.invoke(main, [*cmd, "-w", str(ws)])
        assert result.exit_code == 0, (cmd, result.output)
