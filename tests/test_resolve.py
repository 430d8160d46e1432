"""Entity resolution: the acceptance cases of issue 5, on real workspaces loaded from CSV files.

Each test writes a few source rows in the loaders' formats, loads them, resolves with the
packaged model (trained on two generated counties, see ``graphwatch/resolve/person_model.json``'s
``graphwatch`` entry) and checks which records ended up as one entity.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from graphwatch.ingest import load
from graphwatch.resolve import JUDGEMENTS, ResolveError, entity_members, entity_provenance, explain_pair, judge, \
    resolve, review_queue, unmerge
from graphwatch.resolve.ids import clean_resident_id, id15_to_18, make_resident_id, make_uscc
from graphwatch.resolve.names import branch_parent, company_name_key, normalise_name, person_keys
from graphwatch.store import Workspace

BAD = Path(__file__).parent / "data" / "bad"
V1, V2, V_OTHER = "140105001001", "140105001002", "140106002001"   # two villages of one county, one elsewhere
HH = "户号,姓名,公民身份号码,性别,出生日期,与户主关系,民族,住址,村代码,联系电话\n"
BEN = "发放记录号,姓名,公民身份号码,村代码,项目代码,发放金额,发放起始,发放截止,审批单位代码\n"


def pid(birth: dt.date, seq: int, region: str = "140105") -> str:
    return make_resident_id(region, birth, seq)


def county(tmp_path: Path, *, household=(), benefits=(), companies=(), contracts=(), deaths=()) -> Path:
    """Source files from row tuples (household: hh, name, id, sex, birth, village[, phone])."""
    d = tmp_path / "county"
    if d.exists():
        shutil.rmtree(d)
    d.mkdir()
    for name in ("organisations.csv", "programmes.csv"):
        (d / name).write_bytes((BAD / name).read_bytes())
    divisions = (BAD / "divisions.csv").read_text(encoding="utf-8").rstrip("\n")
    (d / "divisions.csv").write_text(divisions + "\n140106002,北关镇,乡镇,\n140106002001,北村,村,140106002\n",
                                     encoding="utf-8")
    rows = [f"{hh},{n},{i},{s},{b},户主,汉,,{v},{p[0] if p else ''}\n" for hh, n, i, s, b, v, *p in household]
    (d / "household_registry.csv").write_text(HH + "".join(rows), encoding="utf-8")
    if benefits:
        (d / "benefit_rolls.csv").write_text(BEN + "".join(
            f"{r},{n},{i},{v},DB,300,2021-01-01,2021-12-31,ORG1\n" for r, n, i, v in benefits), encoding="utf-8")
    if companies:
        (d / "company_registry.csv").write_text(
            "统一社会信用代码,企业名称,法定代表人,法定代表人证件号码,注册地址,联系电话,成立日期,注册资本（万元）,"
            "登记状态,行业主管部门代码\n" + "".join(f"{u},{n},,,,,2015-05-05,100,存续,ORG2\n" for u, n in companies),
            encoding="utf-8")
    if contracts:
        (d / "projects.csv").write_text("项目编号,项目名称,项目所在村代码,建设单位代码,预算金额,开工日期\n"
                                        f"P1,东村道路硬化,{V1},ORG1,1000,2021-01-01\n", encoding="utf-8")
        (d / "contracts.csv").write_text(
            "合同编号,招标编号,项目编号,中标单位信用代码,中标单位名称,合同金额,发包方式,审批人证件号码,审批人姓名,"
            "发包单位代码,签订日期\n" + "".join(f"{c},,P1,{u},{n},1000,直接发包,,,ORG1,2021-03-03\n"
                                                for c, u, n in contracts), encoding="utf-8")
    if deaths:
        (d / "death_records.csv").write_text("姓名,公民身份号码,死亡日期,注销户口日期,登记单位\n" + "".join(
            f"{n},{i},2022-02-02,,ORG1\n" for n, i in deaths), encoding="utf-8")
    return d


def loaded(tmp_path: Path, **files) -> Workspace:
    ws = Workspace(tmp_path / "ws", create=True)
    load(ws, [county(tmp_path, **files)])
    return ws


def entity_of(ws: Workspace, ref: str) -> str:
    """The entity holding a source record ``dataset#record`` (one person per record here)."""
    rows = ws.con.execute("""SELECT DISTINCT m.entity FROM er_unit u JOIN er_member m USING (unit)
                             WHERE u.label = 'Person' AND (u.ref = $r OR list_contains(u.records, $rec)
                             AND u.dataset = $ds)""",
                          {"r": ref, "ds": ref.split("#")[0], "rec": ref.split("#")[1]}).fetchall()
    assert len(rows) == 1, (ref, rows)
    return rows[0][0]


HHREF = "household_registry/household_registry.csv#{}"
BENREF = "benefit_rolls/benefit_rolls.csv#{}"


# -- names and IDs --------------------------------------------------------------------------------

def test_traditional_spaced_and_full_width_names_normalise_alike():
    forms = ["陳 小明", "陈小明", "陳　小明", " 陈 小 明 ", "陳小明"]
    assert {normalise_name(f) for f in forms} == {"陈小明"}
    assert normalise_name("阿卜杜拉·买买提") == normalise_name("阿卜杜拉•买买提")
    assert person_keys("王小明")[1] == person_keys("王晓明")[1]          # same pinyin
    assert person_keys("单小明")[1].startswith("shan")                   # surname reading, not dan
    assert person_keys("肖红")[2] == person_keys("萧红")[2]                # commonly swapped surnames


def test_fifteen_digit_id_is_the_eighteen_digit_one_and_bad_values_are_rejected():
    assert id15_to_18("110105491231002") == "11010519491231002X"
    assert clean_resident_id("110105491231002")[0] == "11010519491231002X"
    assert clean_resident_id("4.40301E+17")[0] is None
    assert clean_resident_id("4.40301E+17")[1] == "float_mangled"
    bad_birth = make_resident_id("110105", dt.date(1999, 2, 28), 11)[:6] + "19990230" + "0111"
    value, status = clean_resident_id(bad_birth)
    assert value is None or status != "valid"


