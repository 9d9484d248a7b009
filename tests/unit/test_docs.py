"""The manual is checked like code: its commands, links, module paths, settings and benchmark
numbers must match the repository (README.md, docs/*.md, data/sources/README.md)."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MANUAL = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
DOCS = [*MANUAL, REPO / "data" / "sources" / "README.md"]


def _rel(path: Path) -> str:
    return str(path.relative_to(REPO))


def _ids(paths: list[Path]) -> list[str]:
    return [_rel(p) for p in paths]


# --- commands -----------------------------------------------------------------------------

FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.M | re.S)
INLINE = re.compile(r"`(atlas [^`]+)`")
FLAG = re.compile(r"(?<![\w-])--([a-z][a-z0-9-]*)")


def fenced_lines(text: str) -> Iterator[str]:
    for block in FENCE.findall(text):
        yield from (line.strip() for line in block.splitlines())


def make_targets() -> set[str]:
    targets: set[str] = set()
    for line in (REPO / "Makefile").read_text(encoding="utf-8").splitlines():
        m = re.match(r"^([\w.-]+(?:[ \t]+[\w.-]+)*)[ \t]*:(?!=)", line)
        if m:
            targets.update(m.group(1).split())
    return targets


def atlas_commands(text: str) -> Iterator[str]:
    """Every `atlas <verb> …` the text gives, in a fenced block or inline."""
    for line in fenced_lines(text):
        line = re.sub(r"^(\S*/)?atlas ", "atlas ", line)
        if line.startswith("atlas "):
            yield line.split(" #")[0]
    yield from (" ".join(span.split()) for span in INLINE.findall(text))


@cache
def cli_verbs() -> dict[str, set[str]]:
    """Each verb of `atlas` with the flags it accepts, read from the click commands."""
    from server.cli import cli

    return {name: {opt[2:] for param in command.params for opt in param.opts if opt.startswith("--")}
            for name, command in cli.commands.items()}


@pytest.mark.parametrize("doc", MANUAL, ids=_ids(MANUAL))
def test_make_commands_name_makefile_targets(doc):
    targets = make_targets()
    for line in fenced_lines(doc.read_text(encoding="utf-8")):
        words = line.split("#")[0].split()
        if words[:1] == ["make"]:
            named = [w for w in words[1:] if "=" not in w and not w.startswith("-")]
            assert set(named) <= targets, f"{_rel(doc)}: `{line}` names no Makefile target"


@pytest.mark.parametrize("doc", MANUAL, ids=_ids(MANUAL))
def test_atlas_commands_name_real_verbs_and_flags(doc):
    verbs = cli_verbs()
    for command in atlas_commands(doc.read_text(encoding="utf-8")):
        verb = re.match(r"atlas ([a-z]+)", command)
        assert verb and verb.group(1) in verbs, f"{_rel(doc)}: `{command}`: no such verb"
        unknown = set(FLAG.findall(command)) - verbs[verb.group(1)]
        assert not unknown, f"{_rel(doc)}: `{command}`: atlas {verb.group(1)} takes no {unknown}"


def test_the_cli_check_sees_every_verb():
    assert {"build", "serve", "export", "tiles", "synth", "layers"} <= set(cli_verbs())
    assert {"out", "db", "sources", "seeds"} <= cli_verbs()["build"]


def test_the_readme_gives_the_two_commands():
    lines = list(fenced_lines((REPO / "README.md").read_text(encoding="utf-8")))
    assert any(line.startswith("make run") for line in lines)
    assert any(line.startswith("make test") for line in lines)


# --- links and paths ------------------------------------------------------------------------

LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(doc: Path) -> set[str]:
    text = FENCE.sub("", doc.read_text(encoding="utf-8"))
    found: set[str] = set()
    for heading in re.findall(r"^#{1,6} (.+)$", text, re.M):
        base = slug(heading)
        name, n = base, 0
        while name in found:
            n += 1
            name = f"{base}-{n}"
        found.add(name)
    return found


@pytest.mark.parametrize("doc", DOCS, ids=_ids(DOCS))
def test_relative_links_resolve(doc):
    for target in LINK.findall(FENCE.sub("", doc.read_text(encoding="utf-8"))):
        if re.match(r"[a-z]+:", target):
            continue  # http(s), mailto: not checked here (no network)
        path, _, anchor = target.partition("#")
        file = (doc.parent / path).resolve() if path else doc
        assert file.exists(), f"{_rel(doc)}: link to {target} finds no file"
        if anchor and file.suffix == ".md":
            assert anchor in anchors(file), f"{_rel(doc)}: {target}: no such heading"


CODE_PATH = re.compile(r"(?<![\w./-])((?:server|layers|geo|bench|tests|tools)/[\w/-]*?[\w-]+\.py)\b")
PACKAGE_PATH = re.compile(r"(?<![\w./-])((?:server|layers|geo)(?:/\w+)*/)(?![\w*<])")


@pytest.mark.parametrize("doc", DOCS, ids=_ids(DOCS))
def test_module_paths_exist(doc):
    text = doc.read_text(encoding="utf-8")
    for path in CODE_PATH.findall(text):
        assert (REPO / path).is_file(), f"{_rel(doc)} names {path}, which does not exist"
    for path in PACKAGE_PATH.findall(text):
        assert (REPO / path).is_dir(), f"{_rel(doc)} names {path}, which does not exist"


DOTTED = re.compile(r"`((?:server|layers|geo)(?:\.\w+)+)`")
BENCH = sorted((REPO / "bench").glob("*.py"))


def _defines(module: Path, name: str) -> bool:
    tree = ast.parse(module.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name == name:
            return True
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            return True
        if isinstance(node, ast.ImportFrom) and any((a.asname or a.name) == name for a in node.names):
            return True
    return False


def resolves(dotted: str) -> bool:
    """`server.store.spatial.scan`: a module path in the repository, then a name it defines."""
    parts = dotted.split(".")
    for n in range(len(parts), 0, -1):
        base = REPO.joinpath(*parts[:n])
        module = base.with_suffix(".py") if base.with_suffix(".py").is_file() else base / "__init__.py"
        if module.is_file():
            rest = parts[n:]
            return not rest or _defines(module, rest[0]) or (base / f"{rest[0]}.py").is_file()
    return False


@pytest.mark.parametrize("doc", DOCS + BENCH, ids=_ids(DOCS + BENCH))
def test_dotted_module_names_resolve(doc):
    for dotted in DOTTED.findall(doc.read_text(encoding="utf-8")):
        assert resolves(dotted), f"{_rel(doc)} names `{dotted}`, which does not exist"


def test_the_architecture_drawing_names_every_package_of_the_contract():
    import tomllib

    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    text = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    for contract in config["contracts"]:
        for layer in contract.get("layers", []):  # the acyclic contract names no layers
            for package in layer.split("|"):
                assert re.search(rf"\b{re.escape(package.strip())}\b", text), package


# --- configuration ----------------------------------------------------------------------------


def config_keys() -> set[str]:
    """The keys of `DEFAULTS` in server/__init__.py and of every blueprint's `CONFIG_DEFAULTS`."""
    keys: set[str] = set()
    for module in (REPO / "server").rglob("*.py"):
        for node in ast.parse(module.read_text(encoding="utf-8")).body:
            if not isinstance(node, (ast.Assign, ast.AnnAssign)):
                continue
            target = node.target if isinstance(node, ast.AnnAssign) else node.targets[0]
            if (isinstance(target, ast.Name) and target.id in ("DEFAULTS", "CONFIG_DEFAULTS")
                    and isinstance(node.value, ast.Dict)):
                keys.update(str(k.value) for k in node.value.keys if isinstance(k, ast.Constant))
    return keys


