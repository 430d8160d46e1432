"""One chunk's rows in every source file, and the truth about them.

:class:`ChunkFiles` writes a finished :class:`~graphwatch.synth.chunk.Chunk` through the
generator's sinks, one method per output file (or per group of files that share record
numbers). All dirt is drawn from one random generator seeded ``(seed, 104729, chunk)``,
so the order in which :meth:`ChunkFiles.write` calls the methods is part of the output.
The record numbers given here (project, tender, contract, benefit, certificate, estate,
case) are what ``ground_truth.csv`` names entities by.
"""

from __future__ import annotations

import numpy as np

from . import calendar
from . import dirt
from . import names
from .benefits import PROGRAMMES
from .chunk import Chunk
from .contracts import METHODS
from .population import REL


class ChunkFiles:
    """Writes one chunk through ``generator``'s sinks; :meth:`write` writes every file."""

    def __init__(self, generator, chunk: Chunk):
        self.generator = generator
        self.chunk = chunk
        self.people = chunk.people
        self.county = generator.county
        self.companies = chunk.companies
        self.rng = np.random.default_rng([generator.seed, 104729, chunk.index])
        self.id18 = self.people.id18
        self.birth_year = calendar.year_of(self.people.birth)
        self.sex = np.where(self.people.male, "男", "女").astype(object)
        self.village_codes = np.array(self.county.v_code, dtype=object)
        self.years = calendar.tables().Y     # year of each day, for record numbers
        self.prefix = self.county.record_prefix   # a county picked by code puts its code in record numbers
        # record numbers, filled as the files are written
        self.project_no: dict[int, str] = {}
        self.tender_no: dict[int, str] = {}
        self.contract_no: dict[int, str] = {}
        self.benefit_no: dict[int, str] = {}     # planted payment tag -> 发放记录号
        self.certificate_no: dict[int, str] = {}  # person -> disability certificate
        self.estate_no: dict[int, str] = {}
        self.case_no: dict[int, str] = {}

    def write(self) -> None:
        self.household_registry()
        self.officials_roster()
        self.company_files()
        self.project_files()
        self.benefit_rolls()
        self.disability_registry()
        self.death_records()
        self.fiscal_payroll()
        self.real_estate()
        self.vehicles()
        self.police_files()
        self.ground_truth()

    # ---------------------------------------------------------------- shared
    def dirty(self, file: str, persons) -> tuple[np.ndarray, np.ndarray]:
        """IDs and names of ``persons`` as ``file`` writes them (planted persons' IDs kept clean)."""
        persons = np.asarray(persons, dtype=np.int64)
        return (dirt.ids(self.rng, self.id18[persons], self.chunk.protected[persons], self.birth_year[persons], file),
                dirt.names(self.rng, self.people.name[persons], file))

    def person_records(self, file: str, first_line: int, persons: np.ndarray, mask=None) -> None:
        """``_truth/person_records.csv``: the true person of each line just written to ``file``."""
        n = len(persons)
        if n == 0:
            return
        lines = np.arange(first_line, first_line + n)
        ids = self.id18[persons]
        if mask is not None:
            lines, ids = lines[mask], ids[mask]
        self.generator.person_records.write([[self.generator.file_name(file)] * len(lines), lines.astype(str).tolist(),
                                             ids.tolist()])

    def sink(self, file: str):
        return self.generator.sinks[file]

    def next_number(self, kind: str) -> int:
        """The next county-wide sequence number of ``kind`` (project, tender, …)."""
        self.generator.seq[kind] += 1
        return self.generator.seq[kind]

    # ---------------------------------------------------------------- files
    def household_registry(self) -> None:
        ch, p = self.chunk, self.people
        f = "household_registry.csv"
        everyone = np.arange(ch.n)
        ids_, _ = self.dirty(f, everyone)
        style = self.rng.choice(4, size=ch.n, p=[0.55, 0.2, 0.15, 0.1])
        births = calendar.fmt(p.birth, "iso")
        for k, st in ((1, "slash"), (2, "compact"), (3, "cn")):
            sel = style == k
            births[sel] = calendar.fmt(p.birth[sel], st)
        rel = np.array(REL, dtype=object)[p.rel]
        first = self.sink(f).write([p.h_no[p.hh].tolist(), p.name.tolist(), ids_.tolist(), self.sex.tolist(),
                                    births.tolist(), rel.tolist(), p.ethnic.tolist(), p.h_addr[p.hh].tolist(),
                                    self.village_codes[p.vil].tolist(), p.reg_phone.tolist()])
        self.person_records(f, first, everyone)

    def officials_roster(self) -> None:
        f = "officials_roster.xlsx"
        roster = sorted(self.chunk.roster, key=lambda r: (r[4] == "", r[4], r[1], r[5], r[0]))
        persons = np.array([r[0] for r in roster], dtype=np.int64)
        ids_, nm = self.dirty(f, persons)
        rows = []
        for k, r in enumerate(roster):
            rows.append([self.next_number("roster"), nm[k], ids_[k], self.sex[r[0]], r[1], r[2], r[3], r[4] or None,
                         calendar.to_date(r[5]), calendar.to_date(r[6]) if r[6] is not None else None])
        first = self.sink(f).write(rows)
        self.person_records(f, first, persons)

    def company_files(self) -> None:
        """Company registry, shareholders and executives (ordered by the registry's order)."""
        ch, cos = self.chunk, self.companies
        corder = sorted(range(len(cos)), key=lambda i: (cos[i].established, cos[i].uscc))
        f = "company_registry.csv"
        reps = np.array([cos[i].legal_rep for i in corder], dtype=np.int64)
        ids_, nm = self.dirty(f, reps)
        first = self.sink(f).write([
            [cos[i].uscc for i in corder], [cos[i].name for i in corder], nm.tolist(), ids_.tolist(),
            [cos[i].address for i in corder], [cos[i].phone for i in corder],
            calendar.fmt([cos[i].established for i in corder]).tolist(), [str(cos[i].capital) for i in corder],
            [cos[i].status for i in corder], [self.county.bureau[cos[i].regulator][0] for i in corder]])
        self.person_records(f, first, reps)
        rank = {ci: k for k, ci in enumerate(corder)}
        f = "company_shareholders.csv"
        shs = sorted(ch.sh_rows, key=lambda r: (rank[r[0]], r[1] != "P", -r[3]))
        persons = np.array([r[2] if r[1] == "P" else 0 for r in shs], dtype=np.int64)
        is_person = np.array([r[1] == "P" for r in shs], dtype=bool)
        ids_, nm = self.dirty(f, persons)
        cols = [[], [], [], [], [], [], []]
        for k, (ci, kind, ref, share, sub, ex) in enumerate(shs):
            if kind == "P":
                vals = (cos[ci].uscc, nm[k], "自然人", ids_[k])
            else:
                vals = (cos[ci].uscc, dirt.company_name(self.rng, cos[ref].name), "企业法人", cos[ref].uscc)
            vals += (f"{share:g}", calendar.fmt1(sub), calendar.fmt1(ex) if ex is not None else "")
            for col, val in zip(cols, vals):
                col.append(val)
        first = self.sink(f).write(cols)
        self.person_records(f, first, persons, is_person)
        f = "company_executives.csv"
        exs = sorted(ch.ex_rows, key=lambda r: (rank[r[0]], r[2] != "执行董事兼总经理"))
        persons = np.array([r[1] for r in exs], dtype=np.int64)
        ids_, nm = self.dirty(f, persons)
        first = self.sink(f).write([[cos[r[0]].uscc for r in exs], nm.tolist(), ids_.tolist(), [r[2] for r in exs]])
        self.person_records(f, first, persons)

    def project_files(self) -> None:
        """Projects, tenders, bids and contracts (numbered in date order)."""
        ch, cos, years = self.chunk, self.companies, self.years
        porder = sorted(range(len(ch.projects)), key=lambda i: (ch.projects[i][4], i))
        pno = self.project_no
        for i in porder:
            pno[i] = f"XM{self.prefix}{years[ch.projects[i][4] - calendar.DAY_MIN]}{self.next_number('project'):06d}"
        self.sink("projects.csv").write([
            [pno[i] for i in porder], [ch.projects[i][1] for i in porder],
            [self.county.v_code[ch.projects[i][0]] for i in porder],
            [ch.projects[i][2] for i in porder], [str(ch.projects[i][3]) for i in porder],
            calendar.fmt([ch.projects[i][4] for i in porder]).tolist()])
        torder = sorted(range(len(ch.tenders)), key=lambda i: (ch.tenders[i][4], i))
        tno = self.tender_no
        rows = []
        for i in torder:
            proj, name, budget, method, announced = ch.tenders[i]
            tno[i] = f"ZB{self.prefix}{years[announced - calendar.DAY_MIN]}{self.next_number('tender'):06d}"
            rows.append([tno[i], pno[proj], name, budget, METHODS[method], calendar.to_date(announced)])
        self.sink("tenders.xlsx").write(rows)
        trank = {ti: k for k, ti in enumerate(torder)}
        bids = sorted(ch.bids, key=lambda b: (trank[b[0]], b[2]))
        self.sink("bids.csv").write([[tno[b[0]] for b in bids], [cos[b[1]].uscc for b in bids],
                                     [dirt.company_name(self.rng, cos[b[1]].name) for b in bids],
                                     [f"{b[2]}.00" for b in bids], calendar.fmt([b[3] for b in bids]).tolist()])
        f = "contracts.csv"
        korder = sorted(range(len(ch.contracts)), key=lambda i: (ch.contracts[i][7], i))
        kno = self.contract_no
        for i in korder:
            kno[i] = f"HT{self.prefix}{years[ch.contracts[i][7] - calendar.DAY_MIN]}{self.next_number('contract'):06d}"
        approvers = np.array([ch.contracts[i][5] for i in korder], dtype=np.int64)
        ids_, nm = self.dirty(f, approvers)
        ks = [ch.contracts[i] for i in korder]
        first = self.sink(f).write([
            [kno[i] for i in korder], [tno[k[0]] if k[0] >= 0 else "" for k in ks], [pno[k[1]] for k in ks],
            [cos[k[2]].uscc for k in ks], [dirt.company_name(self.rng, cos[k[2]].name) for k in ks],
            [f"{k[3]}.00" for k in ks], [METHODS[k[4]] for k in ks], ids_.tolist(), nm.tolist(),
            [k[6] for k in ks], calendar.fmt([k[7] for k in ks], "slash").tolist()])
        self.person_records(f, first, approvers)

    def benefit_rolls(self) -> None:
        """Background payments (column arrays) and planted ones (rows), numbered by village and person."""
        ch = self.chunk
        f = "benefit_rolls.csv"
        parts = list(ch.ben_cols)
        n_background = sum(len(x[0]) for x in parts)
        if ch.plant_ben:
            pb = list(zip(*ch.plant_ben))
            parts.append((np.array(pb[0], np.int64), np.array(pb[1], np.int64), np.array(pb[2], np.int64),
                          np.array(pb[3], np.int64), np.array(pb[4], np.int64), np.array(pb[5], np.int64),
                          np.array(pb[6], dtype=object)))
        if not parts:
            return
        bp, bprog, bs, be, bamt, bvil, bappr = (np.concatenate([x[k] for x in parts]) for k in range(7))
        tag = np.full(len(bp), -1, dtype=np.int64)
        tag[n_background:] = np.arange(len(bp) - n_background)
        order = np.lexsort((bs, bprog, bp, bvil))
        bp, bprog, bs, be, bamt, bvil, bappr, tag = (a[order] for a in (bp, bprog, bs, be, bamt, bvil, bappr, tag))
        n = len(bp)
        start = self.generator.seq["benefit"]
        self.generator.seq["benefit"] += n
        nos = np.char.add("FF" + self.prefix, np.char.zfill((np.arange(start + 1, start + n + 1)).astype(str), 10)).astype(object)
        for k in np.nonzero(tag >= 0)[0]:
            self.benefit_no[int(tag[k])] = nos[k]
        ids_, nm = self.dirty(f, bp)
        codes = np.array([x[0] for x in PROGRAMMES], dtype=object)[bprog]
        first = self.sink(f).write([nos.tolist(), nm.tolist(), ids_.tolist(), self.village_codes[bvil].tolist(),
                                    codes.tolist(), (bamt.astype(str).astype(object) + ".00").tolist(),
                                    calendar.fmt(bs).tolist(), calendar.fmt(be).tolist(), bappr.tolist()])
        self.person_records(f, first, bp)

    def disability_registry(self) -> None:
        f = "disability_registry.csv"
        dis = sorted(self.chunk.disability, key=lambda r: (int(self.people.vil[r[0]]), r[0]))
        persons = np.array([r[0] for r in dis], dtype=np.int64)
        ids_, nm = self.dirty(f, persons)
        cert = self.certificate_no
        cert.update({r[0]: f"{self.id18[r[0]]}{r[1] + 1}{r[2]}" for r in dis})
        first = self.sink(f).write([[cert[r[0]] for r in dis], nm.tolist(), ids_.tolist(),
                                    [names.DISABILITY_KINDS[r[1]][0] for r in dis], [str(r[2]) for r in dis]])
        self.person_records(f, first, persons)

    def death_records(self) -> None:
        """Excel; a few IDs typed as numbers (Excel then mangles them)."""
        ch, p, c = self.chunk, self.people, self.county
        f = "death_records.xlsx"
        dead = np.nonzero(~ch.alive)[0]
        dead = dead[np.argsort(p.death[dead], kind="stable")]
        ids_, nm = self.dirty(f, dead)
        deregistered = p.death[dead] + self.rng.integers(3, 60, len(dead))
        numeric = self.rng.random(len(dead)) < dirt.EXCEL_NUMERIC_ID
        rows = []
        for k, q in enumerate(dead.tolist()):
            idv = ids_[k]
            if numeric[k] and not ch.protected[q] and idv.isdigit() and len(idv) == 18:
                idv = int(idv)
            township = c.t_name[int(c.v_town[p.vil[q]])]
            rows.append([nm[k], idv, calendar.to_date(int(p.death[q])), calendar.to_date(int(deregistered[k])),
                         f"{c.name}公安局{township}派出所"])
        first = self.sink(f).write(rows)
        self.person_records(f, first, dead)

    def fiscal_payroll(self) -> None:
        f = "fiscal_payroll.csv"
        pay = sorted(self.chunk.payroll_rows, key=lambda r: (r[1], r[4], r[0]))
        persons = np.array([r[0] for r in pay], dtype=np.int64)
        ids_, nm = self.dirty(f, persons)
        first = self.sink(f).write([nm.tolist(), ids_.tolist(), [r[1] for r in pay], [r[2] for r in pay],
                                    [f"{r[3]}.00" for r in pay], calendar.fmt([r[4] for r in pay], "compact").tolist(),
                                    [calendar.fmt1(r[5], "compact") if r[5] is not None else "" for r in pay]])
        self.person_records(f, first, persons)

    def real_estate(self) -> None:
        ch, c = self.chunk, self.county
        f = "real_estate.csv"
        eorder = sorted(range(len(ch.estates)), key=lambda i: (ch.estates[i][3], i))
        province = c.plate[0]
        for i in eorder:
            year = self.years[ch.estates[i][3] - calendar.DAY_MIN]
            self.estate_no[i] = f"{province}({year}){c.name}不动产权第{self.next_number('estate'):07d}号"
        persons = np.array([ch.estates[i][0] for i in eorder], dtype=np.int64)
        ids_, nm = self.dirty(f, persons)
        first = self.sink(f).write([[self.estate_no[i] for i in eorder], nm.tolist(), ids_.tolist(),
                                    [ch.estates[i][1] for i in eorder], [f"{ch.estates[i][2]:.2f}" for i in eorder],
                                    calendar.fmt([ch.estates[i][3] for i in eorder], "cn").tolist()])
        self.person_records(f, first, persons)

    def vehicles(self) -> None:
        ch = self.chunk
        f = "vehicles.csv"
        vorder = sorted(range(len(ch.vehicles)), key=lambda i: (ch.vehicles[i][2], i))
        persons = np.array([ch.vehicles[i][0] for i in vorder], dtype=np.int64)
        ids_, nm = self.dirty(f, persons)
        first = self.sink(f).write([[ch.vehicles[i][3] for i in vorder], [ch.vehicles[i][1] for i in vorder],
                                    nm.tolist(), ids_.tolist(),
                                    calendar.fmt([ch.vehicles[i][2] for i in vorder]).tolist()])
        self.person_records(f, first, persons)

    def police_files(self) -> None:
        """Police cases (numbered in time order) and their parties."""
        ch = self.chunk
        case_order = sorted(range(len(ch.cases)), key=lambda i: (ch.cases[i][1], i))
        rows = [[], [], [], [], []]
        for i in case_order:
            cause, minute, place, decision = ch.cases[i]
            day = minute // 1440
            self.case_no[i] = f"A{self.county.code}{self.years[day - calendar.DAY_MIN]}{self.next_number('case'):06d}"
            hm = minute % 1440
            for col, val in zip(rows, (self.case_no[i], cause, f"{calendar.fmt1(day)} {hm // 60:02d}:{hm % 60:02d}",
                                       place, decision)):
                col.append(val)
        self.sink("police_cases.csv").write(rows)
        rank = {ci: k for k, ci in enumerate(case_order)}
        f = "police_case_parties.csv"
        parties = sorted(ch.parties, key=lambda r: (rank[r[0]], r[2] != "违法行为人"))
        persons = np.array([r[1] for r in parties], dtype=np.int64)
        ids_, nm = self.dirty(f, persons)
        first = self.sink(f).write([[self.case_no[r[0]] for r in parties], nm.tolist(), ids_.tolist(),
                                    [r[2] for r in parties], [r[3] for r in parties]])
        self.person_records(f, first, persons)

    # ---------------------------------------------------------------- ground truth
    def entity_key(self, kind: str, ref) -> str:
        """The node key a planted entity gets when its files are loaded."""
        c = self.county
        keys = {
            "Person": lambda: f"Person:{self.id18[ref]}",
            "Company": lambda: f"Company:{self.companies[ref].uscc}",
            "Village": lambda: f"Division:{c.v_code[ref]}",
            "Township": lambda: f"Division:{c.t_code[ref]}",
            "Organisation": lambda: f"Organisation:{ref}",
            "Household": lambda: f"Household:{self.people.h_no[ref]}",
            "Project": lambda: f"Project:{self.project_no[ref]}",
            "Tender": lambda: f"Tender:{self.tender_no[ref]}",
            "Contract": lambda: f"Contract:{self.contract_no[ref]}",
            "Benefit": lambda: f"Benefit:{self.benefit_no[ref]}",
            "DeathRecord": lambda: f"DeathRecord:{self.id18[ref]}",
            "Disability": lambda: f"Disability:{self.certificate_no[ref]}",
            "Vehicle": lambda: f"Vehicle:{self.chunk.vehicles[ref][3]}",
            "RealEstate": lambda: f"RealEstate:{self.estate_no[ref]}",
            "PoliceCase": lambda: f"PoliceCase:{self.case_no[ref]}",
        }
        if kind not in keys:  # pragma: no cover
            raise AssertionError(kind)
        return keys[kind]()

    def ground_truth(self) -> None:
        g = self.generator
        for model, kind, entities, note in self.chunk.planted_truth:
            key = (model, kind)
            g.vseq[key] = g.vseq.get(key, 0) + 1
            case_id = f"{model}-{'V' if kind == 'violation' else 'N'}{g.vseq[key]:04d}"
            for entity_kind, ref in entities:
                g.ground_truth.writerow([model, case_id, kind, entity_kind, self.entity_key(entity_kind, ref), note])
                g.ground_truth_rows += 1