def test_company_names_normalise_and_branches_find_their_parent():
    assert company_name_key("山西张氏建筑有限责任公司") == company_name_key("山西张氏建筑有限公司")
    assert company_name_key("张氏建筑（太原）有限公司") == company_name_key("张氏建筑(太原)有限公司")
    assert company_name_key("太原张氏建筑有限公司") != company_name_key("大同张氏建筑有限公司")
    assert branch_parent(company_name_key("山西张氏建筑有限公司太原分公司")) == company_name_key("山西张氏建筑有限公司")
    assert branch_parent(company_name_key("山西张氏建筑有限公司")) is None


# -- persons --------------------------------------------------------------------------------------

def test_same_id_across_registries_with_traditional_and_full_width_forms_is_one_person(tmp_path):
    a = pid(dt.date(1980, 5, 5), 11)
    full_width = a.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    ws = loaded(tmp_path, household=[("H1", "陈小明", a, "男", "1980-05-05", V1)],
                benefits=[("B1", "陳 小明", full_width, V1)])
    resolve(ws)
    assert entity_of(ws, HHREF.format(2)) == entity_of(ws, BENREF.format("B1")) == f"Person:{a}"
    name, aliases = ws.con.execute("SELECT name, aliases FROM node WHERE key = ?", [f"Person:{a}"]).fetchone()
    assert name == "陈小明" and aliases == ["陳 小明"]   # the registry's name wins, the other is kept


def test_homophone_with_same_birth_and_region_matches_but_a_different_valid_id_does_not(tmp_path):
    b = dt.date(1980, 5, 5)
    a, other = pid(b, 11), pid(b, 13)
    typo = a[:17] + ("0" if a[17] != "0" else "1")                 # the check character mistyped
    assert clean_resident_id(typo)[1] == "invalid_checksum"
    ws = loaded(tmp_path, household=[("H1", "王小明", a, "男", b.isoformat(), V1),
                                     ("H2", "王大明", other, "男", b.isoformat(), V1)],
                benefits=[("B1", "王晓明", typo, V1)])
    rep = resolve(ws)
    xiaoming = entity_of(ws, HHREF.format(2))
    assert entity_of(ws, BENREF.format("B1")) == xiaoming == f"Person:{a}"
    assert entity_of(ws, HHREF.format(3)) == f"Person:{other}" != xiaoming
    assert rep.merged_by_model == 1
    why = explain_pair(ws, BENREF.format("B1"), HHREF.format(2))
    levels = {f["field"]: f["level"] for f in why["fields"]}
    assert levels["name"] == "same pinyin" and levels["birth_date"] == "same day"
    assert levels["id_number"] == "one character differs" and why["probability"] >= 0.99


def test_a_one_digit_id_typo_alone_is_only_near_match_evidence(tmp_path):
    b = dt.date(1975, 3, 9)
    a = pid(b, 11)
    typo = a[:17] + ("0" if a[17] != "0" else "1")
    ws = loaded(tmp_path, household=[("H1", "李建国", a, "男", b.isoformat(), V1)],
                benefits=[("B1", "赵秀兰", typo, V2)])
    resolve(ws)
    assert entity_of(ws, BENREF.format("B1")) != entity_of(ws, HHREF.format(2))


def test_legacy_fifteen_digit_id_links_to_the_eighteen_digit_record(tmp_path):
    a18 = id15_to_18("110105491231002")
    ws = loaded(tmp_path, household=[("H1", "刘德华", a18, "男", "1949-12-31", V1)],
                deaths=[("刘德华", "110105491231002")])
    resolve(ws)
    assert entity_of(ws, "death_records/death_records.csv#2") == entity_of(ws, HHREF.format(2)) == f"Person:{a18}"


def test_one_id_on_300_benefit_records_does_not_merge_300_people(tmp_path):
    clerk = pid(dt.date(1970, 1, 1), 21)
    given = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍鹏辉"
    names = [s + g1 + g2 for s in "赵钱孙李周吴郑" for g1 in given[:7] for g2 in given[7:14]][:300]
    assert len(set(names)) == 300
    ws = loaded(tmp_path, household=[("H1", "刘会计", clerk, "女", "1970-01-01", V1)],
                benefits=[(f"B{i}", n, clerk, V1) for i, n in enumerate(names)])
    rep = resolve(ws)
    assert [o["id"] for o in rep.overshared_ids] == [clerk]
    entities = {entity_of(ws, BENREF.format(f"B{i}")) for i in range(300)}
    assert len(entities) == 300 and f"Person:{clerk}" not in entities
    assert entity_of(ws, HHREF.format(2)) == f"Person:{clerk}"
    assert ws.con.execute("SELECT count(*) FROM node WHERE list_contains(labels, 'Person')").fetchone()[0] == 301


def test_twins_with_different_valid_ids_never_merge(tmp_path):
    b = dt.date(2001, 7, 7)
    t1, t2 = pid(b, 31), pid(b, 33)
    ws = loaded(tmp_path, household=[("H1", "王磊", t1, "男", b.isoformat(), V1, "13900000001"),
                                     ("H1", "王蕾", t2, "男", b.isoformat(), V1, "13900000001")])
    resolve(ws)
    assert entity_of(ws, HHREF.format(2)) != entity_of(ws, HHREF.format(3))
    done = judge(ws, HHREF.format(2), HHREF.format(3), "unsure", who="tester", why="twins?")
    assert entity_of(ws, HHREF.format(2)) != entity_of(ws, HHREF.format(3))
    assert (done.judgement, done.one_entity, done.kept_apart_by, done.evidence) == \
        ("unsure", False, "different_ids", (t1, t2))
    # a "same" judgement is recorded, but two different valid IDs still keep the twins apart
    done = judge(ws, HHREF.format(3), HHREF.format(2), "same", who="tester", why="looked alike")
    assert entity_of(ws, HHREF.format(2)) != entity_of(ws, HHREF.format(3))
    assert (done.a, done.b, done.one_entity, done.kept_apart_by) == \
        (HHREF.format(3), HHREF.format(2), False, "different_ids")
    assert (done.entity_a, done.entity_b) == (f"Person:{t2}", f"Person:{t1}") and done.evidence == (t2, t1)
    line = done.describe()
    assert "\n" not in line and "recorded same" in line and "stay two entities" in line and t1 in line
    assert "已记录“相同”" in line and "身份证号不同" in line and "仍为两个实体" in line
    assert explain_pair(ws, HHREF.format(2), HHREF.format(3))["judgement"]["judgement"] == "same"


