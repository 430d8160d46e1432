"""A workspace schema the user extends (--schema FILE), and one inferred from a neo4j-admin
folder (--infer-schema): kept in the workspace, checked with file:line errors, used by the
engine; a property name keeps one type, and a disagreement names both places."""

from __future__ import annotations

from pathlib import Path

import pytest

from graphwatch.engines.duckdb import DuckDBEngine
from graphwatch.exc import InvalidMapping, SchemaError, SourceError, WorkspaceError
from graphwatch.ingest import load
from graphwatch.store import Workspace

BAD = Path(__file__).parent / "data" / "bad"

COMPANY_VEHICLES = """\
name: company_vehicles
title: {zh: 单位车辆, en: Company vehicles}
columns:
  号牌: {field: plate, required: true}
  车型: {field: kind}
  所有人信用代码: {field: uscc, type: uscc, required: true}
  燃料: {field: fuel}
nodes:
  vehicle: {label: Vehicle, key: "Vehicle:{plate}", properties: {plate: plate, vehicle_kind: kind, fuel: fuel}}
  owner: {label: Company, key: "Company:{uscc}", properties: {uscc: uscc}}
relationships:
  - {type: OWNS, from: owner, to: vehicle}
"""

EXTENSION = """\
labels:
  Vehicle:
    properties: {fuel: string}            # an existing label gains a property
  Garage:                                 # a new label
    title: {zh: 车库, en: Garage}
    properties: {capacity: integer}
relationships:
  OWNS:
    from: [Company]                       # companies own vehicles too
  PARKED_AT:
    title: {zh: 停放, en: parked at}
    from: [Vehicle]
    to: [Garage]
"""


@pytest.fixture
def county(tmp_path) -> Path:
    d = tmp_path / "county"
    d.mkdir()
    (d / "company_vehicles.csv").write_text(
        "号牌,车型,所有人信用代码,燃料\n晋A12345,小型轿车,91140105MA0ABC1232,汽油\n晋A54321,货车,91140105MA0ABC1232,柴油\n",
        encoding="utf-8")
    (tmp_path / "company_vehicles.yaml").write_text(COMPANY_VEHICLES, encoding="utf-8")
    (tmp_path / "extension.yaml").write_text(EXTENSION, encoding="utf-8")
    return d


def test_a_workspace_schema_extends_the_packaged_one(tmp_path, county):
    mapping = tmp_path / "company_vehicles.yaml"
    with Workspace(tmp_path / "ws", create=True) as ws:
        with pytest.raises(InvalidMapping) as info:    # without it: no fuel, and only persons own
            load(ws, [county], mapping=str(mapping))
        assert "property 'fuel' is not declared" in str(info.value)
        results = load(ws, [county], mapping=str(mapping), schema=tmp_path / "extension.yaml")
        assert results[0].rows_loaded == 2
        assert (ws.path / "schema.yaml").read_text(encoding="utf-8") == EXTENSION
        assert ws.schema.rel_types["OWNS"].from_labels == ("Person", "Company")
    # kept in the workspace: a new session (and the engine) sees it without --schema
    with DuckDBEngine(tmp_path / "ws") as eng:
        res = eng.run("MATCH (c:Company)-[:OWNS]->(v:Vehicle) RETURN v.plate AS plate, v.fuel AS fuel ORDER BY plate")
        assert res.rows == [("晋A12345", "汽油"), ("晋A54321", "柴油")]