def documented_settings() -> set[str]:
    text = (REPO / "docs" / "deployment.md").read_text(encoding="utf-8")
    section = text.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `ATLAS_(\w+)` \|", section, re.M))


def test_every_documented_setting_exists_and_every_setting_is_documented():
    keys = config_keys()
    assert {"DATA", "DB", "API_MAX_LIMIT", "TILES_MAXZOOM", "MAP_APPROVAL"} <= keys  # the parse works
    documented = documented_settings()
    assert documented - keys == set(), "docs/deployment.md lists settings the app does not have"
    assert keys - documented == set(), "settings missing from docs/deployment.md's Configuration"


# --- benchmark numbers ----------------------------------------------------------------------

NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
DASHES = {"–", "—"}


@cache
def result(name: str) -> dict:
    return json.loads((REPO / "bench" / "results" / name).read_text(encoding="utf-8"))


@cache
def benchmarks() -> str:
    return (REPO / "docs" / "benchmarks.md").read_text(encoding="utf-8")


def table(header: str) -> list[list[str]]:
    """The body rows of the Markdown table whose header row starts with `header`."""
    lines = [line.strip() for line in benchmarks().splitlines()]
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def agrees(cell: str, expected: list[float | None]) -> bool:
    """The cell states these values, each as rounded to the digits it shows (None: a dash)."""
    if expected == [None]:
        return cell in DASHES
    shown = NUMBER.findall(cell)
    if len(shown) != len(expected):
        return False
    for text, value in zip(shown, expected, strict=True):
        decimals = len(text.split(".")[1]) if "." in text else 0
        if value is None or abs(float(text.replace(",", "")) - value) > 0.5 * 10 ** -decimals + 1e-9:
            return False
    return True


