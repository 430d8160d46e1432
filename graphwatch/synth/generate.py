"""The synthetic county generator: orchestration and output.

The county is generated a chunk of whole townships at a time (about 150 000 persons), and
every file is appended to as each chunk finishes, so memory stays flat however many
persons are asked for.  All randomness comes from numpy Generators seeded from
``(seed, chunk, purpose)``: the same seed gives byte-identical CSV files.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Callable

import numpy as np

from . import calendar as C
from . import dirt
from .chunk import (DIRECT_RATIO_THRESHOLD, GAMBLING_WINDOW_MIN, METHODS, PROGRAMMES, SPLIT_BAND_LOW,
                    SPLIT_WINDOW_DAYS, TENDER_THRESHOLD, Chunk)
from . import names as N
from .county import build_county, chunk_townships
from .plants import PLANTERS, ratio_truth
from .population import REL, IdState
from .spec import GROUND_TRUTH, PARAMS_FILE, PERSON_RECORDS, SOURCE_FILES
from .writers import CsvSink, XlsxSink
from ..exc import GraphwatchError

CHUNK_PERSONS = 150_000
MIN_PERSONS = 1000


class CountyTooSmall(GraphwatchError, ValueError):
    """The requested county has too few persons for the planted cases."""
# the order plants run in; contract-making plants first so township ratios can absorb them
PLANT_ORDER = ["own_village_project", "relative_direct_award", "related_bidders", "split_contracts",
               "relative_beneficiary", "deceased_beneficiary", "payroll_on_welfare", "poor_with_assets",
               "cadre_subsidy", "missing_coverage", "duplicate_benefits", "gambling_with_regulated"]
_WIN_NEWLINE = {"gbk", "gb18030"}      # Windows-made exports: CRLF line ends


def planted_per_model(persons: int) -> int:
    return max(2, round(persons / 20_000))


class _Generator:
    def __init__(self, out_dir: Path, persons: int, seed: int, progress):
        self.out = Path(out_dir)
        self.out.mkdir(parents=True, exist_ok=True)
        (self.out / "_truth").mkdir(exist_ok=True)
        self.persons = persons
        self.seed = seed
        self.progress = progress
        rng0 = np.random.default_rng([seed, 1])
        self.rng_out = np.random.default_rng([seed, 2])
        self.county = build_county(persons, rng0)
        self.ids = IdState(self.county, rng0)
        self.company_names: set[str] = set()
        self.plates: set[str] = set()
        self.addr_no = 100
        self.seq = {k: 0 for k in ("project", "tender", "contract", "benefit", "case", "estate", "roster")}
        self.vseq: dict[tuple[str, str], int] = {}
        self.k_models = planted_per_model(persons)
        self.sinks: dict[str, CsvSink | XlsxSink] = {}
        for name, spec in SOURCE_FILES.items():
            if spec.format == "csv":
                nl = "\r\n" if spec.encoding in _WIN_NEWLINE else "\n"
                self.sinks[name] = CsvSink(self.out, spec, newline=nl)
        c = self.county
        self.sinks["officials_roster.xlsx"] = XlsxSink(self.out, SOURCE_FILES["officials_roster.xlsx"], sheet="名册",
                                                       title=f"{c.name}公职人员及村“两委”干部名册")
        self.sinks["tenders.xlsx"] = XlsxSink(self.out, SOURCE_FILES["tenders.xlsx"], sheet="招标公告")
        self.sinks["death_records.xlsx"] = XlsxSink(self.out, SOURCE_FILES["death_records.xlsx"], sheet="死亡登记")
        self.truth = CsvSink(self.out, PERSON_RECORDS)
        self.gt_file = open(self.out / GROUND_TRUTH.name, "w", encoding="utf-8", newline="")
        self.gt = csv.writer(self.gt_file, lineterminator="\n")
        self.gt.writerow(GROUND_TRUTH.headers)
        self.gt_rows = 0

    # ---------------------------------------------------------------- static files
    def write_frame(self):
        c = self.county
        div = self.sinks["divisions.csv"]
        # the county itself first: townships and county bodies point at it
        rows = [[c.code12], [c.name], ["县"], [c.code[:4] + "00000000"]]
        for t, code in enumerate(c.t_code):
            for col, val in zip(rows, (code, c.t_name[t], "乡镇", c.code12)):
                col.append(val)
            for v in c.t_villages[t]:
                for col, val in zip(rows, (c.v_code[v], c.v_name[v], "村", code)):
                    col.append(val)
        div.write(rows)
        self.sinks["organisations.csv"].write([list(x) for x in zip(*c.org_rows)])
        self.sinks["programmes.csv"].write([list(x) for x in zip(*[
            (code, name, group, "是" if poor else "否") for code, name, group, poor, _ in PROGRAMMES])])

    def quotas(self, n_chunks: int) -> list[dict[str, tuple[int, int]]]:
        k = self.k_models
        out = []
        for i in range(n_chunks):
            share = (i + 1) * k // n_chunks - i * k // n_chunks
            out.append({m: (share, share) for m in PLANTERS})
        return out

    def ratio_classes(self) -> dict[int, str]:
        n_t = len(self.county.t_code)
        k = max(1, round(0.05 * n_t))
        rng = np.random.default_rng([self.seed, 3])
        pick = rng.permutation(n_t)[: 2 * k]
        return {int(t): ("planted" if j < k else "near") for j, t in enumerate(pick)}

    def run(self) -> dict[str, int]:
        self.write_frame()
        if self.progress:
            self.progress("persons", 0, self.persons)
        chunks = chunk_townships(self.county, CHUNK_PERSONS)
        quotas = self.quotas(len(chunks))
        classes = self.ratio_classes()
        model_i = {m: [0, 0] for m in PLANTERS}
        done = 0
        for ci, towns in enumerate(chunks):
            ch = Chunk(self, ci, towns)
            ch.ratio_class = {t: classes[t] for t in towns if t in classes}
            q = quotas[ci]
            ch.make_roles(cross_cadres=q["cadre_subsidy"][1],
                          town_officials=3 * sum(q["relative_direct_award"] + q["relative_beneficiary"]) + 4)
            ch.make_companies()
            ch.prepare_bidders()
            for m in PLANT_ORDER:
                nv, nn = quotas[ci][m]
                for kind, n in (("violation", nv), ("near_miss", nn)):
                    for _ in range(n):
                        j = model_i[m][kind == "near_miss"]
                        model_i[m][kind == "near_miss"] += 1
                        PLANTERS[m](ch, kind, j)
            ch.make_contracts(ch.ratio_class)
            ratio_truth(ch)
            ch.make_disability()
            ch.make_benefits()
            ch.make_assets()
            ch.make_cases()
            self.write_chunk(ch)
            done += ch.n
            if self.progress:
                self.progress("persons", done, self.persons)
            del ch
        return self.finish()

    def finish(self) -> dict[str, int]:
        if self.progress:
            self.progress("saving", self.persons, self.persons)
        counts = {}
        for name, sink in self.sinks.items():
            sink.close()
            counts[name] = sink.rows
        self.truth.close()
        counts[PERSON_RECORDS.name] = self.truth.rows
        self.gt_file.close()
        counts[GROUND_TRUTH.name] = self.gt_rows
        c = self.county
        params = {
            "seed": self.seed,
            "persons": self.persons,
            "county_code": c.code,
            "county_name": c.name,
            "townships": len(c.t_code),
            "villages": len(c.v_code),
            "reference_date": "2024-12-31",
            "period": ["2019-01-01", "2024-12-31"],
            "tender_threshold": TENDER_THRESHOLD,
            "split_window_days": SPLIT_WINDOW_DAYS,
            "split_band": [SPLIT_BAND_LOW, TENDER_THRESHOLD],
            "split_min_awards": 2,
            "direct_award_ratio_threshold": DIRECT_RATIO_THRESHOLD,
            "direct_award_ratio_basis": "count of contracts per township (project village's township), all years",
            "gambling_same_place_window_minutes": GAMBLING_WINDOW_MIN,
            "planted_per_model": self.k_models,
            "near_misses_per_model": self.k_models,
            "direct_award_ratio_townships": {"planted": sum(v == "planted" for v in self.ratio_classes().values()),
                                             "near_miss": sum(v == "near" for v in self.ratio_classes().values())},
            "notes": {
                "split_contracts": "planted: 3 direct awards to one company, each in the split band, within the "
                                   "window; no background company has 2 band awards within the window",
                "relative": "relatives are members of the same household (与户主关系 relative to one 户主)",
                "cadre_subsidy": "own village = the village in the cadre's 任职村代码",
            },
            "counts": counts,
        }
        (self.out / PARAMS_FILE).write_text(json.dumps(params, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
                                            encoding="utf-8")
        if self.progress:
            self.progress("done", self.persons, self.persons)
        return counts

    # ---------------------------------------------------------------- one chunk's output
    def _truth_rows(self, file: str, first_line: int, persons: np.ndarray, id18: np.ndarray, mask=None):
        n = len(persons)
        if n == 0:
            return
        lines = np.arange(first_line, first_line + n)
        ids = id18[persons]
        if mask is not None:
            lines, ids = lines[mask], ids[mask]
        self.truth.write([[file] * len(lines), lines.astype(str).tolist(), ids.tolist()])

    def write_chunk(self, ch: Chunk):
        p, c = ch.p, self.county
        rng = np.random.default_rng([self.seed, 104729, ch.index])
        id18 = p.id18
        byear = C.year_of(p.birth)
        sex = np.where(p.male, "男", "女").astype(object)
        vcode = np.array(c.v_code, dtype=object)
        t = C.tables()

        def dirty(file, persons):
            persons = np.asarray(persons, dtype=np.int64)
            return (dirt.ids(rng, id18[persons], ch.protected[persons], byear[persons], file),
                    dirt.names(rng, p.name[persons], file))

        # --- household registry
        f = "household_registry.csv"
        allp = np.arange(ch.n)
        ids_, _ = dirty(f, allp)
        style = rng.choice(4, size=ch.n, p=[0.55, 0.2, 0.15, 0.1])
        births = C.fmt(p.birth, "iso")
        for k, st in ((1, "slash"), (2, "compact"), (3, "cn")):
            sel = style == k
            births[sel] = C.fmt(p.birth[sel], st)
        rel = np.array(REL, dtype=object)[p.rel]
        first = self.sinks[f].write([p.h_no[p.hh].tolist(), p.name.tolist(), ids_.tolist(), sex.tolist(),
                                     births.tolist(), rel.tolist(), p.ethnic.tolist(), p.h_addr[p.hh].tolist(),
                                     vcode[p.vil].tolist(), p.reg_phone.tolist()])
        self._truth_rows(f, first, allp, id18)

        # --- officials roster
        f = "officials_roster.xlsx"
        roster = sorted(ch.roster, key=lambda r: (r[4] == "", r[4], r[1], r[5], r[0]))
        rp = np.array([r[0] for r in roster], dtype=np.int64)
        ids_, nm = dirty(f, rp)
        rows = []
        for k, r in enumerate(roster):
            self.seq["roster"] += 1
            rows.append([self.seq["roster"], nm[k], ids_[k], sex[r[0]], r[1], r[2], r[3], r[4] or None,
                         C.to_date(r[5]), C.to_date(r[6]) if r[6] is not None else None])
        first = self.sinks[f].write(rows)
        self._truth_rows(f, first, rp, id18)

        # --- companies
        cos = ch.companies
        corder = sorted(range(len(cos)), key=lambda i: (cos[i].established, cos[i].uscc))
        f = "company_registry.csv"
        reps = np.array([cos[i].legal_rep for i in corder], dtype=np.int64)
        ids_, nm = dirty(f, reps)
        first = self.sinks[f].write([
            [cos[i].uscc for i in corder], [cos[i].name for i in corder], nm.tolist(), ids_.tolist(),
            [cos[i].address for i in corder], [cos[i].phone for i in corder],
            C.fmt([cos[i].established for i in corder]).tolist(), [str(cos[i].capital) for i in corder],
            [cos[i].status for i in corder], [c.bureau[cos[i].regulator][0] for i in corder]])
        self._truth_rows(f, first, reps, id18)
        rank = {ci: k for k, ci in enumerate(corder)}
        f = "company_shareholders.csv"
        shs = sorted(ch.sh_rows, key=lambda r: (rank[r[0]], r[1] != "P", -r[3]))
        pers = np.array([r[2] if r[1] == "P" else 0 for r in shs], dtype=np.int64)
        is_p = np.array([r[1] == "P" for r in shs], dtype=bool)
        ids_, nm = dirty(f, pers)
        cols = [[], [], [], [], [], [], []]
        for k, (ci, kind, ref, share, sub, ex) in enumerate(shs):
            if kind == "P":
                vals = (cos[ci].uscc, nm[k], "自然人", ids_[k])
            else:
                vals = (cos[ci].uscc, dirt.company_name(rng, cos[ref].name), "企业法人", cos[ref].uscc)
            vals += (f"{share:g}", C.fmt1(sub), C.fmt1(ex) if ex is not None else "")
            for col, val in zip(cols, vals):
                col.append(val)
        first = self.sinks[f].write(cols)
        self._truth_rows(f, first, pers, id18, is_p)
        f = "company_executives.csv"
        exs = sorted(ch.ex_rows, key=lambda r: (rank[r[0]], r[2] != "执行董事兼总经理"))
        pers = np.array([r[1] for r in exs], dtype=np.int64)
        ids_, nm = dirty(f, pers)
        first = self.sinks[f].write([[cos[r[0]].uscc for r in exs], nm.tolist(), ids_.tolist(),
                                     [r[2] for r in exs]])
        self._truth_rows(f, first, pers, id18)

        # --- projects, tenders, bids, contracts
        porder = sorted(range(len(ch.projects)), key=lambda i: (ch.projects[i][4], i))
        pno = {}
        for i in porder:
            self.seq["project"] += 1
            pno[i] = f"XM{t.Y[ch.projects[i][4] - C.DAY_MIN]}{self.seq['project']:06d}"
        self.sinks["projects.csv"].write([
            [pno[i] for i in porder], [ch.projects[i][1] for i in porder], [c.v_code[ch.projects[i][0]] for i in porder],
            [ch.projects[i][2] for i in porder], [str(ch.projects[i][3]) for i in porder],
            C.fmt([ch.projects[i][4] for i in porder]).tolist()])
        torder = sorted(range(len(ch.tenders)), key=lambda i: (ch.tenders[i][4], i))
        tno = {}
        rows = []
        for i in torder:
            self.seq["tender"] += 1
            proj, name, budget, method, ann = ch.tenders[i]
            tno[i] = f"ZB{t.Y[ann - C.DAY_MIN]}{self.seq['tender']:06d}"
            rows.append([tno[i], pno[proj], name, budget, METHODS[method], C.to_date(ann)])
        self.sinks["tenders.xlsx"].write(rows)
        trank = {ti: k for k, ti in enumerate(torder)}
        bids = sorted(ch.bids, key=lambda b: (trank[b[0]], b[2]))
        self.sinks["bids.csv"].write([[tno[b[0]] for b in bids], [cos[b[1]].uscc for b in bids],
                                      [dirt.company_name(rng, cos[b[1]].name) for b in bids],
                                      [f"{b[2]}.00" for b in bids], C.fmt([b[3] for b in bids]).tolist()])
        f = "contracts.csv"
        korder = sorted(range(len(ch.contracts)), key=lambda i: (ch.contracts[i][7], i))
        kno = {}
        for i in korder:
            self.seq["contract"] += 1
            kno[i] = f"HT{t.Y[ch.contracts[i][7] - C.DAY_MIN]}{self.seq['contract']:06d}"
        appr = np.array([ch.contracts[i][5] for i in korder], dtype=np.int64)
        ids_, nm = dirty(f, appr)
        ks = [ch.contracts[i] for i in korder]
        first = self.sinks[f].write([
            [kno[i] for i in korder], [tno[k[0]] if k[0] >= 0 else "" for k in ks], [pno[k[1]] for k in ks],
            [cos[k[2]].uscc for k in ks], [dirt.company_name(rng, cos[k[2]].name) for k in ks],
            [f"{k[3]}.00" for k in ks], [METHODS[k[4]] for k in ks], ids_.tolist(), nm.tolist(),
            [k[6] for k in ks], C.fmt([k[7] for k in ks], "slash").tolist()])
        self._truth_rows(f, first, appr, id18)

        # --- benefit rolls
        f = "benefit_rolls.csv"
        parts = list(ch.ben_cols)
        nb_bg = sum(len(x[0]) for x in parts)
        if ch.plant_ben:
            pb = list(zip(*ch.plant_ben))
            parts.append((np.array(pb[0], np.int64), np.array(pb[1], np.int64), np.array(pb[2], np.int64),
                          np.array(pb[3], np.int64), np.array(pb[4], np.int64), np.array(pb[5], np.int64),
                          np.array(pb[6], dtype=object)))
        bnos = {}
        if parts:
            bp, bprog, bs, be, bamt, bvil, bappr = (np.concatenate([x[k] for x in parts]) for k in range(7))
            tag = np.full(len(bp), -1, dtype=np.int64)
            tag[nb_bg:] = np.arange(len(bp) - nb_bg)
            order = np.lexsort((bs, bprog, bp, bvil))
            bp, bprog, bs, be, bamt, bvil, bappr, tag = (a[order] for a in (bp, bprog, bs, be, bamt, bvil, bappr, tag))
            n = len(bp)
            start = self.seq["benefit"]
            self.seq["benefit"] += n
            nos = np.char.add("FF", np.char.zfill((np.arange(start + 1, start + n + 1)).astype(str), 10)).astype(object)
            for k in np.nonzero(tag >= 0)[0]:
                bnos[int(tag[k])] = nos[k]
            ids_, nm = dirty(f, bp)
            codes = np.array([x[0] for x in PROGRAMMES], dtype=object)[bprog]
            first = self.sinks[f].write([nos.tolist(), nm.tolist(), ids_.tolist(), vcode[bvil].tolist(), codes.tolist(),
                                         (bamt.astype(str).astype(object) + ".00").tolist(),
                                         C.fmt(bs).tolist(), C.fmt(be).tolist(), bappr.tolist()])
            self._truth_rows(f, first, bp, id18)

        # --- disability registry
        f = "disability_registry.csv"
        dis = sorted(ch.disability, key=lambda r: (int(p.vil[r[0]]), r[0]))
        dp = np.array([r[0] for r in dis], dtype=np.int64)
        ids_, nm = dirty(f, dp)
        cert = {r[0]: f"{id18[r[0]]}{r[1] + 1}{r[2]}" for r in dis}
        first = self.sinks[f].write([[cert[r[0]] for r in dis], nm.tolist(), ids_.tolist(),
                                     [N.DISABILITY_KINDS[r[1]][0] for r in dis], [str(r[2]) for r in dis]])
        self._truth_rows(f, first, dp, id18)

        # --- death records (Excel; a few IDs typed as numbers)
        f = "death_records.xlsx"
        dead = np.nonzero(~ch.alive)[0]
        dead = dead[np.argsort(p.death[dead], kind="stable")]
        ids_, nm = dirty(f, dead)
        dereg = p.death[dead] + rng.integers(3, 60, len(dead))
        numeric = rng.random(len(dead)) < dirt.EXCEL_NUMERIC_ID
        rows = []
        for k, q in enumerate(dead.tolist()):
            idv = ids_[k]
            if numeric[k] and not ch.protected[q] and idv.isdigit() and len(idv) == 18:
                idv = int(idv)
            tn = c.t_name[int(c.v_town[p.vil[q]])]
            rows.append([nm[k], idv, C.to_date(int(p.death[q])), C.to_date(int(dereg[k])),
                         f"{c.name}公安局{tn}派出所"])
        first = self.sinks[f].write(rows)
        self._truth_rows(f, first, dead, id18)

        # --- fiscal payroll
        f = "fiscal_payroll.csv"
        pay = sorted(ch.payroll_rows, key=lambda r: (r[1], r[4], r[0]))
        pp = np.array([r[0] for r in pay], dtype=np.int64)
        ids_, nm = dirty(f, pp)
        first = self.sinks[f].write([nm.tolist(), ids_.tolist(), [r[1] for r in pay], [r[2] for r in pay],
                                     [f"{r[3]}.00" for r in pay], C.fmt([r[4] for r in pay], "compact").tolist(),
                                     [C.fmt1(r[5], "compact") if r[5] is not None else "" for r in pay]])
        self._truth_rows(f, first, pp, id18)

        # --- real estate and vehicles
        f = "real_estate.csv"
        eorder = sorted(range(len(ch.estates)), key=lambda i: (ch.estates[i][3], i))
        eno = {}
        prov = c.plate[0]
        for i in eorder:
            self.seq["estate"] += 1
            y = t.Y[ch.estates[i][3] - C.DAY_MIN]
            eno[i] = f"{prov}({y}){c.name}不动产权第{self.seq['estate']:07d}号"
        ep = np.array([ch.estates[i][0] for i in eorder], dtype=np.int64)
        ids_, nm = dirty(f, ep)
        first = self.sinks[f].write([[eno[i] for i in eorder], nm.tolist(), ids_.tolist(),
                                     [ch.estates[i][1] for i in eorder], [f"{ch.estates[i][2]:.2f}" for i in eorder],
                                     C.fmt([ch.estates[i][3] for i in eorder], "cn").tolist()])
        self._truth_rows(f, first, ep, id18)
        f = "vehicles.csv"
        vorder = sorted(range(len(ch.vehicles)), key=lambda i: (ch.vehicles[i][2], i))
        vp = np.array([ch.vehicles[i][0] for i in vorder], dtype=np.int64)
        ids_, nm = dirty(f, vp)
        first = self.sinks[f].write([[ch.vehicles[i][3] for i in vorder], [ch.vehicles[i][1] for i in vorder],
                                     nm.tolist(), ids_.tolist(), C.fmt([ch.vehicles[i][2] for i in vorder]).tolist()])
        self._truth_rows(f, first, vp, id18)

        # --- police cases and parties
        corder2 = sorted(range(len(ch.cases)), key=lambda i: (ch.cases[i][1], i))
        cno = {}
        rows = [[], [], [], [], []]
        for i in corder2:
            self.seq["case"] += 1
            cause, minute, place, decision = ch.cases[i]
            d = minute // 1440
            cno[i] = f"A{c.code}{t.Y[d - C.DAY_MIN]}{self.seq['case']:06d}"
            hm = minute % 1440
            for col, val in zip(rows, (cno[i], cause, f"{C.fmt1(d)} {hm // 60:02d}:{hm % 60:02d}", place, decision)):
                col.append(val)
        self.sinks["police_cases.csv"].write(rows)
        crank = {ci: k for k, ci in enumerate(corder2)}
        f = "police_case_parties.csv"
        parties = sorted(ch.parties, key=lambda r: (crank[r[0]], r[2] != "违法行为人"))
        pp = np.array([r[1] for r in parties], dtype=np.int64)
        ids_, nm = dirty(f, pp)
        first = self.sinks[f].write([[cno[r[0]] for r in parties], nm.tolist(), ids_.tolist(),
                                     [r[2] for r in parties], [r[3] for r in parties]])
        self._truth_rows(f, first, pp, id18)

        # --- ground truth
        eorder_rank = {i: eno[i] for i in eno}
        for model, kind, ents, note in ch.gt:
            key = (model, kind)
            self.vseq[key] = self.vseq.get(key, 0) + 1
            vid = f"{model}-{'V' if kind == 'violation' else 'N'}{self.vseq[key]:04d}"
            for ek, ref in ents:
                if ek == "Person":
                    k = f"Person:{id18[ref]}"
                elif ek == "Company":
                    k = f"Company:{cos[ref].uscc}"
                elif ek in ("Village",):
                    k = f"Division:{c.v_code[ref]}"
                elif ek == "Township":
                    k = f"Division:{c.t_code[ref]}"
                elif ek == "Organisation":
                    k = f"Organisation:{ref}"
                elif ek == "Household":
                    k = f"Household:{p.h_no[ref]}"
                elif ek == "Project":
                    k = f"Project:{pno[ref]}"
                elif ek == "Tender":
                    k = f"Tender:{tno[ref]}"
                elif ek == "Contract":
                    k = f"Contract:{kno[ref]}"
                elif ek == "Benefit":
                    k = f"Benefit:{bnos[ref]}"
                elif ek == "DeathRecord":
                    k = f"DeathRecord:{id18[ref]}"
                elif ek == "Disability":
                    k = f"Disability:{cert[ref]}"
                elif ek == "Vehicle":
                    k = f"Vehicle:{ch.vehicles[ref][3]}"
                elif ek == "RealEstate":
                    k = f"RealEstate:{eorder_rank[ref]}"
                elif ek == "PoliceCase":
                    k = f"PoliceCase:{cno[ref]}"
                else:  # pragma: no cover
                    raise AssertionError(ek)
                self.gt.writerow([model, vid, kind, ek, k, note])
                self.gt_rows += 1


def generate_county(out_dir, *, persons: int, seed: int,
                    progress: Callable[[str, int, int], None] | None = None) -> dict[str, int]:
    """Write a synthetic county: every source file of ``docs/sources.md`` and the truth.

    Parameters
    ----------
    out_dir : str or Path
        Folder to write into (created if missing; files in it are overwritten).
    persons : int
        Number of persons in the county (at least 1000).
    seed : int
        Seed; the same seed and size give byte-identical CSV files.
    progress : callable, optional
        Called as ``progress(step_name, done, total)`` while generating.

    Returns
    -------
    dict
        Rows written per file (header excluded), including ``ground_truth.csv`` and
        ``_truth/person_records.csv``.

    Examples
    --------
    >>> import tempfile
    >>> counts = generate_county(tempfile.mkdtemp(), persons=1000, seed=1)
    >>> counts["household_registry.csv"]
    1000
    """
    if persons < MIN_PERSONS:
        raise CountyTooSmall(f"persons must be at least {MIN_PERSONS} (every supervision model needs room for "
                             f"its planted violations and near-misses), got {persons}")
    return _Generator(Path(out_dir), int(persons), int(seed), progress).run()