def test_schema_mistakes_name_the_file_and_line_and_a_schema_only_grows(tmp_path, county):
    bad = tmp_path / "bad.yaml"
    bad.write_text("labels: {}\nrelationships:\n  OWNS:\n    from: [Compnay]\n", encoding="utf-8")
    with Workspace(tmp_path / "ws", create=True) as ws:
        with pytest.raises(SchemaError) as info:
            ws.use_schema(bad)
        assert "unknown label 'Compnay' (did you mean 'Company'?)" in str(info.value)
        assert info.value.file == str(bad) and info.value.line == 4
        retyped = tmp_path / "retyped.yaml"
        retyped.write_text("labels:\n  Vehicle:\n    properties: {plate: integer}\n", encoding="utf-8")
        with pytest.raises(SchemaError) as info:
            ws.use_schema(retyped)
        assert "property 'plate' is integer on Vehicle but string in" in str(info.value)
        ws.use_schema(tmp_path / "extension.yaml")
        smaller = tmp_path / "smaller.yaml"
        smaller.write_text("labels:\n  Vehicle:\n    properties: {fuel: string}\n", encoding="utf-8")
        with pytest.raises(WorkspaceError) as info:
            ws.use_schema(smaller)
        assert "also declares label Garage" in str(info.value) and "may only grow" in str(info.value)
        lookups = tmp_path / "lookups.yaml"
        lookups.write_text("labels: {}\nrelationships: {}\nlookups: [plate, id_numbr]\n", encoding="utf-8")
        with pytest.raises(SchemaError) as info:
            ws.use_schema(lookups)
        assert "lookups: 'id_numbr' is not a node property (did you mean 'id_number'?)" in str(info.value)
        assert info.value.file == str(lookups) and info.value.line == 3


def _export(folder: Path, **files: str) -> Path:
    folder.mkdir()
    for name, text in files.items():
        (folder / f"{name}.csv").write_text(text, encoding="utf-8")
    return folder


POLE = dict(
    crimes="crimeId:ID(Crime),:LABEL,type,date:date,charges:int[],weight:double\n"
           "c1,Crime,Burglary,2017-08-01,1;2,1.5\nc2,Crime,Drugs,2017-08-02,,2\n",
    people="personId:ID(Pole),:LABEL,name,age:int,nicknames:string[],areaCode\n"
           "p1,Human;Suspect,Jack,31,JP;Jacko,WN\np2,Human,Kathleen,45,,WN\n",
    Officer="officerId:ID(Pole),name,badge_no\no1,Devy,26-5234182\n",     # label from the file name
    rels=":START_ID(Pole),:END_ID(Crime),:TYPE,since:date\np1,c1,PARTY_TO_CRIME,2017-08-01\n"
         "o1,c1,INVESTIGATED,\np2,c2,PARTY_TO_CRIME,\n",
)


def test_infer_schema_loads_an_export_with_its_own_labels_types_and_arrays(tmp_path):
    folder = _export(tmp_path / "pole", **POLE)
    with Workspace(tmp_path / "ws", create=True) as ws:
        results = load(ws, [folder], infer_schema=True)
        schema_note, *loaded = results
        assert schema_note.format == "schema"
        assert "new label Crime: charges (integer_list), crimeId (string), date (date), type (string), " \
               "weight (float)" in schema_note.notes
        assert "new relationship type (Human|Suspect)-[:PARTY_TO_CRIME]->(Crime): since (date)" in schema_note.notes
        assert "new relationship type (Officer)-[:INVESTIGATED]->(Crime): since (date)" in schema_note.notes
        assert sum(r.rows_loaded for r in loaded) == 8 and sum(r.rows_quarantined for r in loaded) == 0
        # the named :ID columns are what the export's queries look nodes up by: indexed
        assert "lookup index on crimeId, officerId, personId (the :ID columns)" in schema_note.notes
        # a new workspace holds the export's own schema, not graphwatch's domain model beside it
        assert ws.schema.standalone and "Household" not in ws.schema.labels
        assert "id_number" not in ws.schema.node_properties
        assert ws.schema.lookups == ("crimeId", "officerId", "personId")
        from graphwatch.lookups import indexed
        assert {("node", p) for p in ("nid", "crimeId", "personId", "officerId")} <= indexed(ws.con)
        # a second load of the same folder infers nothing new
        again = load(ws, [folder], infer_schema=True)
        assert again[0].notes == ["nothing new: the workspace schema has it all"]
    with DuckDBEngine(tmp_path / "ws") as eng:
        res = eng.run("MATCH (h:Human)-[:PARTY_TO_CRIME]->(c:Crime) RETURN h.name AS name, h.nicknames AS nick, "
                      "c.charges AS charges, c.weight AS w ORDER BY name")
        assert res.rows == [("Jack", ["JP", "Jacko"], [1, 2], 1.5), ("Kathleen", None, None, 2.0)]
        assert eng.run("MATCH (o:Officer)-[:INVESTIGATED]->(c) RETURN o.badge_no").rows == [("26-5234182",)]