def check_rows(rows: list[list[str]], expected: list[list[list[float | None] | None]]) -> None:
    assert len(rows) == len(expected), f"{len(rows)} rows, the JSON has {len(expected)}"
    for row, cells in zip(rows, expected, strict=True):
        for cell, values in zip(row, cells, strict=True):
            if values is not None:  # None: a label, not checked
                assert agrees(cell, values), f"{row[0]}: {cell!r} is not {values} from the JSON"


def test_api_table_states_api_json():
    expected = []
    for case in result("api.json")["cases"]:
        pyg = case["pygeoapi"] or {}
        ratio = case["atlas_over_pygeoapi"] if case["atlas_over_pygeoapi"] else None
        expected.append([None, None, [case["bytes"]], [case["atlas"]["median_rps"]],
                         [case["nginx"]["median_rps"]], [case["nginx_over_atlas"]],
                         [pyg.get("bytes")], [pyg.get("median_rps")], [ratio]])
    rows = table("| case | gzip | bytes | atlas req/s")
    check_rows(rows, expected)
    cases = result("api.json")["cases"]
    assert [r[1] for r in rows] == ["yes" if c["gzip"] else "no" for c in cases]
    assert [r[0].replace("`", "") for r in rows] == [c["case"] for c in cases]


def test_map_page_table_states_mappage_json():
    runs = result("mappage.json")["results"]
    after = runs["this checkout"]
    before = next(v for k, v in runs.items() if k != "this checkout")
    fields = [["first_full_draw_ms"], ["html_kb", "html_gzip_kb"],
              ["default_view_raw_kb", "default_view_sent_kb"]]
    check_rows(table("| | before | after |"),
               [[None, [before[f] for f in fs], [after[f] for f in fs]] for fs in fields])


def test_exports_table_states_exports_json():
    res = result("exports.json")["results"]
    groups = [["province PNG, A4, 200 dpi"], ["province PDF, A4"], ["province SVG, A4"],
              ["corridor PNG, A4, 200 dpi"], ["Wuhan PNG, A4, 200 dpi"], ["province PNG, 16:9, 150 dpi"],
              ["offline HTML, default view", "offline HTML, corridor"], ["deck PPTX, corridor"],
              ["peer: Chromium screenshot of / at the same size"]]
    assert [k for g in groups for k in g] == list(res)
    check_rows(table("| export | time | size |"),
               [[None, [res[k]["seconds"] for k in g],
                 [res[k]["bytes"] / 1e6 if "bytes" in res[k] else None for k in g]] for g in groups])
    assert "(×1.1)" in benchmarks() and round(result("exports.json")["ratio_peer_over_png"], 1) == 1.1