def test_a_chain_cannot_join_two_different_valid_ids(tmp_path):
    b = dt.date(1990, 1, 2)
    a, c = pid(b, 41), pid(b, 43)
    # A and C: two 赵强 born the same day in one village with different IDs; B: a 赵强 with no ID
    # who matches both on name, birth date, sex and village
    ws = loaded(tmp_path, household=[("H1", "赵强", a, "男", b.isoformat(), V1),
                                     ("H2", "赵强", c, "男", b.isoformat(), V1),
                                     ("H3", "赵强", "", "男", b.isoformat(), V1)])
    A, C, B = HHREF.format(2), HHREF.format(3), HHREF.format(4)
    rep = resolve(ws)
    assert explain_pair(ws, A, B)["probability"] >= 0.99 and explain_pair(ws, C, B)["probability"] >= 0.99
    ea, ec, eb = entity_of(ws, A), entity_of(ws, C), entity_of(ws, B)
    assert ea != ec and eb not in (ea, ec)
    assert rep.ambiguous == 2                                  # B's two likely pairs go to review, not merge
    queue = review_queue(ws)
    assert set(zip(queue.a, queue.b)) | set(zip(queue.b, queue.a)) >= {(A, B), (C, B)}
    # "same" B~A by hand; B~C cannot then follow, as A and C hold different IDs
    done = judge(ws, B, A, "same", who="tester", why="visited")
    assert entity_of(ws, B) == entity_of(ws, A)
    assert done.one_entity and done.kept_apart_by is None and done.entity_a == done.entity_b == f"Person:{a}"
    assert done.describe().startswith(f"recorded same: {B} ≡ {A}; now one entity Person:{a} · 已记录“相同”")
    done = judge(ws, B, C, "same", who="tester", why="mistake")
    assert entity_of(ws, B) == entity_of(ws, A) != entity_of(ws, C)
    assert not done.one_entity and done.kept_apart_by == "different_ids" and done.evidence == (a, c)


def test_common_name_same_birth_in_two_regions_without_ids_goes_to_review(tmp_path):
    ws = loaded(tmp_path, household=[("H1", "张伟", "", "男", "1985-03-03", V1),
                                     ("H2", "张伟", "", "男", "1985-03-03", V_OTHER)])
    rep = resolve(ws)
    a, b = HHREF.format(2), HHREF.format(3)
    assert entity_of(ws, a) != entity_of(ws, b)
    why = explain_pair(ws, a, b)
    assert 0.5 <= why["probability"] < 0.99, why
    assert rep.review_pairs == 1
    score, = ws.con.execute("SELECT score FROM rel WHERE type = 'SAME_AS'").fetchone()
    assert score == pytest.approx(why["probability"])


def test_review_pairs_are_one_list_and_never_two_different_valid_ids(tmp_path):
    # 梁喜 (1955) and 梁曦 (2007) hold different valid IDs in one village; a roll names each
    # without an ID. Each roll record has its spelling's only holder in the village, but the
    # names share a pinyin, so each record also scores in the review band with the other
    # holder: the spelling alone does not say who it is (a roll typed by ear), both stay in
    # review — and the two holders themselves are never a pair to review
    x, y = pid(dt.date(1955, 3, 1), 11), pid(dt.date(2007, 8, 9), 13)
    ws = loaded(tmp_path, household=[("H1", "梁喜", x, "男", "1955-03-01", V1), ("H2", "梁曦", y, "男", "2007-08-09", V1),
                                     ("H3", "张伟", "", "男", "1985-03-03", V1), ("H4", "张伟", "", "男", "1985-03-03", V_OTHER)],
                benefits=[("B1", "梁喜", "", V1), ("B2", "梁曦", "", V1)])
    rep = resolve(ws)
    b1, b2 = entity_of(ws, BENREF.format("B1")), entity_of(ws, BENREF.format("B2"))
    assert not {b1, b2} & {f"Person:{x}", f"Person:{y}"} and rep.village_doubt == 2
    assert 0.5 <= explain_pair(ws, BENREF.format("B1"), HHREF.format(3))["probability"] < 0.99

    def queue_pairs():
        q = review_queue(ws, limit=None)
        same_as = ws.con.execute("SELECT count(*) FROM rel WHERE type = 'SAME_AS'").fetchone()[0]
        assert len(q) == same_as
        return q, {frozenset(e) for e in zip(q.a_entity, q.b_entity)}

    queue, pairs = queue_pairs()
    assert rep.review_pairs == len(queue) == len(pairs)               # one row per pair of entities
    assert frozenset((f"Person:{x}", f"Person:{y}")) not in pairs       # never two different valid IDs
    assert {frozenset((b, h)) for b in (b1, b2) for h in (f"Person:{x}", f"Person:{y}")} <= pairs
    zhang = [i for i, (a, b) in enumerate(zip(queue.a_name, queue.b_name)) if {a, b} == {"张伟"}]
    assert len(zhang) == 1                                             # the two 张伟: one pair
    n = len(queue)
    # a judgement of the pair does not make it two pairs
    judge(ws, HHREF.format(4), HHREF.format(5), "unsure", who="tester")
    queue, pairs = queue_pairs()
    assert len(queue) == n and list(queue.judgement).count("unsure") == 1
    judge(ws, HHREF.format(4), HHREF.format(5), "not_same", who="tester")
    queue, pairs = queue_pairs()
    assert len(queue) == n - 1 and "张伟" not in set(queue.a_name) | set(queue.b_name)


