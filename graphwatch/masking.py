"""Masking of personal identifiers in everything graphwatch shows or exports.

Resident ID numbers and phone numbers are masked by default — on the command line, in
exports and diagrams, in the explorer — keeping enough to tell records apart: the region and
the last four characters of an ID (``4401**********0014``), the carrier prefix and the last
four digits of a phone (``138****0000``). Showing them in full is an explicit choice that is
recorded in the workspace's audit table.
"""

from __future__ import annotations

import re

#: property names whose values are identifiers to mask
ID_PROPERTIES = ("id_number",)
PHONE_PROPERTIES = ("phone",)
_ID_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{8})(\d{3}[0-9Xx])(?![0-9A-Za-z])|"
                         r"(?<![0-9A-Za-z])(\d{6})(\d{6})(\d{3})(?![0-9A-Za-z])")
_PHONE_IN_TEXT = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)")


def mask_id(value: str | None) -> str | None:
    """A resident ID with its birth date and sequence hidden.

    >>> mask_id("440103199001010014"), mask_id("440103900101001"), mask_id(None)
    ('4401**********0014', '4401*******1001', None)
    """
    if not value:
        return value
    v = str(value)
    return v[:4] + "*" * (len(v) - 8) + v[-4:] if len(v) > 8 else "*" * len(v)


def mask_phone(value: str | None) -> str | None:
    """A phone number with its middle digits hidden.

    >>> mask_phone("13800000000"), mask_phone("0371-1234567")
    ('138****0000', '037*****4567')
    """
    if not value:
        return value
    v = str(value)
    return v[:3] + "*" * (len(v) - 7) + v[-4:] if len(v) > 7 else "*" * len(v)


def mask_text(text: str | None) -> str | None:
    """Every ID number and mobile number inside a text, masked.

    >>> mask_text("王某（440103199001010014，电话13800000000）")
    '王某（4401**********0014，电话138****0000）'
    """
    if not text:
        return text
    text = _ID_IN_TEXT.sub(lambda m: mask_id(m.group(0)), text)
    return _PHONE_IN_TEXT.sub(lambda m: mask_phone(m.group(0)), text)


def mask_properties(props: dict) -> dict:
    """A node's or relationship's properties with identifiers masked (values in lists too)."""
    out = {}
    for k, v in props.items():
        if k in ID_PROPERTIES:
            out[k] = mask_id(v)
        elif k in PHONE_PROPERTIES:
            out[k] = mask_phone(v)
        elif isinstance(v, str):
            out[k] = mask_text(v)
        elif isinstance(v, list):
            out[k] = [mask_text(x) if isinstance(x, str) else x for x in v]
        else:
            out[k] = v
    return out


def mask_key(key: str | None) -> str | None:
    """A node key whose identity part is an ID number (``Person:<id>``), masked."""
    if not key or ":" not in key:
        return key
    prefix, rest = key.split(":", 1)
    return f"{prefix}:{mask_text(rest)}"


def mask_evidence(evidence: dict) -> dict:
    """An evidence subgraph (:func:`graphwatch.alerts.evidence.subgraph`) with identifiers masked."""
    nodes = [{**n, "key": mask_key(n["key"]), "properties": mask_properties(n["properties"]),
              "records": [mask_text(r) for r in n.get("records", [])]} for n in evidence.get("nodes", [])]
    rels = [{**r, "start_key": mask_key(r.get("start_key")), "end_key": mask_key(r.get("end_key")),
             "properties": mask_properties(r["properties"])} for r in evidence.get("rels", [])]
    return {**evidence, "nodes": nodes, "rels": rels}


def mask_alert(alert: dict) -> dict:
    """An alert as the store gives it, with identifiers masked wherever they appear."""
    out = dict(alert)
    for side in ("subject", "object"):
        out[f"{side}_key"] = mask_key(alert.get(f"{side}_key"))
        ident = alert.get(f"{side}_ident")
        out[f"{side}_ident"] = mask_text(ident) if ident else ident
    for k in ("explain_zh", "explain_en"):
        out[k] = mask_text(alert.get(k))
    if "evidence" in alert:
        out["evidence"] = mask_evidence(alert["evidence"])
    return out