def test_bbox_table_states_bbox_json():
    expected = []
    for layer in result("bbox.json").values():
        for box in ("small", "large"):
            us = layer[box]["us"]
            faster = us["full scan"] / us["STRtree"]
            expected.append([[layer["features"]], None, [layer[box]["hits"]], [us["full scan"]],
                             [us["STRtree"]] + ([faster] if faster > 1 else []), [us["rtree"]],
                             [us["GeoPackage R-tree"]]])
    check_rows(table("| layer | box | hits | full scan |"), expected)


ITEM_CASES = ["items limit=100", "items bbox 0.5° limit=100", "items bbox 4° limit=100", "one item"]


def items_cell(run: dict) -> list[float | None]:
    return [v for case in ITEM_CASES
            for v in (run["items"][case]["median_rps"], run["items"][case]["p50_ms"],
                      run["items"][case]["p99_ms"])]


def tiles_cell(run: dict) -> list[float | None]:
    return [v for z in ("5", "8", "11")
            for v in (run["tiles"][z]["median_ms"], run["tiles"][z]["p99_ms"],
                      run["tiles"][z]["median_bytes"] / 1000)]


def test_scale_table_states_scale_json():
    expected = []
    for runs in result("scale.json")["backends"].values():
        for points, run in runs.items():
            worker = max(p["rss_mb"] for p in run["processes"] if p["role"] == "worker")
            expected.append([None, [int(points)], [run["first_answer_s"]], items_cell(run),
                             tiles_cell(run), [worker]])
    rows = table("| backend | points | first answer |")
    check_rows(rows, expected)
    assert [r[0] for r in rows] == [b for b, runs in result("scale.json")["backends"].items() for _ in runs]


def test_postgis_1m_table_states_its_json():
    expected = []
    for runs in result("scale-postgis-1m.json")["backends"].values():
        run = runs["1000000"]
        own = run.get("in_process")
        in_process = None if not own else [
            v for case in ITEM_CASES for v in (own[case]["ms_per_request"],)
            + ((own[case]["mean_matched"],) if "bbox" in case else ())]
        expected.append([None, items_cell(run), tiles_cell(run), in_process or [None]])
    check_rows(table("| backend | items: no bbox · bbox 0.5° · bbox 4° · one item | tiles"), expected)


# Numbers the prose states from the results: (the phrase, its number as a group; file; path).
PROSE = [
    (r"a zoom-8 tile takes ([\d.]+) ms median", "scale.json",
     ["backends", "postgis", "1000000", "tiles", "8", "median_ms"]),
    (r"items with a 0\.5° box ([\d.]+) ms median", "scale.json",
     ["backends", "postgis", "1000000", "items", "items bbox 0.5° limit=100", "p50_ms"]),
    (r"The embedded\s+backend answers it in ([\d.]+) ms", "scale.json",
     ["backends", "embedded", "1000000", "items", "items bbox 4° limit=100", "p50_ms"]),
    (r"its own cost is ([\d.]+) ms a request", "scale-postgis-1m.json",
     ["backends", "postgis", "1000000", "in_process", "items bbox 4° limit=100", "ms_per_request"]),
    (r"STRtree ([\d.]+) ms \(counties\)", "bbox.json", ["counties", "build_ms", "STRtree"]),
    (r"and ([\d.]+) ms \(100,000 points\)", "bbox.json", ["100,000 points", "build_ms", "STRtree"]),
    (r"rtree ([\d.]+) ms and", "bbox.json", ["counties", "build_ms", "rtree"]),
    (r"rtree [\d.]+ ms and\s+([\d.]+) ms\.", "bbox.json", ["100,000 points", "build_ms", "rtree"]),
    (r"40 s for 1M points \(([\d.]+) s of\s+generation\)", "scale.json",
     ["datasets", "1000000", "generation_wall_s"]),
]


@pytest.mark.parametrize("phrase, name, path", PROSE, ids=[p[0][:40] for p in PROSE])
def test_prose_numbers_state_the_results(phrase, name, path):
    found = re.search(phrase, benchmarks())
    assert found, f"docs/benchmarks.md no longer says {phrase!r}"
    value = result(name)
    for key in path:
        value = value[key]
    assert agrees(found.group(1), [value]), f"{found.group(0)!r}: the JSON says {value}"