def test_same_joins_entities_and_what_judge_says_is_what_the_graph_shows(tmp_path):
    # issue 14: "same" on two roll records the registry tied to two different ID holders said
    # "now one entity" (one record had been taken from its holder, so the count stayed), and
    # "unsure" right after said they were "still two entities … different valid IDs"
    x, y = pid(dt.date(1935, 10, 24), 11), pid(dt.date(1955, 9, 3), 12)
    ws = loaded(tmp_path, household=[("H1", "张淑芝", x, "女", "1935-10-24", V1), ("H2", "袁兰英", y, "女", "1955-09-03", V2)],
                benefits=[("B1", "张淑芝", "", V1), ("B2", "袁兰英", "", V2), ("B3", "孙桂英", "", V1),
                          ("B4", "孙桂英", "", V_OTHER)])
    resolve(ws)
    b1, b2, b3, b4 = (BENREF.format(f"B{k}") for k in range(1, 5))
    persons = lambda: ws.counts()["labels"]["Person"]  # noqa: E731
    graph, n = _person_graph(ws), persons()
    assert (entity_of(ws, b1), entity_of(ws, b2)) == (f"Person:{x}", f"Person:{y}")
    done = judge(ws, b2, b1, "same", who="tester")
    assert (done.one_entity, done.kept_apart_by, done.evidence) == (False, "different_ids", (y, x))
    assert "but they stay two entities: they hold different valid IDs" in done.describe()
    assert _person_graph(ws) == graph and persons() == n          # nothing moved
    done = judge(ws, b2, b1, "unsure", who="tester")
    assert not done.one_entity and "; still two entities: they hold different valid IDs" in done.describe()
    assert _person_graph(ws) == graph
    # a "same" that joins: two entities become one, and the graph has one person fewer
    assert entity_of(ws, b3) != entity_of(ws, b4)
    done = judge(ws, b3, b4, "same", who="tester")
    assert done.one_entity and "; now one entity" in done.describe() and persons() == n - 1
    assert entity_of(ws, b3) == entity_of(ws, b4) == done.entity_a
    done = judge(ws, b3, b4, "same", who="tester")
    assert done.one_entity and "; still one entity" in done.describe() and persons() == n - 1
    done = judge(ws, b3, b4, "unsure", who="tester")            # back to the model: two again
    assert not done.one_entity and "the model decides: now two entities" in done.describe()
    assert persons() == n and _person_graph(ws) == graph


def test_name_and_village_alone_link_only_the_sole_holder(tmp_path):
    a = pid(dt.date(1950, 6, 6), 51)
    ws = loaded(tmp_path, household=[("H1", "孙桂英", a, "女", "1950-06-06", V1)],
                benefits=[("B1", "孙桂英", "", V1), ("B2", "孙桂英", "", V2)])
    rep = resolve(ws)
    assert entity_of(ws, BENREF.format("B1")) == f"Person:{a}"          # the only 孙桂英 in her village
    assert entity_of(ws, BENREF.format("B2")) != f"Person:{a}"          # another village's 孙桂英
    assert rep.merged_by_village == 1




def _homophones(tmp_path, *, with_yu: bool = True) -> dict:
    """李佳雨 (F, a) and — if ``with_yu`` — 李佳宇 (M, b: the same pinyin, li jia yu) registered
    in village V1; an ID-less 李佳雨 on the roll there (B1, the seed-11 detection false
    positive: truly 李佳宇's, typed as a homophone); 孙桂英 (c) alone with her name and
    no homophone in V1, and her ID-less roll record (B2)."""
    a, b, c = pid(dt.date(1996, 10, 25), 62), pid(dt.date(1992, 1, 27), 39), pid(dt.date(1950, 6, 6), 52)
    household = [("H1", "李佳雨", a, "女", "1996-10-25", V1), ("H3", "孙桂英", c, "女", "1950-06-06", V1)]
    if with_yu:
        household.append(("H2", "李佳宇", b, "男", "1992-01-27", V1))
    return dict(files=dict(household=household, benefits=[("B1", "李佳雨", "", V1), ("B2", "孙桂英", "", V1)]),
                a=a, b=b, c=c)


def test_a_homophone_holder_in_the_village_leaves_the_sole_holder_in_doubt(tmp_path):
    h = _homophones(tmp_path)
    ws = loaded(tmp_path, **h["files"])
    rep = resolve(ws)
    b1 = entity_of(ws, BENREF.format("B1"))
    # 李佳雨 is the only holder of that spelling in V1, but 李佳宇 sounds the same: the roll
    # record may be either, so it joins neither and both links go to review (SAME_AS)
    assert b1 not in (f"Person:{h['a']}", f"Person:{h['b']}")
    assert (rep.village_doubt, rep.merged_by_village) == (1, 1)
    assert entity_of(ws, BENREF.format("B2")) == f"Person:{h['c']}"    # no homophone: still the holder's
    same_as = {tuple(sorted(r)) for r in ws.con.execute("SELECT entity_a, entity_b FROM er_review").fetchall()}
    assert {tuple(sorted((b1, f"Person:{h['a']}"))), tuple(sorted((b1, f"Person:{h['b']}")))} <= same_as
    assert ws.con.execute("""SELECT count(*) FROM rel r JOIN node n ON n.nid IN (r.src, r.dst)
                             WHERE r.type = 'SAME_AS' AND n.key = ?""", [b1]).fetchone()[0] == 2
    # a reviewer's "same" settles it
    judge(ws, BENREF.format("B1"), HHREF.format(4), "same", who="test")     # H2 is line 4
    assert entity_of(ws, BENREF.format("B1")) == f"Person:{h['b']}"


