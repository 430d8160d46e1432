"""The synthetic county generator: contract (files, headers, encodings), truth, determinism.

The end-to-end check at the bottom runs a plain-pandas reading of all 13 supervision models
on a generated county with perfect entity resolution (true IDs from the truth file): every
planted violation must match, no near-miss may match, and nothing else may match.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from graphwatch.resolve.ids import clean_resident_id, id_sex, resident_id_check_char
from graphwatch.synth import (GROUND_TRUTH, MODEL_IDS, PARAMS_FILE, PERSON_FILES, PERSON_RECORDS, SOURCE_FILES,
                              generate_county)
from graphwatch.synth import names
from graphwatch.synth.codes import resident_ids
from graphwatch.synth.population import REL, household_kinship

PERSONS = 2000


@pytest.fixture(scope="module")
def county(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("county")
    calls = []
    counts = generate_county(out, persons=PERSONS, seed=5, progress=lambda *a: calls.append(a))
    assert calls[0] == ("persons", 0, PERSONS) and calls[-1] == ("done", PERSONS, PERSONS)
    assert all(0 <= done <= total == PERSONS for _, done, total in calls)
    return out, counts


def _csv_rows(path: Path, encoding: str) -> list[list[str]]:
    text = path.read_bytes().decode(encoding)
    return list(csv.reader(io.StringIO(text, newline="")))


def _sheet(path: Path) -> list[tuple]:
    ws = load_workbook(path, read_only=True).active
    return list(ws.iter_rows(values_only=True))


def _data(county_dir: Path, name: str) -> pd.DataFrame:
    """A source as a DataFrame of strings with its truth ids in `pid` (if it names persons)."""
    spec = SOURCE_FILES[name]
    if spec.format == "csv":
        rows = _csv_rows(county_dir / name, spec.encoding)
        header, data, first = rows[0], rows[1:], 2
    else:
        rows = _sheet(county_dir / name)
        h = 1 if spec.title_row else 0
        header, first = list(rows[h]), h + 2
        # read-only openpyxl stops a row at its last non-empty cell
        data = [tuple(r) + (None,) * (len(header) - len(r)) for r in rows[h + 1:]]
    df = pd.DataFrame(data, columns=header).fillna("")
    df["_line"] = range(first, first + len(df))
    return df


# ------------------------------------------------------------------------------ contract
def test_every_source_file_has_documented_header_and_encoding(county):
    out, counts = county
    for name, spec in SOURCE_FILES.items():
        path = out / name
        assert path.exists(), name
        assert counts[name] > 0, name
        if spec.format == "csv":
            raw = path.read_bytes()
            if spec.encoding == "utf-8-sig":
                assert raw.startswith(b"\xef\xbb\xbf"), name
            else:
                assert not raw.startswith(b"\xef\xbb\xbf"), name
            if spec.encoding in ("gbk", "gb18030"):
                with pytest.raises(UnicodeDecodeError):
                    raw.decode("utf-8")
            rows = _csv_rows(path, spec.encoding)
            assert tuple(rows[0]) == spec.headers, name
            assert all(len(r) == len(spec.headers) for r in rows), name
            assert len(rows) - 1 == counts[name]
            # one row per physical line: no quoting anywhere
            assert b'"' not in raw, name
        else:
            rows = _sheet(path)
            h = 1 if spec.title_row else 0
            assert tuple(rows[h]) == spec.headers, name
            assert len(rows) - h - 1 == counts[name]


def test_excel_title_row_dates_and_text_ids(county):
    out, _ = county
    wb = load_workbook(out / "officials_roster.xlsx")
    ws = wb.active
    assert [str(r) for r in ws.merged_cells.ranges] == ["A1:J1"]
    assert "名册" in ws["A1"].value
    row = [c for c in ws[3]]
    assert row[2].data_type == "s" and len(row[2].value) in (15, 18)      # ID as text
    assert row[8].is_date                                                 # 任职开始 a date cell
    deaths = load_workbook(out / "death_records.xlsx").active
    assert all(r[2].is_date and r[3].is_date for r in deaths.iter_rows(min_row=2))
    tenders = load_workbook(out / "tenders.xlsx").active
    assert all(r[5].is_date for r in tenders.iter_rows(min_row=2))


def test_params_and_ground_truth_columns(county):
    out, counts = county
    params = json.loads((out / PARAMS_FILE).read_text(encoding="utf-8"))
    assert params["tender_threshold"] == 400000 and params["split_window_days"] == 90
    gt = pd.read_csv(out / GROUND_TRUTH.name, dtype=str)
    assert tuple(gt.columns) == GROUND_TRUTH.headers
    assert len(gt) == counts[GROUND_TRUTH.name]
    assert set(gt["kind"]) == {"violation", "near_miss"}
    assert gt["entity_key"].str.match(r"^[A-Za-z]+:\S+$").all()
    persons = gt.loc[gt["entity_kind"] == "Person", "entity_key"].str[len("Person:"):]
    assert all(clean_resident_id(x) == (x, "valid") for x in persons)


def test_references_resolve(county):
    out, _ = county
    d = {name: _data(out, name) for name in SOURCE_FILES}
    divisions = set(d["divisions.csv"]["区划代码"])
    assert (d["divisions.csv"]["级别"] == "县").sum() == 1
    parents = d["divisions.csv"].loc[d["divisions.csv"]["级别"] != "县", "上级代码"]
    assert set(parents) <= divisions
    orgs = set(d["organisations.csv"]["单位代码"])
    companies = set(d["company_registry.csv"]["统一社会信用代码"])
    projects, tenders = set(d["projects.csv"]["项目编号"]), set(d["tenders.xlsx"]["招标编号"])
    checks = [
        ("organisations.csv", "所在区划代码", divisions), ("household_registry.csv", "村代码", divisions),
        ("officials_roster.xlsx", "单位代码", orgs), ("company_registry.csv", "行业主管部门代码", orgs),
        ("projects.csv", "项目所在村代码", divisions), ("projects.csv", "建设单位代码", orgs),
        ("tenders.xlsx", "项目编号", projects), ("bids.csv", "招标编号", tenders),
        ("bids.csv", "投标单位信用代码", companies), ("contracts.csv", "项目编号", projects),
        ("contracts.csv", "中标单位信用代码", companies), ("contracts.csv", "发包单位代码", orgs),
        ("benefit_rolls.csv", "村代码", divisions), ("benefit_rolls.csv", "审批单位代码", orgs),
        ("benefit_rolls.csv", "项目代码", set(d["programmes.csv"]["项目代码"])),
        ("fiscal_payroll.csv", "单位代码", orgs), ("company_shareholders.csv", "统一社会信用代码", companies),
        ("company_executives.csv", "统一社会信用代码", companies),
        ("police_case_parties.csv", "案件编号", set(d["police_cases.csv"]["案件编号"])),
    ]
    for name, col, known in checks:
        assert set(d[name][col]) <= known, (name, col)
    cadre_villages = d["officials_roster.xlsx"].loc[d["officials_roster.xlsx"]["人员类别"] == "村干部", "任职村代码"]
    assert set(cadre_villages) <= divisions
    assert set(d["contracts.csv"]["招标编号"]) - {""} <= tenders
    corp = d["company_shareholders.csv"]
    assert set(corp.loc[corp["股东类型"] == "企业法人", "股东证件号码"]) <= companies


def test_all_models_planted_and_near_missed(county):
    out, _ = county
    gt = pd.read_csv(out / GROUND_TRUTH.name, dtype=str)
    per = gt.groupby(["model_id", "kind"])["violation_id"].nunique()
    for m in MODEL_IDS:
        assert per.get((m, "violation"), 0) >= 1, m
        assert per.get((m, "near_miss"), 0) >= 1, m
    assert set(gt["model_id"]) == set(MODEL_IDS)


def test_household_ids_mostly_validate(county):
    out, _ = county
    hh = _data(out, "household_registry.csv")
    statuses = pd.Series([clean_resident_id(x)[1] for x in hh["公民身份号码"]]).value_counts()
    assert statuses.get("valid", 0) / len(hh) > 0.98
    assert set(statuses.index) <= {"valid", "invalid_checksum", "legacy15"}
    # every true ID is valid and unique, and its birth date and sex agree with the registry
    truth = pd.read_csv(out / PERSON_RECORDS.name, dtype=str)
    t = truth[truth["file"] == "household_registry.csv"]
    assert t["true_person_id"].is_unique and len(t) == PERSONS
    assert all(clean_resident_id(x)[1] == "valid" for x in t["true_person_id"])
    sex = [id_sex(x) for x in t["true_person_id"]]
    assert sex == hh["性别"].tolist()


def test_benefit_rolls_missing_ids_keep_name_and_village(county):
    out, _ = county
    ben = _data(out, "benefit_rolls.csv")
    missing = ben["公民身份号码"] == ""
    assert 0.04 < missing.mean() < 0.11
    assert (ben.loc[missing, "姓名"] != "").all() and (ben.loc[missing, "村代码"] != "").all()


def test_truth_covers_every_person_row(county):
    out, _ = county
    truth = pd.read_csv(out / PERSON_RECORDS.name, dtype=str)
    assert tuple(truth.columns) == PERSON_RECORDS.headers
    valid_true = set(truth.loc[truth["file"] == "household_registry.csv", "true_person_id"])
    for name in PERSON_FILES:
        df = _data(out, name)
        if name == "company_shareholders.csv":
            df = df[df["股东类型"] == "自然人"]
        t = truth[truth["file"] == name]
        assert sorted(t["line"].astype(int)) == sorted(df["_line"]), name
        assert set(t["true_person_id"]) <= valid_true, name
    assert set(truth["file"]) == set(PERSON_FILES)


def test_same_seed_same_bytes(tmp_path):
    def digest(d: Path) -> dict[str, str]:
        return {p.relative_to(d).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(d.rglob("*.csv"))}

    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate_county(a, persons=1000, seed=11)
    generate_county(b, persons=1000, seed=11)
    generate_county(c, persons=1000, seed=12)
    da, db, dc = digest(a), digest(b), digest(c)
    assert len(da) == 19 and da == db
    assert da["household_registry.csv"] != dc["household_registry.csv"]
    # another county is never written over one: refused, and the files stay as they were
    from graphwatch.exc import GenerationError

    with pytest.raises(GenerationError, match=r"already holds files \(.*\); give a new or empty folder"):
        generate_county(a, persons=1000, seed=12)
    assert digest(a) == da


def test_generate_refuses_a_folder_that_holds_files(tmp_path):
    from click.testing import CliRunner

    from graphwatch.cli import main
    from graphwatch.exc import GenerationError

    used = tmp_path / "used"
    used.mkdir()
    (used / "notes.txt").write_text("mine", encoding="utf-8")
    res = CliRunner().invoke(main, ["generate", "--persons", "1000", "--out", str(used)])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert res.output.strip() == (f"error: {used} already holds files (notes.txt); give a new or empty folder "
                                  "(the generator never overwrites a county)")
    assert [p.name for p in used.iterdir()] == ["notes.txt"]
    with pytest.raises(GenerationError, match="is a file"):
        generate_county(used / "notes.txt", persons=1000, seed=1)
    # a county code the generator does not know makes no folder (so the retry is not refused)
    with pytest.raises(GenerationError, match="unknown county code"):
        generate_county(tmp_path / "typo", persons=1000, seed=1, county="999999")
    assert not (tmp_path / "typo").exists()


def test_counties_picked_by_code_load_side_by_side(tmp_path):
    from graphwatch.exc import GenerationError
    from graphwatch.ingest import load
    from graphwatch.store import Workspace

    a, b = tmp_path / "a", tmp_path / "b"
    counts = generate_county(a, persons=1000, seed=11, county="411521")
    generate_county(b, persons=1000, seed=12, county="510722")
    assert "household_registry_411521.csv" in counts and (a / "household_registry_411521.csv").exists()
    truth = pd.read_csv(a / PERSON_RECORDS.name, dtype=str)
    assert set(truth["file"]) == {f.replace(".", "_411521.") for f in PERSON_FILES}
    assert json.loads((a / PARAMS_FILE).read_text(encoding="utf-8"))["county_code"] == "411521"
    hh = _csv_rows(a / "household_registry_411521.csv", "gbk")
    assert all(row[0].startswith("411521") for row in hh[1:])            # 户号 carries the county code
    ws = Workspace(tmp_path / "ws", create=True)
    results = load(ws, [a, b])
    # each county's _truth/ folder is reported, not read (a folder inside a source folder)
    assert sorted(r.source for r in results if r.format == "not data") == [str(a / "_truth"), str(b / "_truth")]
    results = [r for r in results if r.format != "not data"]
    assert len({r.dataset for r in results}) == len(results) == 2 * len(SOURCE_FILES)
    assert sum(r.rows_quarantined for r in results) == 0
    # the two counties share no node but the national benefit programmes
    shared = ws.con.execute("""SELECT DISTINCT split_part(key, ':', 1) FROM node_record GROUP BY key
        HAVING count(DISTINCT regexp_extract(dataset, '_([0-9]{6})[.]', 1)) > 1""").fetchall()
    assert shared == [("Programme",)]
    ws.close()
    with pytest.raises(GenerationError, match="unknown county code '999999'.*411521"):
        generate_county(tmp_path / "c", persons=1000, seed=1, county="999999")


def test_too_small_a_county_is_refused(tmp_path):
    from graphwatch import synth
    from graphwatch.exc import CountyTooSmall, GenerationError, GraphwatchError
    assert issubclass(CountyTooSmall, GenerationError) and issubclass(GenerationError, GraphwatchError)
    assert synth.CountyTooSmall is CountyTooSmall
    with pytest.raises(CountyTooSmall, match="at least 1000"):
        generate_county(tmp_path, persons=50, seed=1)


# ------------------------------------------------------------------------------ building blocks
def test_bulk_check_chars_agree_with_shared_module():
    rng = np.random.default_rng(0)
    n = 500
    region = rng.integers(0, 10, (n, 6)).astype(np.uint8)
    date = np.tile(np.array([1, 9, 8, 7, 0, 6, 1, 5], np.uint8), (n, 1))
    seq = rng.integers(0, 1000, n)
    for s in resident_ids(region, date, seq):
        assert resident_id_check_char(s[:17]) == s[17]


def test_word_lists_are_gbk():
    chars = "".join(s for s, _ in names.SURNAMES)
    chars += "".join("".join(v) for v in names.GIVEN.values())
    chars += "".join(names.HOMOPHONES.values()) + "".join(names.TRADITIONAL.values())
    chars += names.PLACE_A + names.PLACE_B + names.TRADE_CHARS + "".join(names.ROADS) + "".join(names.PROJECT_KINDS)
    chars.encode("gbk")
    assert "陳" in names.TRADITIONAL.values() and names.HOMOPHONES["小"] == "晓"


def test_kinship_from_relation_to_head():
    r = {name: i for i, name in enumerate(REL)}
    assert household_kinship(r["户主"], r["配偶"]) == "配偶"
    assert household_kinship(r["配偶"], r["子"]) == "子女"
    assert household_kinship(r["子"], r["儿媳"]) == "配偶"
    assert household_kinship(r["配偶"], r["父亲"]) == "姻亲"
    assert household_kinship(r["户主"], r["孙女"]) == "祖孙"
    assert household_kinship(r["女"], r["子"]) == "兄弟姐妹"
    assert household_kinship(r["兄弟"], r["孙子"]) is None


# ------------------------------------------------------------------------------ models end to end
def _models(out: Path) -> dict[str, set[str]]:
    """Keys each model matches, with perfect entity resolution (true person IDs)."""
    truth = pd.read_csv(out / PERSON_RECORDS.name, dtype=str)
    T = {(f, int(line)): t for f, line, t in truth.itertuples(index=False)}

    def load(name):
        df = _data(out, name)
        df["pid"] = [T.get((name, line)) for line in df["_line"]]
        return df

    hh, roster, comp = load("household_registry.csv"), load("officials_roster.xlsx"), load("company_registry.csv")
    sh, con, ben = load("company_shareholders.csv"), load("contracts.csv"), load("benefit_rolls.csv")
    dis, death, pay = load("disability_registry.csv"), load("death_records.xlsx"), load("fiscal_payroll.csv")
    est, veh, parties = load("real_estate.csv"), load("vehicles.csv"), load("police_case_parties.csv")
    ex, proj, bids = load("company_executives.csv"), load("projects.csv"), load("bids.csv")
    prog, cases, divs = load("programmes.csv"), load("police_cases.csv"), load("divisions.csv")

    code = {name: i for i, name in enumerate(REL)}
    relatives, hh_of = defaultdict(set), {}
    for h, g in hh.groupby("户号"):
        members = list(zip(g["pid"], g["与户主关系"]))
        for a, ra in members:
            hh_of[a] = h
            relatives[a] |= {b for b, rb in members if b != a and household_kinship(code[ra], code[rb])}
    for col in ("发放起始", "发放截止"):
        ben[col] = pd.to_datetime(ben[col])
    poverty = set(prog.loc[prog["贫困救助"] == "是", "项目代码"])
    group = dict(zip(prog["项目代码"], prog["互斥组"]))
    principals = defaultdict(set)
    for u, p in zip(comp["统一社会信用代码"], comp["pid"]):
        principals[u].add(p)
    for u, p, k in zip(sh["统一社会信用代码"], sh["pid"], sh["股东类型"]):
        if k == "自然人":
            principals[u].add(p)
    anyrole = defaultdict(set, {u: set(ps) for u, ps in principals.items()})
    for u, p in zip(ex["统一社会信用代码"], ex["pid"]):
        anyrole[u].add(p)
    village = dict(zip(proj["项目编号"], proj["项目所在村代码"]))
    town = dict(zip(divs["区划代码"], divs["上级代码"]))
    con["vil"] = con["项目编号"].map(village)
    by_person = {k: g for k, g in ben.groupby("pid")}
    found = defaultdict(set)

    cadres = roster[roster["人员类别"] == "村干部"]
    for _, r in cadres.iterrows():
        circle = {r["pid"]} | relatives[r["pid"]]
        for _, c in con[con["vil"] == r["任职村代码"]].iterrows():
            if principals[c["中标单位信用代码"]] & circle:
                found["own_village_project"].add("Contract:" + c["合同编号"])
        for p in circle:
            g = by_person.get(p)
            if g is not None and (g["村代码"] == r["任职村代码"]).any():
                found["cadre_subsidy"].add("Person:" + p)
    for _, r in roster.iterrows():
        for rel in relatives[r["pid"]]:
            g = by_person.get(rel)
            if g is not None and ((g["审批单位代码"] == r["单位代码"]) | (g["村代码"] == r["任职村代码"])).any():
                found["relative_beneficiary"].add("Person:" + rel)
    died = dict(zip(death["pid"], pd.to_datetime(death["死亡日期"])))
    for p, start in zip(ben["pid"], ben["发放起始"]):
        if p in died and start > died[p]:
            found["deceased_beneficiary"].add("Person:" + p)
    poor = ben[ben["项目代码"].isin(poverty)]
    found["payroll_on_welfare"] = {"Person:" + p for p in set(poor["pid"]) & set(pay["pid"])}
    poor_hh = {hh_of[p] for p in poor["pid"]}
    found["poor_with_assets"] = {"Household:" + hh_of[p] for p in set(est["pid"]) | set(veh["pid"])
                                 if hh_of[p] in poor_hh}
    regulator = dict(zip(comp["统一社会信用代码"], comp["行业主管部门代码"]))
    orgs_of = defaultdict(set)
    for p, o in zip(roster["pid"], roster["单位代码"]):
        orgs_of[p].add(o)
    regulated_by = defaultdict(set)
    for u, ps in anyrole.items():
        for p in ps:
            regulated_by[p].add(regulator[u])
    cases["t"] = pd.to_datetime(cases["发案时间"])
    when, where = dict(zip(cases["案件编号"], cases["t"])), dict(zip(cases["案件编号"], cases["发案地点"]))
    gamb = parties[parties["案件编号"].isin(cases.loc[cases["案由"] == "赌博", "案件编号"])]
    for o, oc in zip(gamb["pid"], gamb["案件编号"]):
        for p, pc in zip(gamb["pid"], gamb["案件编号"]):
            close = where[oc] == where[pc] and abs((when[oc] - when[pc]).total_seconds()) <= 7200
            if (oc == pc or close) and orgs_of[o] & regulated_by[p]:
                found["gambling_with_regulated"].add("Person:" + o)
    phone, addr = dict(zip(comp["统一社会信用代码"], comp["联系电话"])), dict(zip(comp["统一社会信用代码"], comp["注册地址"]))
    corp = defaultdict(set)
    for u, k, h in zip(sh["统一社会信用代码"], sh["股东类型"], sh["股东证件号码"]):
        if k == "企业法人":
            corp[u].add(h)
    for tno, g in bids.groupby("招标编号"):
        us = list(g["投标单位信用代码"])
        for i, a in enumerate(us):
            for b in us[i + 1:]:
                if (principals[a] & principals[b] or phone[a] == phone[b] or addr[a] == addr[b]
                        or corp[a] & corp[b] or a in corp[b] or b in corp[a]):
                    found["related_bidders"].add("Tender:" + tno)
    for _, c in con[con["发包方式"] != "公开招标"].iterrows():
        if principals[c["中标单位信用代码"]] & relatives[c["pid"]]:
            found["relative_direct_award"].add("Contract:" + c["合同编号"])
    found["missing_coverage"] = {"Person:" + p for p in set(dis["pid"]) - set(ben["pid"])}
    con["amt"] = con["合同金额"].astype(float)
    con["day"] = pd.to_datetime(con["签订日期"], format="%Y/%m/%d")
    band = con[(con["amt"] >= 300_000) & (con["amt"] < 400_000)]
    for u, g in band.groupby("中标单位信用代码"):
        d = sorted(g["day"])
        if any((b - a).days <= 90 for a, b in zip(d, d[1:])):
            found["split_contracts"].add("Company:" + u)
    con["town"] = con["vil"].map(town)
    for t, g in con.groupby("town"):
        if (g["发包方式"] == "直接发包").mean() > 0.3:
            found["direct_award_ratio"].add("Division:" + t)
    grouped = ben[ben["项目代码"].map(group) != ""]
    for p, g in grouped.groupby("pid"):
        rows = list(zip(g["项目代码"], g["发放起始"], g["发放截止"]))
        if any(a[0] != b[0] and group[a[0]] == group[b[0]] and a[1] <= b[2] and b[1] <= a[2]
               for a in rows for b in rows):
            found["duplicate_benefits"].add("Person:" + p)
    return found


def test_models_match_planted_violations_and_nothing_else(county):
    out, _ = county
    found = _models(out)
    gt = pd.read_csv(out / GROUND_TRUTH.name, dtype=str)
    for m in MODEL_IDS:
        g = gt[gt["model_id"] == m]
        for (vid, kind), rows in g.groupby(["violation_id", "kind"]):
            hit = bool(set(rows["entity_key"]) & found[m])
            assert hit == (kind == "violation"), (m, vid, kind)
        assert found[m] <= set(g.loc[g["kind"] == "violation", "entity_key"]), (m, found[m])
