"""i2 Analyst's Notebook exchange format (ANX XML), so a case can continue in i2.

Written by hand (no library writes ANX): a ``Chart`` with the strengths (line styles of
confidence), link types, entity types and attribute classes used, then one ``ChartItem`` per
entity — ``Entity`` with its type and identity (the workspace key), its properties as
attributes and an evidence card per source record — and one per relationship — ``Link``
between the two entities' ids with its type, arrow (direction; none for undirected kinship),
strength, dates and a card per source record. Dates are i2's ``YYYY-MM-DDTHH:MM:SS.000``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from ..analytics.graph import primary_label
from ..schema import Schema
from .evidence import Evidence, node_caption, records_of
from .style import label_title, line_of, property_title, type_title

STRENGTHS = {"solid": ("Confirmed", "DotStyleSolid"), "dashed": ("Unconfirmed", "DotStyleDashed"),
             "dotted": ("Tentative", "DotStyleDotted")}
#: i2's standard icon for each label (IconFile names of the i2 standard palette)
ICONS = {"Person": "Person", "Official": "Official", "VillageCadre": "Official", "Company": "Organisation",
         "Organisation": "Government", "Village": "Place", "Township": "Place", "County": "Place",
         "Household": "House", "Project": "Project", "Tender": "Document", "Contract": "Contract",
         "Programme": "Money", "Benefit": "Money", "DeathRecord": "Document", "Disability": "Document",
         "RealEstate": "House", "Vehicle": "Car", "PoliceCase": "Police"}


def i2_date(value) -> str | None:
    """An ISO date or date-time as i2 writes it.

    >>> i2_date("2021-03-05"), i2_date("2021-03-05T14:30:00"), i2_date(None)
    ('2021-03-05T00:00:00.000', '2021-03-05T14:30:00.000', None)
    """
    if not value:
        return None
    text = str(value)
    if len(text) == 10:
        return text + "T00:00:00.000"
    return text[:19] + ".000"


def to_anx(ev: Evidence, *, schema: Schema, lang: str = "zh") -> ET.ElementTree:
    """The ANX document of an evidence subgraph."""
    chart = ET.Element("Chart", IdReferenceLinking="false", Rigorous="true", UseLocalTimeZone="true",
                       LabelRule="LabelRuleMerge", BlankLinkLabels="false")
    # summary of the chart: title and explanation (i2 shows it in Chart Properties)
    summary = ET.SubElement(chart, "Summary")
    ET.SubElement(summary, "Title", Value=ev.title(lang))
    ET.SubElement(summary, "Subject", Value=ev.explanation(lang))
    ET.SubElement(summary, "Author", Value=ev.generated_by)
    ET.SubElement(summary, "Comments", Value=f"graphwatch {ev.kind} {ev.what}; generated {ev.generated_at}; "
                                             + ("ID and phone numbers masked" if ev.masked else "unmasked"))
    strengths = ET.SubElement(chart, "StrengthCollection")
    for name, dot in STRENGTHS.values():
        ET.SubElement(strengths, "Strength", Id=name, Name=name, DotStyle=dot)
    link_types = ET.SubElement(chart, "LinkTypeCollection")
    for t in sorted({r["type"] for r in ev.rels}):
        ET.SubElement(link_types, "LinkType", Id=f"LT_{t}", Name=t, Colour="0")
    entity_types = ET.SubElement(chart, "EntityTypeCollection")
    labels = sorted({primary_label(n["labels"]) or "Entity" for n in ev.nodes})
    for lab in labels:
        ET.SubElement(entity_types, "EntityType", Id=f"ET_{lab}", Name=lab, IconFile=ICONS.get(lab, "General"),
                      Colour="0", PreferredRepresentation="RepresentAsIcon")
    props = sorted({k for item in ev.nodes + ev.rels for k in item["properties"]})
    classes = ET.SubElement(chart, "AttributeClassCollection")
    for p in props:
        numeric = all(isinstance(item["properties"].get(p), (int, float)) and not isinstance(item["properties"].get(p), bool)
                      for item in ev.nodes + ev.rels if item["properties"].get(p) is not None)
        ET.SubElement(classes, "AttributeClass", Id=f"AC_{p}", Name=p, Type="AttNumber" if numeric else "AttText",
                      UserCanAdd="true", UserCanRemove="true", ShowValue="true",
                      Prefix=property_title(p, lang) + " " if property_title(p, lang) != p else "")
    items = ET.SubElement(chart, "ChartItemCollection")
    for n in ev.nodes:
        lab = primary_label(n["labels"]) or "Entity"
        item = ET.SubElement(items, "ChartItem", Id=f"N{n['id']}", Label=node_caption(n),
                             Description=f"{label_title(schema, lab, lang)} · {n['key']}", DateSet="false",
                             SourceReference="; ".join(records_of(n))[:1000],
                             SourceType="; ".join(n.get("datasets", [])))
        _attributes(item, n["properties"])
        _cards(item, node_caption(n), records_of(n), None, lang)
        end = ET.SubElement(item, "End", X="0", Y="0")
        entity = ET.SubElement(end, "Entity", EntityId=f"N{n['id']}", Identity=n["key"], LabelIsIdentity="false")
        icon = ET.SubElement(entity, "Icon")
        ET.SubElement(icon, "IconStyle", Type=lab, EntityTypeReference=f"ET_{lab}")
    for r in ev.rels:
        undirected = r["type"] in schema.rel_types and schema.rel_types[r["type"]].undirected
        when = i2_date(r.get("valid_from"))
        label = type_title(schema, r["type"], lang)
        if r.get("valid_from") or r.get("valid_to"):
            label += f" {r.get('valid_from') or '…'}–{r.get('valid_to') or '…'}"
        item = ET.SubElement(items, "ChartItem", Id=f"R{r['id']}", Label=label, Description=r["type"],
                             DateSet="true" if when else "false", TimeSet="false",
                             SourceReference="; ".join(records_of(r))[:1000],
                             SourceType="; ".join(r.get("datasets") or [r.get("dataset") or ""]))
        if when:
            item.set("DateTime", when)
        _attributes(item, {**r["properties"], **{k: r[k] for k in ("valid_from", "valid_to") if r.get(k)}})
        _cards(item, label, records_of(r), when, lang)
        link = ET.SubElement(item, "Link", End1Id=f"N{r['start']}", End2Id=f"N{r['end']}")
        strength = STRENGTHS[line_of(r)][0]
        ET.SubElement(link, "LinkStyle", Type=r["type"], LinkTypeReference=f"LT_{r['type']}",
                      ArrowStyle="ArrowNone" if undirected else "ArrowOnHead", Strength=strength,
                      StrengthReference=strength, MlStyle="MultiplicityMultiple")
    ET.indent(chart, space=" ")
    return ET.ElementTree(chart)


def _attributes(item, properties: dict) -> None:
    if not properties:
        return
    coll = ET.SubElement(item, "AttributeCollection")
    for k, v in properties.items():
        if v is None or v == "":
            continue
        value = "; ".join(str(x) for x in v) if isinstance(v, list) else str(v)
        ET.SubElement(coll, "Attribute", AttributeClass=k, AttributeClassReference=f"AC_{k}", Value=value)


def _cards(item, summary: str, refs: list[str], when: str | None, lang: str) -> None:
    """One evidence card per source record: what, when, the source reference and type."""
    if not refs:
        return
    coll = ET.SubElement(item, "CardCollection")
    for ref in refs[:50]:
        dataset = ref.split("#", 1)[0]
        card = ET.SubElement(coll, "Card", Summary=summary, Text=("来源记录 " if lang == "zh" else "source record ") + ref,
                             SourceReference=ref, SourceType=dataset, DateSet="true" if when else "false",
                             TimeSet="false")
        if when:
            card.set("DateTime", when)


def write_anx(ev: Evidence, out: Path, *, schema: Schema, lang: str = "zh") -> None:
    to_anx(ev, schema=schema, lang=lang).write(out, encoding="utf-8", xml_declaration=True)