def test_a_load_that_registers_a_homophone_puts_the_village_link_in_doubt(tmp_path):
    before = _homophones(tmp_path, with_yu=False)
    ws = loaded(tmp_path, **before["files"])
    resolve(ws)
    assert entity_of(ws, BENREF.format("B1")) == f"Person:{before['a']}"   # sole holder, nobody else
    after = _homophones(tmp_path)
    load(ws, [county(tmp_path, **after["files"])])                       # 李佳宇 registered in V1
    assert entity_of(ws, BENREF.format("B1")) not in (f"Person:{after['a']}", f"Person:{after['b']}")
    assert entity_of(ws, BENREF.format("B2")) == f"Person:{after['c']}"
    fresh = Workspace(tmp_path / "fresh", create=True)                  # what a full resolve decides
    load(fresh, [county(tmp_path, **after["files"])])
    resolve(fresh)
    assert _person_graph(fresh) == _person_graph(ws)
# -- judgements, un-merge, provenance, stability --------------------------------------------------

def test_not_same_judgement_survives_reruns_and_reloads(tmp_path):
    a = pid(dt.date(1950, 6, 6), 51)
    files = dict(household=[("H1", "孙桂英", a, "女", "1950-06-06", V1)], benefits=[("B1", "孙桂英", "", V1)])
    ws = loaded(tmp_path, **files)
    resolve(ws)
    assert entity_of(ws, BENREF.format("B1")) == f"Person:{a}"
    done = judge(ws, BENREF.format("B1"), HHREF.format(2), "not_same", who="检查员甲",
                 why="different person, checked")
    assert entity_of(ws, BENREF.format("B1")) != f"Person:{a}"
    assert (done.one_entity, done.kept_apart_by, done.entity_b) == (False, "not_same", f"Person:{a}")
    assert "now two entities" in done.describe() and "已记录“不同”" in done.describe()
    resolve(ws)                                         # a full re-run re-scores: the judgement still wins
    assert entity_of(ws, BENREF.format("B1")) != f"Person:{a}"
    load(ws, [county(tmp_path, **files)])               # a reload keeps resolution and judgements
    assert entity_of(ws, BENREF.format("B1")) != f"Person:{a}"
    same = dict(files, benefits=[("B1", "孫桂英", "", V1)])      # changed, but compared alike: not scored again
    done = next(r for r in load(ws, [county(tmp_path, **same)]) if r.format == "resolution").resolution
    assert (done.records, done.touched_units, done.apart) == (1, 0, 1)
    typo = a[:17] + ("0" if a[17] != "0" else "1")              # her ID, mistyped: scored and clustered again
    done = next(r for r in load(ws, [county(tmp_path, **dict(files, benefits=[("B1", "孙桂英", typo, V1)]))])
                if r.format == "resolution").resolution
    assert (done.records, done.touched_units, done.merged, done.apart) == (1, 1, 0, 1)
    assert entity_of(ws, BENREF.format("B1")) != f"Person:{a}"
    resolve(ws)
    assert entity_of(ws, BENREF.format("B1")) != f"Person:{a}"
    j = explain_pair(ws, BENREF.format("B1"), HHREF.format(2))["judgement"]
    assert (j["judgement"], j["who"], j["why"]) == ("not_same", "检查员甲", "different person, checked")
    with pytest.raises(ResolveError, match="must be one of"):
        judge(ws, BENREF.format("B1"), HHREF.format(2), "maybe")
    assert set(JUDGEMENTS) == {"same", "not_same", "unsure"}


def test_a_same_judgement_against_an_earlier_not_same_says_which_kept_them_apart(tmp_path):
    # three 孙桂英 without IDs in three villages: the model leaves them apart, people decide
    ws = loaded(tmp_path, household=[("H1", "李四", pid(dt.date(1960, 1, 1), 11), "男", "1960-01-01", V1)],
                benefits=[("B1", "孙桂英", "", V1), ("B2", "孙桂英", "", V2), ("B3", "孙桂英", "", V_OTHER)])
    resolve(ws)
    b1, b2, b3 = (BENREF.format(f"B{k}") for k in (1, 2, 3))
    assert len({entity_of(ws, b1), entity_of(ws, b2), entity_of(ws, b3)}) == 3
    assert judge(ws, b1, b3, "not_same", who="tester").kept_apart_by == "not_same"
    assert judge(ws, b1, b2, "same", who="tester").one_entity
    done = judge(ws, b2, b3, "same", who="tester")
    assert not done.one_entity and done.kept_apart_by == "not_same" and set(done.evidence) == {b1, b3}
    assert '"not same" was judged between' in done.describe() and "已判定为不同" in done.describe()
    recorded = judge(ws, b2, b3, "unsure", who="tester", apply=False)
    assert not recorded.reclustered and "not re-clustered yet" in recorded.describe()


def _person_graph(ws):
    nodes = ws.con.execute("SELECT key, name FROM node WHERE list_contains(labels, 'Person') ORDER BY key").fetchall()
    rels = ws.con.execute("""SELECT r.type, r.dataset, r.record, s.key, d.key FROM rel r JOIN node s ON s.nid = r.src
                             JOIN node d ON d.nid = r.dst WHERE r.type <> 'SAME_AS' ORDER BY ALL""").fetchall()
    return nodes, rels


def test_unmerge_restores_every_source_record(tmp_path):
    a = pid(dt.date(1950, 6, 6), 51)
    ws = loaded(tmp_path, household=[("H1", "孙桂英", a, "女", "1950-06-06", V1)],
                benefits=[("B1", "孙桂英", "", V1), ("B2", "孫桂英", a, V1)], deaths=[("孙桂英", a)])
    before_nodes, before_rels = _person_graph(ws)
    resolve(ws)
    members = entity_members(ws, f"Person:{a}")
    assert len(members) == 4                            # household, two roll entries, death record
    prov = entity_provenance(ws, f"Person:{a}")
    assert {v["dataset"] for v in prov["name"]} == {"household_registry/household_registry.csv",
                                                   "benefit_rolls/benefit_rolls.csv", "death_records/death_records.csv"}
    received = ws.con.execute("""SELECT count(*) FROM rel r JOIN node n ON n.nid = r.dst OR n.nid = r.src
                                 WHERE n.key = ? AND r.dataset LIKE 'benefit%'""", [f"Person:{a}"]).fetchone()[0]
    assert received == 2                                # both payments now reach the one person
    assert unmerge(ws, f"Person:{a}", who="tester") == 4
    after = {entity_of(ws, r) for r in (HHREF.format(2), BENREF.format("B1"), BENREF.format("B2"),
                                       "death_records/death_records.csv#2")}
    assert len(after) == 4                              # every record its own node again
    nodes, rels = _person_graph(ws)
    assert len(before_nodes) == 2 and len(nodes) == 4   # the load had merged B2 and the death record by ID
    # each relationship row is attached to the node of the record that stated it
    person_rels = [(ds, rec, {s, d}) for _, ds, rec, s, d in rels
                   if ds.startswith(("benefit", "death")) and (s.startswith("Person:") or d.startswith("Person:"))]
    assert len(person_rels) == 3                        # two payments, one death
    for ds, rec, ends in person_rels:
        assert entity_of(ws, f"{ds}#{rec}") in ends
    resolve(ws)                                         # and stays split on the next run
    assert len({entity_of(ws, r) for r in (HHREF.format(2), BENREF.format("B1"))}) == 2


