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

from .benefits import PROGRAMMES
from .cases import GAMBLING_WINDOW_MIN
from .chunk import Chunk
from .chunk_files import ChunkFiles
from .contracts import DIRECT_RATIO_THRESHOLD, SPLIT_BAND_LOW, SPLIT_WINDOW_DAYS, TENDER_THRESHOLD
from .county import build_county, chunk_townships
from .plants import PLANTERS, ratio_truth
from .population import IdState
from .spec import GROUND_TRUTH, PARAMS_FILE, PERSON_RECORDS, SOURCE_FILES
from .writers import CsvSink, XlsxSink
from ..exc import CountyTooSmall, GenerationError

CHUNK_PERSONS = 150_000
MIN_PERSONS = 1000

# the order plants run in; contract-making plants first so township ratios can absorb them
PLANT_ORDER = ["own_village_project", "relative_direct_award", "related_bidders", "split_contracts",
               "relative_beneficiary", "deceased_beneficiary", "payroll_on_welfare", "poor_with_assets",
               "cadre_subsidy", "missing_coverage", "duplicate_benefits", "gambling_with_regulated"]
_WIN_NEWLINE = {"gbk", "gb18030"}      # Windows-made exports: CRLF line ends


def planted_per_model(persons: int) -> int:
    return max(2, round(persons / 20_000))


class _Generator:
    def __init__(self, out_dir: Path, persons: int, seed: int, progress, county: str | None = None):
        self.out = Path(out_dir)
        self.persons = persons
        self.seed = seed
        self.progress = progress
        rng0 = np.random.default_rng([seed, 1])
        self.rng_out = np.random.default_rng([seed, 2])
        self.county = build_county(persons, rng0, county)     # an unknown county code: no folder made
        self.out.mkdir(parents=True, exist_ok=True)
        (self.out / "_truth").mkdir(exist_ok=True)
        # a county chosen by code names its files after it (two counties then load side by side)
        self.file_suffix = f"_{self.county.code}" if county is not None else ""
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
                self.sinks[name] = CsvSink(self.out, spec, newline=nl, file_name=self.file_name(name))
        c = self.county
        self.sinks["officials_roster.xlsx"] = XlsxSink(self.out, SOURCE_FILES["officials_roster.xlsx"], sheet="名册",
                                                       title=f"{c.name}公职人员及村“两委”干部名册",
                                                       file_name=self.file_name("officials_roster.xlsx"))
        self.sinks["tenders.xlsx"] = XlsxSink(self.out, SOURCE_FILES["tenders.xlsx"], sheet="招标公告",
                                              file_name=self.file_name("tenders.xlsx"))
        self.sinks["death_records.xlsx"] = XlsxSink(self.out, SOURCE_FILES["death_records.xlsx"], sheet="死亡登记",
                                                    file_name=self.file_name("death_records.xlsx"))
        self.person_records = CsvSink(self.out, PERSON_RECORDS)
        self.ground_truth_file = open(self.out / GROUND_TRUTH.name, "w", encoding="utf-8", newline="")
        self.ground_truth = csv.writer(self.ground_truth_file, lineterminator="\n")
        self.ground_truth.writerow(GROUND_TRUTH.headers)
        self.ground_truth_rows = 0

    def file_name(self, source: str) -> str:
        """The name a source file of ``docs/sources.md`` is written under."""
        stem, dot, ext = source.rpartition(".")
        return f"{stem}{self.file_suffix}{dot}{ext}"

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
            ChunkFiles(self, ch).write()
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
            counts[self.file_name(name)] = sink.rows
        self.person_records.close()
        counts[PERSON_RECORDS.name] = self.person_records.rows
        self.ground_truth_file.close()
        counts[GROUND_TRUTH.name] = self.ground_truth_rows
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
        if self.file_suffix:   # files and county-local record numbers carry the county code
            params["county_chosen"] = True
        (self.out / PARAMS_FILE).write_text(json.dumps(params, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
                                            encoding="utf-8")
        if self.progress:
            self.progress("done", self.persons, self.persons)
        return counts


def generate_county(out_dir, *, persons: int, seed: int, county: str | None = None,
                    progress: Callable[[str, int, int], None] | None = None) -> dict[str, int]:
    """Write a synthetic county: every source file of ``docs/sources.md`` and the truth.

    Parameters
    ----------
    out_dir : str or Path
        Folder to write into: created if missing; an existing one must be empty
        (:class:`~graphwatch.exc.GenerationError` otherwise — another county's files are never
        overwritten).
    persons : int
        Number of persons in the county (at least 1000).
    seed : int
        Seed; the same seed and size give byte-identical CSV files.
    county : str, optional
        A county code of the generator's list (``graphwatch.synth.county.COUNTY_CODES``:
        130633 易县, 411521 罗山县, 430524 隆回县, 510722 三台县, 621121 通渭县); by default
        the seed picks one. A county picked by code writes its files as
        ``household_registry_<code>.csv`` … and carries its code in every county-local record
        number (户号, 发放记录号, 项目/招标/合同编号), so counties of different codes load into
        one workspace side by side (their people are disjoint: IDs start with the county's or
        a neighbouring region code of its own province). Otherwise the county is the same as
        the seed would give with that county.
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
    _refuse_used_folder(Path(out_dir))
    return _Generator(Path(out_dir), int(persons), int(seed), progress, county).run()


def _refuse_used_folder(out: Path) -> None:
    """A county is written into a new or empty folder only: writing over another county's files
    (or a user's) would leave a mix of two counties and two truths."""
    if out.exists() and not out.is_dir():
        raise GenerationError(f"{out} is a file; give a new or empty folder")
    held = sorted(p.name for p in out.iterdir()) if out.is_dir() else []
    if held:
        raise GenerationError(f"{out} already holds files ({', '.join(held[:3])}{' …' if len(held) > 3 else ''}); "
                              "give a new or empty folder (the generator never overwrites a county)")
