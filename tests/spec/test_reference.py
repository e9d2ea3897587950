"""docs/spec.md is the spec's reference in the repository: its key tables are made from
the JSON Schema (mcgen/spec/reference.py; `pytest --update-golden` rewrites them), every key
of the schema has a description, and every relative link of the README and of docs/
resolves, anchors included."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mcgen.spec import reference
from mcgen.spec.schema import schema
from mcgen.text import markdown

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "spec.md"


def test_key_tables_are_current(update_golden: bool) -> None:
    text = DOC.read_text(encoding="utf-8")
    start, end = text.index(reference.BEGIN), text.index(reference.END) + len(reference.END)
    fresh = text[:start] + reference.markdown_text().rstrip("\n") + text[end:]
    if update_golden:
        DOC.write_text(fresh, encoding="utf-8")
        text = fresh
    assert text == fresh, "docs/spec.md is stale: run `pytest tests/spec/test_reference.py " \
        "--update-golden`"


def _keys(node: Any, path: str, out: list[tuple[str, dict[str, Any]]]) -> None:
    if isinstance(node, dict):
        for key, sub in node.get("properties", {}).items():
            out.append((f"{path}.{key}", sub))
        for key, sub in node.items():
            _keys(sub, f"{path}.{key}" if key != "properties" else path, out)
    elif isinstance(node, list):
        for sub in node:
            _keys(sub, path, out)


def test_every_key_is_described_and_listed() -> None:
    found: list[tuple[str, dict[str, Any]]] = []
    _keys(schema(), "spec", found)
    assert len(found) > 90
    assert [path for path, sub in found if not sub.get("description")] == []
    text = DOC.read_text(encoding="utf-8")
    for path, _ in found:
        assert f"| `{path.rsplit('.', 1)[-1]}` |" in text, path


def _anchors(path: Path) -> set[str]:
    slugger = markdown.Slugger()
    text = re.sub(r"(?ms)^```.*?^```", "", path.read_text(encoding="utf-8"))
    return {slugger(m) for m in re.findall(r"(?m)^#{1,6} (.+)$", text)}


def test_relative_links_resolve() -> None:
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    broken = []
    for page in pages:
        text = re.sub(r"(?ms)^```.*?^```", "", page.read_text(encoding="utf-8"))
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target):
                continue  # a URL
            file, _, anchor = target.partition("#")
            dest = (page.parent / file).resolve() if file else page
            if not dest.exists():
                broken.append(f"{page.name}: {target} (no such file)")
            elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
                broken.append(f"{page.name}: {target} (no such heading)")
    assert broken == []
    assert "](docs/spec.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