def test_a_load_keeps_resolution_and_ids_are_stable_across_reruns(tmp_path):
    a = pid(dt.date(1950, 6, 6), 51)
    files = dict(household=[("H1", "孙桂英", a, "女", "1950-06-06", V1)], benefits=[("B1", "孙桂英", "", V1)])
    ws = loaded(tmp_path, **files)
    unresolved = _person_graph(ws)
    load(ws, [county(tmp_path, **files)])               # a workspace never resolved stays unresolved
    assert _person_graph(ws) == unresolved
    resolve(ws)
    first = _person_graph(ws)
    nids = ws.con.execute("SELECT key, nid FROM node ORDER BY key").fetchall()
    assert first != unresolved and len(first[0]) == 1
    resolve(ws)
    assert _person_graph(ws) == first
    assert ws.con.execute("SELECT key, nid FROM node ORDER BY key").fetchall() == nids
    from graphwatch.store import unapply_resolution
    ws.con.execute("BEGIN TRANSACTION")                  # undone, every record on its own node again
    assert unapply_resolution(ws.con, list(ws.schema.node_properties))
    assert _person_graph(ws) == unresolved
    ws.con.execute("ROLLBACK")
    results = load(ws, [county(tmp_path, **files)])     # a reload keeps the entities
    assert _person_graph(ws) == first
    assert ws.con.execute("SELECT key, nid FROM node ORDER BY key").fetchall() == nids
    done = next(r for r in results if r.format == "resolution").resolution
    assert (done.records, done.merged, done.review, done.apart, done.touched_units) == (0, 0, 0, 0, 0)


CLERK = pid(dt.date(1970, 1, 1), 21)


def split_county(tmp_path: Path) -> Path:
    """A payroll listing four people under one ID (a clerk's): the four rows state one
    ON_PAYROLL fact, but name four different people."""
    d = county(tmp_path, household=[("H1", "刘会计", CLERK, "男", "1970-01-01", V1)])
    (d / "fiscal_payroll.csv").write_text("姓名,公民身份号码,单位代码,岗位,月工资,起始日期,截止日期\n" + "".join(
        f"{n},{CLERK},ORG1,保洁,2000,2020-01-01,\n" for n in ("李一", "王二", "赵三", "钱四")), encoding="utf-8")
    return d


def payroll(ws):
    return ws.con.execute("""SELECT n.name, r.rid, r.record, r.records FROM rel r JOIN node n ON n.nid = r.src
        WHERE r.type = 'ON_PAYROLL' ORDER BY r.record""").fetchall()


def test_a_fact_whose_rows_name_different_people_is_split_and_whole_again_unresolved(tmp_path):
    from graphwatch.store import restore_record_endpoints

    ws = Workspace(tmp_path / "ws", create=True)
    load(ws, [split_county(tmp_path)])
    (fact,) = payroll(ws)
    assert fact[2:] == ("2", ["2", "3", "4", "5"])           # one fact, four rows, on the node Person:<clerk>
    rep = resolve(ws)
    assert [o["id"] for o in rep.overshared_ids] == [CLERK]
    parts = payroll(ws)
    assert [(name, rec, recs) for name, _, rec, recs in parts] == [
        ("李一", "2", ["2"]), ("王二", "3", ["3"]), ("赵三", "4", ["4"]), ("钱四", "5", ["5"])]
    assert len({rid for _, rid, _, _ in parts}) == 4 and parts[0][1] == fact[1]   # the first row's part keeps the id
    for name, _, rec, _ in parts:                            # each row is evidence for the person it named
        person = entity_of(ws, f"fiscal_payroll/fiscal_payroll.csv#{rec}")
        assert ws.con.execute("SELECT name FROM node WHERE key = ?", [person]).fetchone()[0] == name
    assert entity_of(ws, HHREF.format(2)) == f"Person:{CLERK}"      # the ID is its owner's, the clerk's
    assert f"Person:{CLERK}" not in {entity_of(ws, f"fiscal_payroll/fiscal_payroll.csv#{r}") for r in "2345"}
    resolve(ws)                                              # again: the same parts, the same ids
    assert payroll(ws) == parts
    load(ws, [split_county(tmp_path)])                       # a reload: the same
    assert payroll(ws) == parts
    ws.con.execute("BEGIN TRANSACTION")                      # undone: one fact with its four rows again
    restore_record_endpoints(ws.con)
    assert ws.con.execute("SELECT rid, record, records FROM rel WHERE type = 'ON_PAYROLL'").fetchall() == [fact[1:]]
    assert ws.con.execute("SELECT count(*) FROM er_rel_orig").fetchone()[0] == 0
    ws.con.execute("ROLLBACK")
    assert payroll(ws) == parts


