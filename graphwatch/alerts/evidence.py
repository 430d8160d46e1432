"""An alert's evidence subgraph: its nodes and relationships with their properties, dates and
the source records (dataset and record) each came from — what a case officer files.

Evidence is read from the workspace when the alert is found and kept with the alert, so it
stays what the investigator saw even after the sources are reloaded.
"""

from __future__ import annotations

import datetime as dt
import decimal

from ..lookups import node_rows, rel_rows

NODE_META = ("nid", "key", "labels", "datasets")
REL_META = ("rid", "type", "src", "dst", "dataset", "record", "records", "datasets", "valid_from", "valid_to")


def plain(v):
    """A property value as JSON can hold it (dates ISO, decimals as numbers)."""
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    if isinstance(v, decimal.Decimal):
        return float(v)
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    return v


def subgraph(con, node_ids, rel_ids, *, focus=None, focus_rels=None) -> dict:
    """``{"nodes": [...], "rels": [...]}`` for the ids (or, with ``focus``, for those nodes and
    the relationships among them). Nodes carry key, labels, properties, datasets and records;
    relationships type, ends (ids and keys), properties, validity, dataset, datasets and records
    (as ``rel`` holds them: another dataset's as ``dataset#record``, :mod:`graphwatch.relfacts`)."""
    return subgraphs(con, [(node_ids, rel_ids, focus, focus_rels)])[0]


def subgraphs(con, wanted: list[tuple], *, records: bool = True, rows: dict | None = None) -> list[dict]:
    """:func:`subgraph` of each ``(node_ids, rel_ids, focus, focus_rels)``, read together: the
    relationships, the nodes and their source records of all of them in one pass each (at 5 M
    persons one node-record lookup reads the whole ``node_record`` table, 0.4 s: per alert of a
    model's 250 that was 104 of its 110 s). ``records`` False: the nodes' ``records`` are
    left empty, for :func:`add_records` to fill for several models' subgraphs at once.
    ``rows``: ``node`` rows already read, by id (:meth:`~graphwatch.engines.duckdb.DuckDBEngine.
    node_rows_read`), not read again."""
    wanted = [(sorted(set(n)), sorted(set(r)), f, fr) for n, r, f, fr in wanted]
    rels_by_id = {r["id"]: r for r in _rels(con, sorted({i for _n, r, _f, _fr in wanted for i in r}))}
    parts = []
    for node_ids, rel_ids, focus, focus_rels in wanted:
        rels = [rels_by_id[i] for i in rel_ids if i in rels_by_id]
        if focus:
            keep = set(focus)
            rels = [r for r in rels if r["id"] in (focus_rels or ()) or (r["start"] in keep and r["end"] in keep)]
            node_ids = sorted(keep | {r["start"] for r in rels} | {r["end"] for r in rels})
        parts.append((node_ids, rels))
    nodes_by_id = {n["id"]: n for n in _nodes(con, sorted({i for node_ids, _r in parts for i in node_ids}),
                                              records=records, rows=rows)}
    out = []
    for node_ids, rels in parts:
        nodes = [dict(nodes_by_id[i]) for i in node_ids if i in nodes_by_id]
        keys = {n["id"]: n["key"] for n in nodes}
        rels = [dict(r, start_key=keys.get(r["start"]), end_key=keys.get(r["end"])) for r in rels]
        out.append({"nodes": nodes, "rels": rels})
    return out


def add_records(con, evidence: list[dict]) -> None:
    """Fill in the ``records`` of every node of these subgraphs (read by :func:`subgraphs`
    with ``records=False``) with one lookup: it reads all of ``node_record`` whatever the
    number of keys (0.6 s at 5 M persons), so ``graphwatch run`` makes it once for all its
    models, not once per model (8.7 of a 42 s run)."""
    nodes = [n for ev in evidence for n in ev["nodes"]]
    found = _records(con, sorted({n["key"] for n in nodes}))
    for n in nodes:
        n["records"] = list(found.get(n["key"], []))


def _nodes(con, ids: list[int], *, records: bool = True, rows: dict | None = None) -> list[dict]:
    if not ids:
        return []
    known = rows or {}
    read = sorted([known[i] for i in ids if i in known] + node_rows(con, [i for i in ids if i not in known]),
                  key=lambda r: r["nid"])
    records = _records(con, [r["key"] for r in read]) if records else {}
    return [{"id": r["nid"], "key": r["key"], "labels": sorted(r["labels"]),
             "properties": {k: plain(v) for k, v in r.items() if k not in NODE_META and v is not None},
             "datasets": list(r["datasets"] or []), "records": records.get(r["key"], [])} for r in read]


def _records(con, keys: list[str]) -> dict[str, list[str]]:
    """``dataset#record`` of every source row behind each node key (its resolved members too)."""
    out: dict[str, list[str]] = {}
    for key, ref in con.execute("""SELECT key, dataset || '#' || unnest(coalesce(records, [record]))
            FROM node_record WHERE key IN (SELECT unnest($k))""", {"k": keys}).fetchall():
        out.setdefault(key, []).append(ref)
    resolved = con.execute("""SELECT count(*) FROM duckdb_tables() WHERE table_name IN ('er_member', 'er_unit')
        AND schema_name = 'main'""").fetchone()[0] == 2
    if resolved:
        for entity, ref in con.execute("""SELECT m.entity, u.dataset || '#' || unnest(coalesce(u.records, [u.record]))
                FROM er_member m JOIN er_unit u USING (unit) WHERE m.entity IN (SELECT unnest($k))""",
                                       {"k": keys}).fetchall():
            if ref not in out.setdefault(entity, []):
                out[entity].append(ref)
    return {k: sorted(v) for k, v in out.items()}


def _rels(con, ids: list[int]) -> list[dict]:
    if not ids:
        return []
    cols, rows = rel_rows(con, ids)
    out = []
    for row in sorted(rows, key=lambda r: r[cols.index("rid")]):
        r = dict(zip(cols, row))
        out.append({"id": r["rid"], "type": r["type"], "start": r["src"], "end": r["dst"],
                    "properties": {k: plain(v) for k, v in r.items() if k not in REL_META and v is not None},
                    "valid_from": plain(r["valid_from"]), "valid_to": plain(r["valid_to"]),
                    "dataset": r["dataset"], "datasets": list(r.get("datasets") or [r["dataset"]]),
                    "records": list(r.get("records") or [r["record"]])})
    return out
