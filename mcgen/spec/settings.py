"""mcgen.toml's settings of generation: `[generate] targets` and `[kubernetes]` (SPEC 6).

```toml
[generate]
targets = ["rules", "tests", "dashboards", "provisioning", "stubs", "docs", "prometheusrule"]
keep_labels = ["cluster"]   # target labels every aggregation keeps (global rulers)

[kubernetes]
namespace = "monitoring"
labels = {release = "prometheus"}
```
(The [lint] table is mcgen/lint/run.py's.) Which target names exist is mcgen/targets.py's.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from mcgen.errors import UsageError
from mcgen.spec.model import DEFAULT_TARGETS, Settings

CONFIG_FILE = Path("mcgen.toml")
# Kubernetes: a namespace is a DNS-1123 label; label keys an optional DNS prefix and a
# name; values at most 63 characters of the same alphabet.
_NAMESPACE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_LABEL_KEY = re.compile(r"^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?"
                        r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
# Labels an aggregation cannot keep: alert labels mcgen sets, and le / quantile.
_NOT_KEPT = frozenset({"alertname", "severity", "service", "slo", "slo_severity", "le",
                       "quantile"})
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")


def load(path: Path = CONFIG_FILE, known: tuple[str, ...] = DEFAULT_TARGETS) -> Settings:
    """The settings of mcgen.toml (in the working directory), or the defaults."""
    if not path.exists():
        return Settings()
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read it ({exc}); fix the TOML") from None
    generate = _table(path, data, "generate")
    kube = _table(path, data, "kubernetes")
    for table, keys, name in ((generate, {"targets", "keep_labels"}, "generate"),
                              (kube, {"namespace", "labels"}, "kubernetes")):
        for key in sorted(set(table) - keys):
            raise UsageError(f"{path}: [{name}] has no setting '{key}'; known: "
                             f"{', '.join(sorted(keys))}")
    targets = generate.get("targets", list(DEFAULT_TARGETS))
    if not isinstance(targets, list) or not all(isinstance(t, str) for t in targets):
        raise UsageError(f"{path}: [generate] targets must be a list of names, like "
                         f"{list(DEFAULT_TARGETS)}")
    unknown = [t for t in targets if t not in known]
    if unknown:
        raise UsageError(f"{path}: [generate] targets names unknown target '{unknown[0]}'; "
                         f"use any of: {', '.join(known)}")
    if len(set(targets)) != len(targets):
        raise UsageError(f"{path}: [generate] targets names a target twice; remove the repeat")
    if not targets:
        raise UsageError(f"{path}: [generate] targets is empty; name at least one target")
    keep = _keep_labels(path, generate.get("keep_labels", []))
    namespace = kube.get("namespace")
    if namespace is not None and (not isinstance(namespace, str)
                                  or not _NAMESPACE.match(namespace)):
        raise UsageError(f"{path}: [kubernetes] namespace {namespace!r} is not a Kubernetes "
                         "namespace name; use lowercase letters, digits and -, at most 63")
    labels = kube.get("labels", {})
    if not isinstance(labels, dict):
        raise UsageError(f"{path}: [kubernetes] labels must be a table of names and values")
    for key, value in labels.items():
        if not _LABEL_KEY.match(key) or not isinstance(value, str) \
                or not _LABEL_VALUE.match(value):
            raise UsageError(f"{path}: [kubernetes] label {key} = {value!r} is not a valid "
                             "Kubernetes label; use letters, digits, -, _ and ., at most 63")
    return Settings(tuple(targets), keep, namespace, tuple(sorted(labels.items())))


def _keep_labels(path: Path, raw: Any) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        raise UsageError(f"{path}: [generate] keep_labels must be a list of label names, "
                         'like ["cluster"]')
    for label in raw:
        if not _LABEL_NAME.match(label) or label.startswith("__"):
            raise UsageError(f"{path}: [generate] keep_labels: {label!r} is not a label name; "
                             "use letters, digits and _, not starting with a digit or __")
        if label in _NOT_KEPT:
            raise UsageError(f"{path}: [generate] keep_labels: '{label}' is set by mcgen or "
                             "by client libraries; name the target labels that tell your "
                             "clusters apart (cluster, region, ...)")
    if len(set(raw)) != len(raw):
        raise UsageError(f"{path}: [generate] keep_labels names a label twice; remove the "
                         "repeat")
    return tuple(raw)


def _table(path: Path, data: dict[str, Any], name: str) -> dict[str, Any]:
    table = data.get(name, {})
    if not isinstance(table, dict):
        raise UsageError(f"{path}: '{name}' must be a table ([{name}])")
    return table