def test_datasets_keep_their_places_and_a_new_one_takes_the_middle_of_its_gap():
    import duckdb

    from graphwatch.resolve.prepare import PLACE_SPACING, place_datasets

    con = duckdb.connect()
    con.execute("CREATE TABLE units (priority INTEGER, dataset VARCHAR)")
    con.execute("CREATE TABLE places (priority INTEGER, dataset VARCHAR, place BIGINT)")
    con.execute("INSERT INTO units VALUES (10, 'household'), (40, 'benefit_a'), (40, 'benefit_c')")
    assert not place_datasets(con, "units", "places")       # nothing placed before: all placed afresh
    places = lambda: dict(((p, d), pl) for p, d, pl in con.execute("SELECT * FROM places").fetchall())  # noqa: E731
    first = places()
    assert sorted(first, key=first.get) == [(10, "household"), (40, "benefit_a"), (40, "benefit_c")]
    con.execute("INSERT INTO units VALUES (40, 'benefit_b'), (5, 'roster'), (90, 'vehicles')")
    assert place_datasets(con, "units", "places")           # room everywhere: the others keep their places
    now = places()
    assert {k: now[k] for k in first} == first
    assert sorted(now, key=now.get) == [(5, "roster"), (10, "household"), (40, "benefit_a"), (40, "benefit_b"),
                                        (40, "benefit_c"), (90, "vehicles")]
    assert now[(40, "benefit_b")] == (first[(40, "benefit_a")] + first[(40, "benefit_c")]) // 2
    for k in range(PLACE_SPACING.bit_length() + 1):           # squeeze datasets in until no gap is left
        con.execute("INSERT INTO units VALUES (40, ?)", ["benefit_a" + "0" * (k + 1)])
        if not place_datasets(con, "units", "places"):
            break
    else:
        raise AssertionError("the gap never ran out")
    final = places()                                          # then all are placed again, in order
    order = con.execute("SELECT priority, dataset FROM (SELECT DISTINCT * FROM units) ORDER BY priority, dataset")\
        .fetchall()
    assert sorted(final, key=final.get) == [tuple(r) for r in order]
    assert sorted(final.values()) == [PLACE_SPACING * (i + 1) for i in range(len(order))]


# -- the prior ------------------------------------------------------------------------------------

def test_the_prior_is_measured_on_the_workspace_not_taken_from_the_training_county(tmp_path):
    import json

    from graphwatch.resolve.model import DEFAULT_MODEL
    from graphwatch.resolve.score import PRIOR_PSEUDO_UNITS, estimated_prior
    from graphwatch.synth import generate_county

    # the share of random pairs of ID-holding units that share the ID
    assert estimated_prior(1000, 999) == pytest.approx(999 / (1000 * 999 / 2))
    assert estimated_prior(1000, 0) == pytest.approx(0.5 / (1000 * 999 / 2))
    packaged = json.loads(DEFAULT_MODEL.read_text(encoding="utf-8"))["probability_two_random_records_match"]
    # a handful of hand-made records: the model's prior, nearly unchanged
    tiny = resolve(loaded(tmp_path, household=[("H1", "孙桂英", pid(dt.date(1950, 6, 6), 51), "女", "1950-06-06", V1)],
                          benefits=[("B1", "孙桂英", pid(dt.date(1950, 6, 6), 51), V1)])).prior
    assert tiny["model_prior"] == packaged and tiny["weight"] == pytest.approx(2 / (2 + PRIOR_PSEUDO_UNITS))
    assert packaged < tiny["prior"] < 1.1 * packaged
    # a generated county: its own prior, a few thousand records have their say
    generate_county(tmp_path / "gen", persons=3000, seed=4)
    ws = Workspace(tmp_path / "ws_gen", create=True)
    load(ws, [tmp_path / "gen"])
    rep = resolve(ws)
    units, id_units, shared = (rep.prior[k] for k in ("units", "id_units", "shared_id_pairs"))
    assert 0.8 * units < id_units < units and shared > 0
    assert rep.prior["estimate"] == pytest.approx(shared / (id_units * (id_units - 1) / 2))
    assert rep.prior["estimate"] > 20 * packaged       # 4 500 statements, not the training county's size
    assert packaged < rep.prior["prior"] < rep.prior["estimate"]
    stored = json.loads(ws.con.execute("SELECT report FROM er_run WHERE applied").fetchone()[0])["prior"]
    assert stored["prior"] == pytest.approx(rep.prior["prior"])
    assert resolve(ws, model_prior=True).prior["prior"] == packaged   # the old behaviour, to compare


# -- companies ------------------------------------------------------------------------------------

def test_company_suffix_variants_with_one_uscc_merge_and_namesakes_elsewhere_do_not(tmp_path):
    u1, u2, u3 = make_uscc("91140105MA0ABC123"), make_uscc("91140200MA0ABC456"), make_uscc("91140105MA0ABC789")
    ws = loaded(tmp_path, household=[("H1", "张伟", pid(dt.date(1985, 1, 1), 11), "男", "1985-01-01", V1)],
                companies=[(u1, "太原张氏建筑有限公司"), (u2, "大同张氏建筑有限公司"),
                           (u3, "太原张氏建筑有限公司迎泽分公司")],
                contracts=[("C1", u1, "太原张氏建筑有限责任公司"), ("C2", u1, "太原張氏建築有限公司")])
    rep = resolve(ws)
    rows = dict(ws.con.execute("SELECT key, aliases FROM node WHERE list_contains(labels, 'Company')").fetchall())
    assert set(rows) == {f"Company:{u1}", f"Company:{u2}", f"Company:{u3}"}
    assert set(rows[f"Company:{u1}"]) == {"太原张氏建筑有限责任公司", "太原張氏建築有限公司"}
    branch = ws.con.execute("""SELECT s.key, d.key FROM rel r JOIN node s ON s.nid = r.src JOIN node d ON d.nid = r.dst
                               WHERE r.type = 'BRANCH_OF'""").fetchall()
    assert branch == [(f"Company:{u3}", f"Company:{u1}")] and rep.branches == 1


