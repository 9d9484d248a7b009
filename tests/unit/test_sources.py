"""The source records' checks (layers/records.py, layers/sources.py): each problem is one line
naming file, line, record and field, and every problem of every file is reported at once."""

from pathlib import Path

import pytest

from layers.records import MODELS, Known
from layers.sources import SourceError, load_sources

CITE = "      - {doc: 000_165aea33ce99897c.txt, line: 318, quote: 支持十堰}\n"


def _role(extra: str = "", **fields: str) -> str:
    """A well-formed role, `fields` replacing its lines (an empty value drops the field)."""
    lines = {"id": "test-role", "adcode": "420300", "type": "role", "text_zh": "中国商用车之都",
             "text_en": "capital of commercial vehicles", "year": "2020", **fields}
    body = "".join(f"    {k}: {v}\n" if i else f"  - {k}: {v}\n"
                   for i, (k, v) in enumerate((k, v) for k, v in lines.items() if v))
    return "roles:\n" + body + extra + "    sources:\n" + CITE


def _problems(sources: Path, text: str, name: str = "extra.yaml") -> list[str]:
    (sources / name).write_text(text, encoding="utf-8")
    with pytest.raises(SourceError) as err:
        load_sources(sources)
    return err.value.problems


def _line(text: str, start: str) -> int:
    return 1 + next(i for i, line in enumerate(text.split("\n")) if line.lstrip(" -").startswith(start))


def test_a_well_formed_record_passes(sources_copy):
    (sources_copy / "extra.yaml").write_text(_role(), encoding="utf-8")
    assert load_sources(sources_copy).by_id("roles")["test-role"].data["year"] == 2020


@pytest.mark.parametrize(("fields", "extra", "at", "message"), [
    # a wrongly typed field: nothing is coerced
    ({"year": '"2020"'}, "", "year:", "year: '2020' is not a valid int"),
    ({"text_en": "12"}, "", "text_en:", "text_en: 12 is not a valid str"),
    ({"text_zh": '"  "'}, "", "text_zh:", "text_zh: '  ' is not a valid str"),
    ({"id": "Test_Role"}, "", "id:", "id: 'Test_Role' is not a valid id"),
    ({"adcode": '"420300"'}, "", "adcode:", "adcode: '420300' is not a known adcode"),
    ({}, "    sectors: []\n", "sectors:", "sectors: expected a non-empty list"),
    ({}, "    sectors: [auto, nosuch]\n", "sectors:",
     "sectors[1]: 'nosuch' is not a sector code in sectors.yaml"),
    # a bad enum value
    ({"type": "rolez"}, "", "type:",
     "type: 'rolez' is not one of role, leading_industry, resource, brand, designation"),
    # an unknown field
    ({}, "    colour: red\n", "colour:", "colour: unknown field (see data/sources/README.md)"),
    # a missing required field: on the record's line
    ({"text_en": ""}, "", "id:", "text_en: required field is missing"),
    ({"text_en": "null"}, "", "id:", "text_en: required field is missing"),
])
def test_a_bad_field_fails_with_file_line_record_and_field(sources_copy, fields, extra, at, message):
    text = _role(extra, **fields)
    rid = fields.get("id", "test-role")
    problems = _problems(sources_copy, text)
    assert f"sources/extra.yaml:{_line(text, at)}: roles {rid}: {message}" in problems, problems


def test_an_empty_optional_field_is_a_field_not_given(sources_copy):
    (sources_copy / "extra.yaml").write_text(_role(year="null"), encoding="utf-8")
    assert load_sources(sources_copy).by_id("roles")["test-role"].data["year"] is None


@pytest.mark.parametrize(("cite", "message"), [
    ("{doc: nosuch.txt, line: 3, quote: x}", "sources[0]: 'nosuch.txt' is not a document in documents.yaml"),
    ("{doc: 000_165aea33ce99897c.txt, line: 0, quote: x}",
     "sources[0]: line must be a positive int, quote a string"),
    ("{doc: 000_165aea33ce99897c.txt, line: 3, to: 30, quote: x}",
     "sources[0]: to must be a line number from line to line+10"),
    ("{doc: 000_165aea33ce99897c.txt, quote: x}",
     "sources[0]: a citation has doc, line, quote and optionally to"),
    ("just words", "sources[0]: a citation has doc, line, quote and optionally to"),
    ("{doc: 000_165aea33ce99897c.txt, line: 3, quote: x, page: 2}", "sources[0]: unknown keys ['page']"),
])
def test_a_malformed_citation_is_named_by_its_place(sources_copy, cite, message):
    text = _role().replace(CITE, f"      - {cite}\n")
    problems = _problems(sources_copy, text)
    assert f"sources/extra.yaml:{_line(text, 'sources:')}: roles test-role: {message}" in problems, problems


