"""The library front door: what the CLI and the tests call."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from mcgen import promtool, write
from mcgen.errors import UsageError
from mcgen.spec.model import Model
from mcgen.spec.validate import validate as _validate
from mcgen.targets import render_all

DEFAULT_SPECS = Path("specs")
DEFAULT_OUT = Path("generated")


def validate(paths: list[Path] | None = None, env: str | None = None) -> Model:
    """The validated model; raises SpecError listing every problem."""
    return _validate(paths or [DEFAULT_SPECS], env)


def render(paths: list[Path] | None = None, env: str | None = None) -> dict[str, str]:
    """Every output file, in memory: {path relative to the output folder: text}."""
    return render_all(validate(paths, env))


def generate(paths: list[Path] | None = None, out: Path = DEFAULT_OUT,
             env: str | None = None) -> list[write.Change]:
    """Render everything first, then write; a failing run writes nothing."""
    return write.write(out, render(paths, env))


@dataclass
class CheckReport:
    drift: list[write.Change] = field(default_factory=list)
    promtool: list[tuple[str, promtool.Result]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.drift and all(r.ok for _, r in self.promtool)


def _rules_and_tests(root: Path) -> tuple[list[Path], list[Path]]:
    prom = root.resolve() / "prometheus"
    return sorted(prom.glob("*.rules.yml")), sorted(prom.glob("*.test.yml"))


def check(paths: list[Path] | None = None, out: Path = DEFAULT_OUT, env: str | None = None,
          run_promtool: bool = True) -> CheckReport:
    """Drift between the specs and `out` (nothing is written), then promtool on what the
    specs produce."""
    files = render(paths, env)
    report = CheckReport(drift=[c for c in write.compare(out, files) if c.status != "same"])
    if run_promtool:
        with tempfile.TemporaryDirectory(prefix="mcgen-check-") as tmp:
            root = Path(tmp)
            write.write(root, files)
            rules, tests = _rules_and_tests(root)
            if rules:
                report.promtool.append(("promtool check rules", promtool.check_rules(rules, root)))
            if tests:
                report.promtool.append(("promtool test rules", promtool.test_rules(tests, root)))
    return report


def test(out: Path = DEFAULT_OUT) -> promtool.Result:
    """Run the generated promtool tests under `out`."""
    _, tests = _rules_and_tests(out)
    if not tests:
        raise UsageError(f"{out / 'prometheus'}: no promtool tests (*.test.yml) there; "
                         "run `mcgen generate` first, or give --out")
    return promtool.test_rules(tests, out)