def test_read_only_and_unknown_references_give_clear_errors(tmp_path):
    ws = loaded(tmp_path, household=[("H1", "张伟", pid(dt.date(1985, 1, 1), 11), "男", "1985-01-01", V1)])
    ws.close()
    with Workspace(tmp_path / "ws", read_only=True) as ro:
        with pytest.raises(ResolveError, match="not resolved yet: run .graphwatch resolve --workspace"):
            review_queue(ro)
        with pytest.raises(ResolveError, match="read-only"):
            resolve(ro)
    with Workspace(tmp_path / "ws") as rw:
        resolve(rw)
        with pytest.raises(ResolveError, match="no source record"):
            judge(rw, "nowhere#1", HHREF.format(2), "same")
        with pytest.raises(ResolveError, match="no resolved entity"):
            unmerge(rw, "Person:nobody")


# -- the resolved graph on Neo4j --------------------------------------------------------------------

def test_resolved_graph_with_same_as_and_aliases_is_the_same_on_neo4j(tmp_path, neo4j_ws):
    from graphwatch.engines.duckdb import DuckDBEngine
    from graphwatch.engines.neo4j import Neo4jEngine
    from graphwatch.neo4j.connection import Neo4jTarget
    from graphwatch.neo4j.push import push

    u1 = make_uscc("91140105MA0ABC123")
    ws = loaded(tmp_path, household=[("H1", "张伟", "", "男", "1985-03-03", V1),
                                     ("H2", "张伟", "", "男", "1985-03-03", V_OTHER),
                                     ("H3", "陈小明", pid(dt.date(1980, 5, 5), 11), "男", "1980-05-05", V1)],
                benefits=[("B1", "陳 小明", pid(dt.date(1980, 5, 5), 11), V1)],
                companies=[(u1, "太原张氏建筑有限公司")], contracts=[("C1", u1, "太原张氏建筑有限责任公司")])
    resolve(ws)
    ws.close()
    target = Neo4jTarget.resolve(neo4j_ws)
    push(tmp_path / "ws", target, clear=True)
    query = """MATCH (a:Person)-[s:SAME_AS]-(b:Person) RETURN a.name AS a, b.name AS b, s.score AS score,
               s.dataset AS ds ORDER BY a, b"""
    aliases = "MATCH (n) WHERE size(n.aliases) > 0 RETURN n.key AS key, n.aliases AS aliases ORDER BY key"
    with DuckDBEngine(tmp_path / "ws") as duck, Neo4jEngine(target=target) as neo:
        same_as, with_aliases = (duck.run(q).rows for q in (query, aliases))
        assert neo.run(query).rows == same_as and neo.run(aliases).rows == with_aliases
    assert [(a, b, ds) for a, b, _, ds in same_as] == [("张伟", "张伟", "derived:resolve")] * 2   # both directions
    assert all(0.5 <= score < 0.99 for _, _, score, _ in same_as)
    assert with_aliases == [(f"Company:{u1}", ["太原张氏建筑有限责任公司"]),
                            (f"Person:{pid(dt.date(1980, 5, 5), 11)}", ["陳 小明"])]


def test_split_facts_are_the_same_on_neo4j(tmp_path, neo4j_ws):
    from graphwatch.engines.duckdb import DuckDBEngine
    from graphwatch.engines.neo4j import Neo4jEngine
    from graphwatch.neo4j.connection import Neo4jTarget
    from graphwatch.neo4j.push import push

    ws = Workspace(tmp_path / "ws", create=True)
    load(ws, [split_county(tmp_path)])
    resolve(ws)
    ws.close()
    target = Neo4jTarget.resolve(neo4j_ws)
    push(tmp_path / "ws", target, clear=True)
    query = """MATCH (p:Person)-[r:ON_PAYROLL]->(o:Organisation)
               RETURN p.name AS name, p.key AS person, r.record AS record, r.records AS records, o.key AS org
               ORDER BY record"""
    with DuckDBEngine(tmp_path / "ws") as duck, Neo4jEngine(target=target) as neo:
        rows = duck.run(query, bindings=True)
        assert neo.run(query).rows == rows.rows
        assert neo.run(query, bindings=True).bindings == rows.bindings
    assert [(name, rec, recs) for name, _, rec, recs, _ in rows.rows] == [
        ("李一", "2", ["2"]), ("王二", "3", ["3"]), ("赵三", "4", ["4"]), ("钱四", "5", ["5"])]
    assert len({person for _, person, _, _, _ in rows.rows}) == 4


def test_cli_resolve_and_review(tmp_path):
    from click.testing import CliRunner

    from graphwatch.cli import main

    a = pid(dt.date(1950, 6, 6), 51)
    ws = loaded(tmp_path, household=[("H1", "孙桂英", a, "女", "1950-06-06", V1),
                                     ("H2", "张伟", "", "男", "1985-03-03", V1),
                                     ("H3", "张伟", "", "男", "1985-03-03", V_OTHER)],
                benefits=[("B1", "孙桂英", "", V1)])
    ws.close()
    w = str(tmp_path / "ws")
    run = CliRunner().invoke
    r = run(main, ["resolve", "-w", w])
    assert r.exit_code == 0, r.output
    assert "4 person records → 3 persons" in r.output and "同村唯一同名" in r.output
    r = run(main, ["review", "-w", w])
    assert r.exit_code == 0 and HHREF.format(3) in r.output and HHREF.format(4) in r.output, r.output
    r = run(main, ["review", "-w", w, "--explain", HHREF.format(3), HHREF.format(4)])
    assert r.exit_code == 0 and "another county" in r.output and "same day" in r.output, r.output
    r = run(main, ["review", "-w", w, "--not-same", HHREF.format(3), HHREF.format(4), "--why", "两个人"])
    assert r.exit_code == 0 and "recorded not same" in r.output, r.output
    assert "review queue is empty" in run(main, ["review", "-w", w]).output
    r = run(main, ["review", "-w", w, "--show", f"Person:{a}"])
    assert r.exit_code == 0 and "2 source record(s)" in r.output, r.output
    r = run(main, ["review", "-w", w, "--unmerge", f"Person:{a}"])
    assert r.exit_code == 0 and "split into its 2 source records" in r.output, r.output
    r = run(main, ["review", "-w", w, "--same", "nowhere#1", HHREF.format(2)])
    assert r.exit_code == 2 and "no source record" in r.output