def test_composite_fields_say_their_form(sources_copy):
    text = ("clusters:\n  - id: test-cluster\n    name_zh: 测试\n    name_en: test\n    kind: cluster\n"
            "    ordered: true\n    members: [420100, {role_zh: 先锋}, {adcode: 420900, role_zh: 先锋}]\n"
            "    sectors: [auto]\n    sources:\n" + CITE +
            "targets:\n  - id: test-target\n    subject: {}\n    metric_zh: x\n    metric_en: x\n"
            "    value_text: 100亿\n    status: target\n    defect: {text: 200亿, reading: 20亿}\n"
            "    sources:\n" + CITE)
    problems = _problems(sources_copy, text)
    cluster, target = (f"sources/extra.yaml:{_line(text, f)}: " for f in ("members:", "subject:"))
    defect = f"sources/extra.yaml:{_line(text, 'defect:')}: "
    for expected in (
        cluster + "clusters test-cluster: members[1]: a member is an adcode or {adcode, role_zh, ...}",
        cluster + "clusters test-cluster: members[2]: a member role needs its own sources",
        target + "targets test-target: subject: needs at least one of adcode, park, sector",
        defect + "targets test-target: defect: text '200亿' is not part of value_text",
    ):
        assert expected in problems, problems


def test_every_problem_of_every_file_is_reported_at_once(sources_copy):
    (sources_copy / "a.yaml").write_text(_role(year='"2020"'), encoding="utf-8")
    (sources_copy / "b.yaml").write_text(_role(id="other-role", type="rolez"), encoding="utf-8")
    with pytest.raises(SourceError) as err:
        load_sources(sources_copy)
    assert any(p.startswith("sources/a.yaml:") and "year:" in p for p in err.value.problems)
    assert any(p.startswith("sources/b.yaml:") and "type:" in p for p in err.value.problems)


def test_a_malformed_value_does_not_stop_the_other_checks(sources_copy):
    """A relation read from a malformed field is not checked (it would only repeat it), and a
    malformed record never stops the checks of its other fields or of other records."""
    text = ("projects:\n  - id: test-project\n    name_zh: 测试项目\n    sectors: [auto]\n"
            "    park: no-such-park\n    city_adcode: 420100\n"
            "    county_adcode: {value: 420102, inferred: 1}\n"
            "    sources:\n" + CITE)
    problems = _problems(sources_copy, text)
    assert "sources/extra.yaml:2: projects test-project: park 'no-such-park' is not a park id" in problems
    assert any("county_adcode: an inferred value is" in p for p in problems), problems


def test_the_models_name_the_same_kinds_as_the_readme():
    readme = (Path(__file__).resolve().parents[2] / "data" / "sources" / "README.md").read_text("utf-8")
    for kind in MODELS:
        assert f"### `{kind}`" in readme, kind


def test_a_model_checks_values_against_what_the_context_knows():
    role = {"id": "r", "adcode": 420300, "type": "role", "text_zh": "x", "text_en": "x",
            "sectors": ["auto"], "sources": [{"doc": "d.txt", "line": 1, "quote": "x"}]}
    MODELS["roles"].model_validate(role)  # without a context: shape and types only
    MODELS["roles"].model_validate(role, context=Known(adcodes={420300: 420000}, sectors={"auto"},
                                                       docs={"d.txt"}, seeds={"d.txt": ["x y"]}))
    with pytest.raises(ValueError, match="quote 'x' is not on d.txt line 1"):
        MODELS["roles"].model_validate(role, context=Known(sectors={"auto"}, docs={"d.txt"},
                                                           seeds={"d.txt": ["y"]}))