def test_infer_schema_names_both_places_of_a_property_with_two_types(tmp_path):
    twice = _export(tmp_path / "twice", a="id:ID(A),:LABEL,level:int\n1,Alpha,3\n",
                    b="id:ID(B),:LABEL,level:boolean\n1,Beta,true\n")
    widened = _export(tmp_path / "widened", a="id:ID(A),:LABEL,score:int\n1,Alpha,3\n",
                      b="id:ID(B),:LABEL,score:double\n1,Beta,2.5\n")
    later = _export(tmp_path / "later", c="id:ID(C),:LABEL,score:boolean\n1,Gamma,true\n")
    with Workspace(tmp_path / "ws", create=True) as ws:
        with pytest.raises(SourceError) as info:
            load(ws, [twice], infer_schema=True)
        # the paths in full, the header's line and column
        assert f"node property 'level' is boolean here but integer in {twice / 'a.csv'} column 'level:int'" \
            in str(info.value)
        assert (info.value.file, info.value.line, info.value.column) == (str(twice / "b.csv"), 1, "level:boolean")
        schema_note, *_ = load(ws, [widened], infer_schema=True)   # whole and decimal numbers widen to float
        assert ws.schema.node_properties["score"] == "float"
        assert any(n.startswith(f"node property 'score': whole numbers in {widened / 'a.csv'} column 'score:int' "
                                f"and decimal numbers in {widened / 'b.csv'}") for n in schema_note.notes)
        assert ws.totals()["nodes"] == 2
        with pytest.raises(SourceError) as info:   # a later export against the workspace's own schema
            load(ws, [later], infer_schema=True)
        assert f"'score' is boolean here but float in the workspace schema {ws.path.resolve() / 'schema.yaml'} " \
               "(Alpha, Beta)" in str(info.value)
        with pytest.raises(SourceError) as info:
            load(ws, [BAD / "divisions.csv"], infer_schema=True)
        assert "--infer-schema reads neo4j-admin import folders" in str(info.value)


def test_a_workspace_of_domain_data_refuses_an_export_typing_a_property_otherwise(tmp_path, mini_county):
    """Where the export must go into the domain model, a property it types differently from the
    packaged schema is refused, naming the packaged schema by its full path: the workspace cannot
    hold both types, and the export's values must not be narrowed to the domain's."""
    from graphwatch.schema import SCHEMA_FILE

    export = _export(tmp_path / "export", c="id:ID(C),:LABEL,birth_date:int,amount:double\n1,Gamma,1970,0.5\n")
    with Workspace(tmp_path / "ws", create=True) as ws:
        load(ws, [mini_county])
        with pytest.raises(SourceError) as info:
            load(ws, [export], infer_schema=True)
        assert f"'birth_date' is integer here but date in the packaged schema {SCHEMA_FILE.resolve()} (Person)" \
            in str(info.value)
        assert "load the export into a new workspace" in str(info.value)
        assert (info.value.file, info.value.line, info.value.column) == (str(export / "c.csv"), 1, "birth_date:int")
        assert not ws.schema.standalone and not (ws.path / "schema.yaml").exists()
    # a new workspace keeps the export's own types
    with Workspace(tmp_path / "ws2", create=True) as ws:
        load(ws, [export], infer_schema=True)
        assert ws.schema.node_properties["birth_date"] == "integer"
        assert ws.con.execute("SELECT birth_date, amount FROM node").fetchall() == [(1970, 0.5)]
