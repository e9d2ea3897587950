"""The `mcgen` command: parse options, call the api, map outcomes to exit codes.

Exit codes: 0 success, 1 a check found problems, 2 bad input or command line,
3 an internal error (a bug).
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mcgen.errors import McgenError

if TYPE_CHECKING:
    from mcgen.promtool import FileRun

app = typer.Typer(
    help="mcgen: one YAML spec per service -> Prometheus rules, promtool tests and more.",
    add_completion=True, no_args_is_help=True, pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

Paths = Annotated[list[Path] | None, typer.Argument(
    metavar="PATHS", help="Spec files or folders (default: specs/).", show_default=False)]
# A string, not a Path: Path("") is ".", and `--out ''` must not mean the current folder.
Out = Annotated[str, typer.Option("--out", metavar="DIR", help="Output folder.")]
Env = Annotated[str | None, typer.Option("--env", metavar="ENV",
                                         help="Apply this environment's overrides.")]


def _flags_take_no_value() -> None:
    """Typer 0.29's help shows every flag as taking a value (`--dry-run <bool>`), which
    it refuses, and an argument's Python type after its name: show flags bare, and
    arguments by name."""
    from typer.core import TyperArgument, TyperOption
    option, argument = TyperOption.display_type_rich, TyperArgument.display_type_rich

    def show_option(self: TyperOption, ctx: Any) -> str | None:
        return None if self.is_flag else option(self, ctx)

    def show_argument(self: Any, ctx: Any) -> str | None:
        return None if self.metavar else argument(self, ctx)

    TyperOption.display_type_rich = show_option  # type: ignore[method-assign]
    TyperArgument.display_type_rich = show_argument  # type: ignore[method-assign]


_flags_take_no_value()


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version
        typer.echo(f"mcgen {version('mcgen')}")
        raise typer.Exit(0)


@app.callback()
def _options(version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True,
        help="Print mcgen's version and exit.")] = False) -> None:
    """mcgen: one YAML spec per service -> Prometheus rules, promtool tests and more."""


def _err(message: str) -> None:
    typer.echo(message, err=True)


def _folder(out: str) -> Path:
    """The output folder of --out."""
    if not out:
        from mcgen.errors import UsageError
        raise UsageError("--out '': give the output folder (default: generated)")
    return Path(out)


def _run(action: Callable[[], int]) -> None:
    """The one place exceptions become exit codes; users never see a traceback for
    their own mistakes."""
    try:
        code = action()
    except McgenError as exc:
        _err(str(exc))
        code = exc.exit_code
    except KeyboardInterrupt:
        code = 130
    except Exception as exc:  # a bug in mcgen
        if os.environ.get("MCGEN_DEBUG"):
            traceback.print_exc()
        _err(f"internal error (a bug in mcgen): {type(exc).__name__}: {exc}; "
             "rerun with MCGEN_DEBUG=1 to see the traceback, and report it")
        code = 3
    raise typer.Exit(code)


@app.command()
def validate(paths: Paths = None, env: Env = None) -> None:
    """Check specs against the schema and the semantic rules."""
    def action() -> int:
        from mcgen import api
        model = api.validate(paths, env)
        count = sum(len(s.metrics) for s in model.services)
        typer.echo(f"ok: {len(model.services)} spec(s), {count} metric(s)")
        return 0
    _run(action)


@app.command()
def generate(paths: Paths = None, out: Out = "generated", env: Env = None) -> None:
    """Render every output into the output folder."""
    def action() -> int:
        from mcgen import api
        folder = _folder(out)
        changes = api.generate(paths, folder, env)
        for change in changes:
            if change.status != "same":
                typer.echo(f"{change.status:>7} {folder / change.path}")
        changed = sum(c.status != "same" for c in changes)
        typer.echo(f"{len(changes)} file(s), {changed} written, under {folder}/")
        return 0
    _run(action)


Verbose = Annotated[bool, typer.Option(
    "--verbose", "-v", help="Also print promtool's own output for each failing file.")]


def _show_run(verbose: bool) -> Callable[[FileRun], None]:
    """Prints one promtool run: `file: ok (1.2 s)` on stdout, or its failures on stderr."""
    def show(run: FileRun) -> None:
        lines = run.lines()
        if run.ok:
            typer.echo(lines[0])
            return
        for line in lines:
            _err(line)
        if verbose and run.output:
            _err(f"{run.shown}: promtool's output:")
            _err("\n".join(f"  {line}" for line in run.output.splitlines()))
    return show


@app.command()
def check(paths: Paths = None, out: Out = "generated", env: Env = None,
          verbose: Verbose = False) -> None:
    """For CI: validate, fail on stale outputs, then run promtool check and test."""
    def action() -> int:
        from mcgen import api
        folder = _folder(out)
        report = api.check(paths, folder, env, show=_show_run(verbose), say=typer.echo)
        again = f"mcgen generate{f' --env {env}' if env else ''}"
        for change in report.drift:
            what = "missing" if change.status == "new" else "stale"
            _err(f"{folder / change.path}: {what}; run `{again}` and commit the result")
        for path, spec in report.orphans:
            _err(f"{folder / path}: orphan (generated from {spec}, which no longer produces it); "
                 "delete it")
        if report.drift or report.orphans:
            _err("promtool not run: bring the outputs up to date first")
        if report.routing is not None:
            _show_routing(report.routing, verbose)
        if report.ok:
            routed = " and amtool prove the routing" if report.routing else ""
            typer.echo(f"ok: outputs are up to date; promtool check and test pass{routed}")
        return 0 if report.ok else 1
    _run(action)


def _show_routing(report: Any, verbose: bool) -> None:
    """The routing proof: check-config, each alert that misses its receiver, inhibition."""
    config = report.config
    (typer.echo if config.ok else _err)(config.line)
    if not config.ok and verbose:
        _err("\n".join(f"  {line}" for line in config.output.splitlines()))
    failed = [r for r in report.routes if not r.ok]
    for run in failed:
        _err(run.line)
    for problem in report.problems:
        _err(f"alertmanager: {problem}")
    if config.ok:
        line = (f"alertmanager: {len(report.routes) - len(failed)} of {len(report.routes)} "
                "alert label sets reach their receivers (amtool config routes test)")
        (typer.echo if not failed else _err)(line)


@app.command()
def alertmanager(base: Annotated[Path, typer.Option(
        "--base", metavar="FILE", help="Alertmanager config holding the global settings, the "
        "root route and its default receiver.", show_default=False)],
        paths: Paths = None, env: Env = None) -> None:
    """Print a complete Alertmanager config: FILE with the route subtree, receivers and
    inhibit rules of every spec that has `routing` merged in."""
    def action() -> int:
        from mcgen import api
        typer.echo(api.alertmanager(paths, base, env), nl=False)
        return 0
    _run(action)


TestPaths = Annotated[list[Path] | None, typer.Argument(
    metavar="PATHS", help="Spec files or folders whose tests to run (default: every test "
    "file under the output folder).", show_default=False)]


@app.command("test")
def test_cmd(paths: TestPaths = None, out: Out = "generated", verbose: Verbose = False) -> None:
    """Run the generated promtool tests: those of the specs in PATHS, or every one under
    the output folder."""
    def action() -> int:
        from mcgen import api
        runs = api.test(_folder(out), show=_show_run(verbose), paths=paths)
        return 0 if all(r.ok for r in runs) else 1
    _run(action)


@app.command()
def init(
    service: Annotated[str | None, typer.Option(
        help="Service name (default: myservice; with --from-metrics, the first word all "
        "metric names share).", show_default=False)] = None,
    path: Annotated[Path | None, typer.Option(
        help="Where to write it (default: specs/<service>.yaml).", show_default=False)] = None,
    from_metrics: Annotated[str | None, typer.Option(
        "--from-metrics", metavar="FILE|URL",
        help="Start from what a service exposes: a saved Prometheus text exposition or its "
        "http(s):// /metrics URL.", show_default=False)] = None,
    include_runtime: Annotated[bool, typer.Option(
        "--include-runtime", help="With --from-metrics: keep client libraries' runtime "
        "metrics (go_*, process_*, python_*, ...).")] = False,
    external: Annotated[bool, typer.Option(
        "--external", help="With --from-metrics: mark every metric external (an exporter's), "
        "as is done anyway for expositions recognised as an exporter's.")] = False,
    preset: Annotated[str | None, typer.Option(
        "--preset", metavar="NAME", help="Start from an exporter's spec with its resource "
        "alerts: node, cadvisor, postgres or redis.", show_default=False)] = None,
) -> None:
    """Write a commented starter spec that validates."""
    def action() -> int:
        from mcgen.errors import UsageError
        if preset is not None:
            if from_metrics is not None or include_runtime or external:
                raise UsageError("--preset and --from-metrics are alternatives; give one")
            from mcgen.bootstrap import presets
            target = presets.write(preset, service, path)
            typer.echo(f"wrote {target}; set its selector to the job that scrapes the "
                       f"exporter, then run `mcgen validate {target}`")
            return 0
        if from_metrics is None:
            if include_runtime or external:
                raise UsageError("--include-runtime and --external go with "
                                 "--from-metrics FILE|URL")
            from mcgen.bootstrap import starter
            target = starter.write(service or "myservice", path)
            typer.echo(f"wrote {target}; edit it, then run `mcgen validate {target}`")
            return 0
        from mcgen import bootstrap
        done = bootstrap.write(from_metrics, service, path, include_runtime, external)
        more = f", {done.left} more listed in a comment" if done.left else ""
        typer.echo(f"wrote {done.path}: service {done.service}, {done.metrics} metric(s){more}, "
                   f"{done.skipped} skipped, {done.suggestions} suggested alert(s) commented "
                   f"out; review it, then run `mcgen validate {done.path}` and "
                   f"`mcgen lint {done.path}`")
        return 0
    _run(action)


@app.command()
def schema() -> None:
    """Print the JSON Schema of spec v1 (for editors and yaml-language-server)."""
    def action() -> int:
        import json

        from mcgen.spec.schema import schema as load
        typer.echo(json.dumps(load(), indent=2))
        return 0
    _run(action)


@app.command()
def push(
    paths: Paths = None, out: Out = "generated", env: Env = None,
    url: Annotated[str | None, typer.Option(
        "--url", metavar="URL", help="Grafana's root URL (default: $GRAFANA_URL). The token "
        "is read from $GRAFANA_TOKEN only.", show_default=False)] = None,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Say what would be created or updated; change nothing.")] = False,
    message: Annotated[str | None, typer.Option(
        "--message", metavar="MSG", help="Version message in Grafana's history "
        "(default: mcgen: generated from <spec>).", show_default=False)] = None,
    insecure: Annotated[bool, typer.Option(
        "--insecure", help="Skip TLS certificate checks (prefer REQUESTS_CA_BUNDLE).")] = False,
    timeout: Annotated[float, typer.Option(
        "--timeout", metavar="SECONDS",
        help="Seconds to wait for each answer from Grafana.")] = 10.0,
) -> None:
    """Import the generated dashboards into Grafana over its HTTP API."""
    def action() -> int:
        from mcgen import api
        report = api.push(paths, _folder(out), env, url=url, dry_run=dry_run, message=message,
                          insecure=insecure, timeout=timeout,
                          show=lambda line, ok: typer.echo(line, err=not ok))
        typer.echo(report.summary())
        return 0 if report.ok else 1
    _run(action)


@app.command()
def lint(
    paths: Paths = None, env: Env = None,
    fmt: Annotated[str, typer.Option(
        "--format", metavar="FORMAT",
        help="text, json or github (annotations in GitHub Actions).")] = "text",
    fail_on: Annotated[str | None, typer.Option(
        "--fail-on", metavar="SEVERITY", help="Exit 1 on findings of this severity or worse: "
        "info, warning, error (default: mcgen.toml's [lint] fail_on, else warning).",
        show_default=False)] = None,
    prometheus: Annotated[str | None, typer.Option(
        "--prometheus", metavar="URL", help="Also check the metrics against this Prometheus: "
        "series that exist, label names, metric types (read-only API calls).",
        show_default=False)] = None,
) -> None:
    """Find what validates but will hurt: naming, buckets, cardinality, alert hygiene,
    and mistakes in hand-written Prometheus rule files."""
    def action() -> int:
        from mcgen import api
        from mcgen.errors import UsageError
        from mcgen.lint import SEVERITIES, report
        from mcgen.lint import run as lintrun
        if fmt not in report.FORMATS:
            raise UsageError(f"--format {fmt}: use one of {', '.join(report.FORMATS)}")
        if fail_on is not None and fail_on not in SEVERITIES:
            raise UsageError(f"--fail-on {fail_on}: use one of {', '.join(SEVERITIES)}")
        findings, cfg = api.lint(paths, env, prometheus=prometheus)
        out = report.render(findings, fmt)
        if out:
            typer.echo(out)
        return 1 if lintrun.fails(findings, cfg, fail_on) else 0
    _run(action)


# Click's documented ways to ask for a completion script, as Typer spells them.
_COMPLETE = "_MCGEN_COMPLETE"
_CLICK_STYLE = {"bash_source": "source_bash", "zsh_source": "source_zsh",
                "fish_source": "source_fish", "source": "source_bash"}


_SHELLS = frozenset({"bash", "zsh", "fish", "powershell", "pwsh"})
# typer (pinned) reads this to let --show-completion/--install-completion take the shell
# as a value instead of detecting the nearest shell of the process tree.
_NAMED_SHELL = "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION"


def _names_a_shell(argv: list[str]) -> bool:
    """`--show-completion bash` (or `=bash`): the shell named wins over the one that
    started mcgen (under make that is sh, which typer would refuse)."""
    options = ("--show-completion", "--install-completion")
    for i, arg in enumerate(argv):
        if arg in options and i + 1 < len(argv) and argv[i + 1] in _SHELLS:
            return True
        if arg.startswith(tuple(f"{o}=" for o in options)):
            return True
    return False


def main() -> None:
    instruction = os.environ.get(_COMPLETE, "")
    if instruction in _CLICK_STYLE:  # `eval "$(_MCGEN_COMPLETE=bash_source mcgen)"`
        os.environ[_COMPLETE] = _CLICK_STYLE[instruction]
    if _names_a_shell(sys.argv[1:]):
        os.environ[_NAMED_SHELL] = "1"
    try:
        app(prog_name="mcgen")
    except SystemExit as exc:
        sys.exit(exc.code)
