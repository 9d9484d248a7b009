"""The documents are part of the atlas: shipped in the repository and checked by sha256
(tests/web/test_documents.py reads them at /documents)."""

from __future__ import annotations

import hashlib

import pytest
import yaml

from layers.sources import DEFAULT_DOCUMENTS, DEFAULT_SOURCES, SourceError, load_sources

MANIFEST = DEFAULT_SOURCES / "documents.yaml"


def test_every_document_is_in_the_repository_with_its_manifest_hash():
    docs = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))["documents"]
    assert [d["code"] for d in docs] == ["000", "001", "002", "003", "004"]
    for d in docs:
        data = (DEFAULT_DOCUMENTS / d["doc"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == d["sha256"]
    numbers = {d["code"]: d.get("doc_number") for d in docs}
    assert numbers["001"] == "鄂经信规划〔2021〕203号" and numbers["003"] == "武政〔2017〕26号"


def test_a_changed_document_fails_validation(tmp_path):
    for path in DEFAULT_DOCUMENTS.glob("*.txt"):
        (tmp_path / path.name).write_bytes(path.read_bytes())
    doc = tmp_path / "002_53494cda4eefe43b.txt"
    doc.write_bytes(doc.read_bytes() + b"\n")
    with pytest.raises(SourceError) as exc:
        load_sources(DEFAULT_SOURCES, None, tmp_path)
    assert any(p.startswith("sources/documents.yaml:") and
               "002_53494cda4eefe43b.txt does not match its sha256" in p for p in exc.value.problems)
