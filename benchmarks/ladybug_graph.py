"""Copy a graphwatch workspace into a Ladybug (Kùzu fork) database, for benchmarks.

Ladybug has a structured property-graph model: every node belongs to exactly one typed
node table, every relationship to one rel table whose FROM/TO node-table pairs are
declared up front. graphwatch nodes carry several labels (a village cadre is
``[Official, Person, VillageCadre]``), so the mapping is:

* one node table per label, holding **every node that has that label** (a cadre is a row
  of ``Person``, ``Official`` and ``VillageCadre``, with the same ``nid`` primary key in
  each); its columns are ``nid`` plus the schema properties of every label that occurs
  together with it in the data (so ``VillageCadre`` rows have ``name``, ``sex`` …);
* one rel table per relationship type, with one FROM/TO pair per (label of the start
  node, label of the end node) that occurs; a relationship is copied into every pair its
  end nodes' labels give (a ``SPOUSE_OF`` between a cadre and a villager is a
  ``VillageCadre→Person``, a ``Person→Person`` and an ``Official→Person`` row), each copy
  with the same ``rid`` property.

With that, a Cypher pattern whose node variables each name one label — ``(o:VillageCadre)``
… ``(o)-[:SPOUSE_OF]-(r:Person)`` — runs **unchanged** and binds the same rows as on the
workspace: ``o`` is the cadre's ``VillageCadre`` row and reaches its relatives through the
``VillageCadre→Person`` copies. (A variable with two labels, ``(x:Person:Official)``, would
not: Ladybug reads a label list as a union of tables. Node variables without a label
would bind one row per copy. The benchmark's pattern has neither.)

Relationship properties (``rid``, ``valid_from``, ``valid_to``, the type's schema
properties) and node properties are copied with their types (DECIMAL money as DOUBLE:
Ladybug 0.22's Parquet reader refuses DECIMAL columns); provenance columns
(``dataset``, ``record``) and ``node.key`` are not, since no pattern reads them.

The copy goes DuckDB → Parquet files (``COPY … TO``) → Ladybug ``COPY … FROM``, the bulk
path the Ladybug docs recommend.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import duckdb

# DuckDB column type → Ladybug property type
_TYPES = {
    "VARCHAR": "STRING",
    "BIGINT": "INT64",
    "INTEGER": "INT64",
    "DOUBLE": "DOUBLE",
    "BOOLEAN": "BOOLEAN",
    "DATE": "DATE",
    "TIMESTAMP": "TIMESTAMP",
    "VARCHAR[]": "STRING[]",
}


def _ltype(duck_type: str) -> str:
    if duck_type.startswith("DECIMAL"):
        return "DOUBLE"             # Ladybug 0.22 cannot COPY Parquet DECIMAL ("Unsupported converted type")
    return _TYPES[duck_type]


def _sel(col: str, duck_type: str, prefix: str = "") -> str:
    expr = prefix + _dq(col)
    return f"CAST({expr} AS DOUBLE) AS {_dq(col)}" if duck_type.startswith("DECIMAL") else expr


def _q(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _dq(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def export_parquet(ws_db: Path, out: Path, *, memory_limit: str = "3GB") -> dict:
    """Write one Parquet file per node table and per (type, from-table, to-table) rel pair.

    Returns the plan: ``{"nodes": {label: (file, [(col, ltype)], rows)},
    "rels": {type: {"props": [(col, ltype)], "pairs": [(from, to, file, rows)]}}}``.
    """
    from graphwatch.schema import load_schema

    schema = load_schema()
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(ws_db), read_only=True)
    con.execute("SET memory_limit = ?", [memory_limit])
    con.execute("SET preserve_insertion_order = false")
    node_types = {r[0]: r[1] for r in con.execute("DESCRIBE node").fetchall()}
    rel_types = {r[0]: r[1] for r in con.execute("DESCRIBE rel").fetchall()}

    # labels that occur together on one node
    combos = [tuple(r[0]) for r in con.execute("SELECT DISTINCT labels FROM node").fetchall()]
    co: dict[str, set[str]] = {}
    for labels in combos:
        for lab in labels:
            co.setdefault(lab, set()).update(labels)

    plan: dict = {"nodes": {}, "rels": {}}
    for lab in sorted(co):
        props: list[str] = []
        for other in sorted(co[lab]):
            for p in schema.labels[other].properties:
                if p not in props and p in node_types:
                    props.append(p)
        cols = [("nid", "INT64")] + [(p, _ltype(node_types[p])) for p in props]
        f = out / f"node_{lab}.parquet"
        sel = ", ".join(["nid"] + [_sel(p, node_types[p]) for p in props])
        con.execute(f"COPY (SELECT {sel} FROM node WHERE list_contains(labels, $l)) TO '{f}' (FORMAT parquet)",
                    {"l": lab})
        n, = con.execute(f"SELECT count(*) FROM '{f}'").fetchone()
        plan["nodes"][lab] = (str(f), cols, n)

    # (type, start label, end label) pairs as they occur, each relationship once per pair
    con.execute("""CREATE TEMP TABLE _nl AS SELECT nid, unnest(labels) AS label FROM node""")
    pairs = con.execute("""SELECT r.type, a.label, b.label, count(*) FROM rel r
        JOIN _nl a ON a.nid = r.src JOIN _nl b ON b.nid = r.dst GROUP BY ALL ORDER BY ALL""").fetchall()
    for typ, fl, tl, _ in pairs:
        rt = schema.rel_types[typ]
        props = ["rid", "valid_from", "valid_to"] + [p for p in rt.properties if p in rel_types]
        entry = plan["rels"].setdefault(typ, {"props": [(p, _ltype(rel_types[p])) for p in props], "pairs": []})
        f = out / f"rel_{typ}_{fl}_{tl}.parquet"
        sel = ", ".join(_sel(p, rel_types[p], "r.") for p in props)
        con.execute(f"""COPY (SELECT r.src AS "from", r.dst AS "to", {sel} FROM rel r
            WHERE r.type = $t AND r.src IN (SELECT nid FROM _nl WHERE label = $fl)
              AND r.dst IN (SELECT nid FROM _nl WHERE label = $tl)) TO '{f}' (FORMAT parquet)""",
                    {"t": typ, "fl": fl, "tl": tl})
        n, = con.execute(f"SELECT count(*) FROM '{f}'").fetchone()
        entry["pairs"].append((fl, tl, str(f), n))
    con.close()
    return plan


def load_ladybug(plan: dict, db_path: Path, *, buffer_pool_bytes: int) -> dict:
    """Create the Ladybug database at ``db_path`` from an :func:`export_parquet` plan."""
    import ladybug

    if db_path.exists():
        shutil.rmtree(db_path) if db_path.is_dir() else db_path.unlink()
    db = ladybug.Database(str(db_path), buffer_pool_size=buffer_pool_bytes)
    con = ladybug.Connection(db)
    t0 = time.perf_counter()
    for lab, (_, cols, _) in plan["nodes"].items():
        body = ", ".join(f"{_q(c)} {t}" for c, t in cols)
        con.execute(f"CREATE NODE TABLE {_q(lab)}({body}, PRIMARY KEY (nid))")
    for typ, entry in plan["rels"].items():
        pairs = ", ".join(f"FROM {_q(fl)} TO {_q(tl)}" for fl, tl, _, _ in entry["pairs"])
        body = "".join(f", {_q(c)} {t}" for c, t in entry["props"])
        con.execute(f"CREATE REL TABLE {_q(typ)}({pairs}{body})")
    for lab, (f, _, _) in plan["nodes"].items():
        con.execute(f"COPY {_q(lab)} FROM '{f}'")
    t_nodes = time.perf_counter() - t0
    for typ, entry in plan["rels"].items():
        multi = len(entry["pairs"]) > 1
        for fl, tl, f, _ in entry["pairs"]:
            opts = f" (from='{fl}', to='{tl}')" if multi else ""
            con.execute(f"COPY {_q(typ)} FROM '{f}'{opts}")
    t_all = time.perf_counter() - t0
    con.close()
    db.close()
    return {"copy_nodes_s": t_nodes, "copy_rels_s": t_all - t_nodes, "copy_s": t_all,
            "node_rows": sum(n for _, _, n in plan["nodes"].values()),
            "rel_rows": sum(n for e in plan["rels"].values() for *_, n in e["pairs"])}
