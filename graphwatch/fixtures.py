"""Small hand-written graphs written straight into a workspace.

Pattern fixtures, golden tests and the Neo4j parity tests describe tiny graphs as data::

    nodes:
      - {key: "Person:a", labels: [Person, Official], name: 张三, birth_date: 1970-01-01}
      - {key: "Company:c", labels: [Company], name: 某某公司}
    rels:
      - [Person:a, LEGAL_REP_OF, Company:c]
      - [Person:a, SHAREHOLDER_OF, Company:c, {share: 70.0}]

Labels, relationship types and properties are checked against the schema. Ids are the same
MD5-derived ids a load gives (a relationship's key is ``TYPE:src->dst#n``), so results name
the same ids on every run.
"""

from __future__ import annotations

import datetime as dt

from .exc import SchemaError
from .schema import did_you_mean
from .store import Workspace, key_id, q

DATASET = "fixture"


def write_graph(ws: Workspace, nodes: list[dict], rels: list, *, dataset: str = DATASET) -> None:
    """Replace the graph of ``ws`` by the given nodes and relationships (one transaction)."""
    s = ws.schema
    con = ws.con
    keys = set()
    labels_of: dict[str, list] = {}
    node_rows = []
    for i, n in enumerate(nodes):
        n = dict(n)
        key = n.pop("key", None)
        labels = n.pop("labels", [])
        if not key or key in keys:
            raise SchemaError(f"fixture node {i + 1}: missing or repeated key {key!r}")
        keys.add(key)
        labels_of[key] = list(labels)
        for lab in labels:
            if lab not in s.labels:
                raise SchemaError(f"fixture node {key}: unknown label {lab!r}{did_you_mean(lab, s.labels)}")
        for p in n:
            if p not in s.node_properties:
                raise SchemaError(f"fixture node {key}: unknown property {p!r}{did_you_mean(p, s.node_properties)}")
        node_rows.append((key, labels, {p: _value(v, s.node_properties[p]) for p, v in n.items()}))
    rel_rows = []
    for i, r in enumerate(rels):
        src, typ, dst, *rest = r
        props = dict(rest[0]) if rest else {}
        if typ not in s.rel_types:
            raise SchemaError(f"fixture relationship {i + 1}: unknown type {typ!r}{did_you_mean(typ, s.rel_types)}")
        for end in (src, dst):
            if end not in keys:
                raise SchemaError(f"fixture relationship {i + 1}: no node with key {end!r}")
        # the loaders' rule: the ends carry labels the type allows (the compiler relies on it)
        rt = s.rel_types[typ]
        ok = (set(labels_of[src]) & set(rt.from_labels)) and (set(labels_of[dst]) & set(rt.to_labels))
        if rt.undirected:
            ok = ok or ((set(labels_of[src]) & set(rt.to_labels)) and (set(labels_of[dst]) & set(rt.from_labels)))
        if not ok:
            raise SchemaError(f"fixture relationship {i + 1}: {typ} joins {src} {labels_of[src]} to {dst} "
                              f"{labels_of[dst]}, but the schema allows {list(rt.from_labels)} to {list(rt.to_labels)}")
        allowed = {**s.rel_properties, "valid_from": "date", "valid_to": "date"}
        for p in props:
            if p not in allowed:
                raise SchemaError(f"fixture relationship {i + 1}: unknown property {p!r}{did_you_mean(p, allowed)}")
        rel_rows.append((f"{typ}:{src}->{dst}#{i}", typ, src, dst,
                         {p: _value(v, allowed[p]) for p, v in props.items()}))
    with ws.transaction():           # the adjacency index is rebuilt with it
        for t in ("node_record", "node", "rel", "load_report", "quarantine"):
            con.execute(f"DELETE FROM {t}")
        for key, labels, props in node_rows:
            cols = ["nid", "key", "labels", "datasets"] + list(props)
            vals = [key_id("$key"), "$key", "$labels", "$ds"] + [f"${'p' + str(j)}" for j in range(len(props))]
            params = {"key": key, "labels": labels, "ds": [dataset]}
            params.update({f"p{j}": v for j, v in enumerate(props.values())})
            con.execute(f"INSERT INTO node ({', '.join(q(c) for c in cols)}) SELECT {', '.join(vals)}", params)
            rcols = ["key", "dataset", "record", "records", "labels", "priority"] + list(props)
            rvals = ["$key", "$d", "$key", "[$key]", "$labels", "0"] + [f"${'p' + str(j)}" for j in range(len(props))]
            params2 = {"key": key, "labels": labels, "d": dataset}
            params2.update({f"p{j}": v for j, v in enumerate(props.values())})
            con.execute(f"INSERT INTO node_record ({', '.join(q(c) for c in rcols)}) SELECT {', '.join(rvals)}",
                        params2)
        for rkey, typ, src, dst, props in rel_rows:
            cols = ["rid", "type", "src", "dst", "dataset", "record"] + list(props)
            vals = [key_id("$rk"), "$t", key_id("$s"), key_id("$d"), "$ds", "$rk"] + \
                [f"${'p' + str(j)}" for j in range(len(props))]
            params = {"rk": rkey, "t": typ, "s": src, "d": dst, "ds": dataset}
            params.update({f"p{j}": v for j, v in enumerate(props.values())})
            con.execute(f"INSERT INTO rel ({', '.join(q(c) for c in cols)}) SELECT {', '.join(vals)}", params)


def node_id(ws: Workspace, key: str) -> int:
    """The id a node key gets (the same in every workspace)."""
    return ws.con.execute(f"SELECT {key_id('$k')}", {"k": key}).fetchall()[0][0]


def _value(v, typ: str):
    if v is None:
        return None
    if typ == "date" and isinstance(v, str):
        return dt.date.fromisoformat(v)
    if typ == "datetime" and isinstance(v, str):
        return dt.datetime.fromisoformat(v)
    return v
