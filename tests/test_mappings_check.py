"""`graphwatch mappings check`: every independent mistake of a mapping file at once, each at the
line of the key or value it is about; a mistake that only follows from another is not repeated.
Also the line of a mistake in a workspace schema (--schema)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from graphwatch.cli import main
from graphwatch.exc import InvalidMapping, SchemaError
from graphwatch.ingest.check import check_mappings
from graphwatch.ingest.mapping import parse_mapping
from graphwatch.schema import load_schema, parse_schema

# four mistakes, none caused by another; block style, so the key lines differ from the node lines
FOUR = """\
name: four
title: {zh: 四处错误, en: Four mistakes}
columns:
  姓名: {field: name, requird: true}
  身份证号: {field: id_number, type: resident_id}
  村: {field: village, type: strng}
nodes:
  person:
    label: Persn
    key: {resident_id: id_number}
    properties:
      name: name
      phone: nme
relationships:
  - type: RECIEVES
    from: person
    to: person
"""


def _errors(folder: Path) -> list[tuple[str, int, str]]:
    report = check_mappings([folder], schema=load_schema(), shipped=False)
    return [(Path(e.file).name, e.line, e.message) for e in report.errors]


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_every_independent_mistake_of_a_file_is_reported_at_its_own_line(tmp_path):
    _write(tmp_path / "m", "four.yaml", FOUR)
    got = _errors(tmp_path / "m")
    assert [(line, msg) for _, line, msg in got] == [
        (4, "column '姓名': unknown option 'requird' (did you mean 'required'?)"),
        (6, "column '村': unknown type 'strng' (did you mean 'string'?); use one of "
            "['string', 'integer', 'float', 'decimal', 'boolean', 'date', 'datetime', 'month', 'percent', "
            "'resident_id', 'uscc']"),
        (9, "unknown label 'Persn' (did you mean 'Person'?)"),          # the line of 'label:', not of 'person:'
        (13, "node 'person': unknown field 'nme' (did you mean 'name'?)"),
        (15, "unknown relationship type 'RECIEVES' (did you mean 'RECEIVES'?)"),
    ]
    assert {f for f, _, _ in got} == {"four.yaml"}


def test_a_mistake_that_follows_from_another_is_not_repeated(tmp_path):
    m = tmp_path / "m"
    # 'colums' is one mistake: no "missing key 'columns'", no unknown field for every reference
    _write(m, "a.yaml", "name: a\ntitle: {zh: 甲, en: A}\ncolums: {甲: a}\n"
                        "nodes:\n  n: {label: Person, key: 'Person:{a}', properties: {name: b}}\n")
    # a node of an unknown label: its properties and the relationships it ends are not checked
    # against the schema; a column of an unknown type used as a date is not a second mistake;
    # a field YAML read as a boolean (no) is not also unknown where the key names it
    _write(m, "b.yaml", """\
name: b
title: {zh: 乙, en: B}
columns:
  编号: {field: no}
  日期: {field: day, type: dat}
nodes:
  p: {label: Persn, key: "Person:{no}", properties: {nosuch: day}}
  c: {label: Company, key: "Company:{no}"}
relationships:
  - {type: LEGAL_REP_OF, from: p, to: c, valid_from: day}
""")
    got = _errors(m)
    assert got == [
        ("a.yaml", 3, "unknown key 'colums' (did you mean 'columns'?)"),
        ("b.yaml", 4, "column '编号': field must be a name, got False (YAML reads no/yes/on/off/true/false "
                      "unquoted as booleans: quote the name)"),
        ("b.yaml", 5, "column '日期': unknown type 'dat' (did you mean 'date'?); use one of ['string', 'integer', "
                      "'float', 'decimal', 'boolean', 'date', 'datetime', 'month', 'percent', 'resident_id', 'uscc']"),
        ("b.yaml", 7, "unknown label 'Persn' (did you mean 'Person'?)"),
    ]


def test_malformed_values_are_errors_not_tracebacks(tmp_path):
    m = tmp_path / "m"
    _write(m, "odd.yaml", """\
name: odd
title: {zh: 怪, en: Odd}
priority: high
csv: {delimiter: ",,", encodng: gbk}
columns:
  甲: {field: a, values: 5}
  乙: {field: b}
nodes:
  n: {label: Person, key: "Person:{a}"}
  c:
    label: Company
    key: {resident_id: b}
relationships:
  - {type: LEGAL_REP_OF, from: [n], to: c}
derive: [5, {kinship: [1]}]
""")
    assert _errors(m) == [
        ("odd.yaml", 3, "priority must be a whole number (lower wins; default 50), got 'high'"),
        ("odd.yaml", 4, "csv: unknown option 'encodng' (did you mean 'encoding'?)"),
        ("odd.yaml", 4, "csv: delimiter must be one character, got ',,'"),
        ("odd.yaml", 6, "column '甲': values must map raw values to stored values"),
        ("odd.yaml", 12, "node 'c': key resident_id must name a resident_id field, not the string field 'b'"),
        ("odd.yaml", 14, "LEGAL_REP_OF: 'from' must name a node of this mapping"),
        ("odd.yaml", 15, "unknown derivation 5; known: ['kinship', 'co_occurrence']"),
        ("odd.yaml", 15, "derivation 'kinship': its options are a mapping such as {window_minutes: 120}"),
    ]


def test_a_load_stops_at_the_first_and_the_cli_prints_every_mistake_on_its_own_line(tmp_path):
    m = tmp_path / "m"
    path = _write(m, "four.yaml", FOUR)
    with pytest.raises(InvalidMapping) as info:
        parse_mapping(path)
    assert info.value.line == 4 and len(info.value.others) == 4
    assert [e.line for e in info.value.all] == [4, 6, 9, 13, 15]

    res = CliRunner().invoke(main, ["mappings", "check", str(m), "--no-shipped-mappings"])
    assert res.exit_code == 1 and "Traceback" not in res.output
    lines = [ln for ln in res.output.splitlines() if ln.startswith("error:")]
    assert [int(re.search(r"line (\d+):", ln).group(1)) for ln in lines] == [4, 6, 9, 13, 15]
    assert all(str(path) in ln for ln in lines)
    assert "0 mapping(s) read; 5 error(s) in 1 file(s)" in res.output

    data = tmp_path / "county"
    data.mkdir()
    (data / "x.csv").write_text("姓名,身份证号,村\n张三,,东村\n", encoding="utf-8")
    res = CliRunner().invoke(main, ["load", str(data), "--mappings", str(m), "--workspace", str(tmp_path / "ws")])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert len([ln for ln in res.output.splitlines() if ln.startswith("error:")]) == 5
    assert not (tmp_path / "ws").exists()


def test_a_schema_mistake_names_the_line_of_the_key_it_is_about(tmp_path):
    schema = _write(tmp_path, "schema.yaml", """\
labels:
  Garage:
    title: {zh: 车库, en: Garage}
    properties:
      capacity: integr
relationships:
  PARKED_AT:
    title: {zh: 停放, en: parked at}
    from: [Vehicle]
    to: [Garage]
""")
    with pytest.raises(SchemaError) as info:
        parse_schema(schema, base=load_schema())
    assert info.value.line == 5            # the property's own line, not the label's (2)
    assert "Garage.capacity: unknown type 'integr' (did you mean 'integer'?)" in str(info.value)

    schema.write_text("labels: {}\nrelationships:\n  PARKED_AT:\n    title: {zh: 停放, en: parked at}\n"
                      "    from:\n      - Vehicle\n      - Garaje\n    to: [Vehicle]\n", encoding="utf-8")
    with pytest.raises(SchemaError) as info:
        parse_schema(schema, base=load_schema())
    assert info.value.line == 7 and "unknown label 'Garaje'" in str(info.value)

    schema.write_text("labels: {}\nrelationships: {}\nlookups:\n  - plate\n  - id_numbr\n", encoding="utf-8")
    with pytest.raises(SchemaError) as info:
        parse_schema(schema, base=load_schema())
    assert info.value.line == 5 and "(did you mean 'id_number'?)" in str(info.value)

    # the CLI: one line naming file and line, no traceback
    (tmp_path / "m").mkdir()
    res = CliRunner().invoke(main, ["mappings", "check", str(tmp_path / "m"), "--no-shipped-mappings",
                                    "--schema", str(schema)])
    assert res.exit_code == 2 and f"{schema}, line 5: lookups:" in res.output and "Traceback" not in res.output


def test_every_independent_mistake_of_a_schema_file_at_once(tmp_path):
    schema = _write(tmp_path, "schema.yaml", """\
labels:
  Garage:
    title: {zh: 车库, en: Garage}
    propertes: {capacity: integer}
  Vehicle:
    properties:
      fuel: strng
      plate: integer
relationships:
  PARKED_AT:
    title: {zh: 停放, en: parked at}
    from: [Vehicle, Bicycle]
    to: [Garage]
    properties: {valid_from: date}
lookups: [plate, id_numbr]
""")
    with pytest.raises(SchemaError) as info:
        parse_schema(schema, base=load_schema())
    got = [(e.line, e.message) for e in info.value.all]
    assert [line for line, _ in got] == [4, 7, 8, 12, 14, 15]
    assert "label 'Garage': unknown key 'propertes' (did you mean 'properties'?)" == got[0][1]
    assert got[1][1].startswith("Vehicle.fuel: unknown type 'strng' (did you mean 'string'?)")
    assert got[2][1].startswith("property 'plate' is integer on Vehicle but string in")
    assert got[3][1] == "PARKED_AT: unknown label 'Bicycle'"
    assert got[4][1] == "PARKED_AT: 'valid_from' is built in"
    # 'plate' is a property (the packaged Vehicle's): only 'id_numbr' is a mistake of the lookups
    assert got[5][1] == "lookups: 'id_numbr' is not a node property (did you mean 'id_number'?)"

    (tmp_path / "m").mkdir()
    res = CliRunner().invoke(main, ["mappings", "check", str(tmp_path / "m"), "--no-shipped-mappings",
                                    "--schema", str(schema)])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert [int(re.search(r", line (\d+):", ln).group(1)) for ln in res.output.splitlines()
            if ln.startswith("error:")] == [4, 7, 8, 12, 14, 15]
