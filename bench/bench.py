"""Time mcgen on a synthetic fleet: 100 services x 10 metrics, every alert kind, 2 SLOs.

Usage: .venv/bin/python bench/bench.py [--services N] [--runs N] [--keep DIR]
                                       [--promtool-services N] [--check-services N]

Writes deterministic (seeded) spec files to a temporary folder, then times the installed
console script as a user would run it: `mcgen generate <specs> --out <dir>` (best and median
of --runs, each into a fresh output folder) against the floor measured in the same run (a
Python that only loads the same YAML and writes the same bytes), `mcgen --help` (median of
--help-runs), the CPU `promtool test rules` spends per alert rule on each engine found
(promtool on PATH or $PROMTOOL, and .engines/trixie and .engines/sid), run as `mcgen check`
runs it (GOGC=400 unless set), and the wall time of
`mcgen check` on --check-services services (0 skips it).
It reports against the targets and always exits 0: it informs, it does not gate.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
METRICS_PER_SERVICE = 10
TARGET_PER_1000_METRICS = 1.0  # seconds for `mcgen generate`, per 1,000 metrics
TARGET_HELP = 0.3  # seconds for `mcgen --help`
TARGET_FLOOR_FACTOR = 8.0  # `mcgen generate` CPU, as a multiple of the floor's
TARGET_PROMTOOL_PER_ALERT = 0.050  # promtool CPU seconds per alert rule, each engine
TARGET_CHECK_100 = 120.0  # seconds of wall time for `mcgen check` on 100 services
ENGINES = (
    ("2.x (PATH)", None),
    ("2.53", ".engines/trixie/usr/bin/promtool"),
    ("3.5", ".engines/sid/usr/bin/promtool"),
)
# Loads the specs as mcgen does (PyYAML's composed nodes) and writes the bytes `mcgen
# generate` wrote: the cost no generator can go under.
FLOOR = """
import sys, yaml
from pathlib import Path
specs, source, dest = (Path(a) for a in sys.argv[1:4])
for spec in sorted(specs.glob('*.yaml')):
    yaml.compose(spec.read_text(encoding='utf-8'), Loader=yaml.SafeLoader)
for path in sorted(p for p in source.rglob('*') if p.is_file()):
    target = dest / path.relative_to(source)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(path.read_bytes())
"""

WORDS = [
    "billing",
    "search",
    "auth",
    "catalog",
    "ingest",
    "render",
    "notify",
    "ledger",
    "media",
    "gateway",
    "payments",
    "profile",
    "inventory",
    "pricing",
    "reports",
]
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
JOB_BUCKETS: list[float] = [1, 5, 10, 30, 60, 120, 300, 600, 1800]
SIZE_BUCKETS: list[float] = [256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304]
SEVERITIES = ["warning", "warning", "warning", "critical", "info"]
MIB = 1024 * 1024

Spec = dict[str, Any]


def pick_values(rng: random.Random, stem: str, low: int, high: int) -> list[str]:
    return [f"{stem}{i}" for i in range(rng.randint(low, high))]


def bucket_slice(rng: random.Random, ladder: list[float], size: int) -> list[float]:
    start = rng.randint(0, len(ladder) - size)
    return ladder[start : start + size]


def interior(rng: random.Random, buckets: list[float]) -> float:
    """A threshold strictly inside the bucket range, on a bucket bound."""
    return rng.choice(buckets[1:-1])


def synth_service(rng: random.Random, index: int) -> Spec:
    svc = f"{WORDS[index % len(WORDS)]}_{index:03d}"
    routes = pick_values(rng, "route_", 3, 8)
    # Not "job": Prometheus sets job/instance on every scraped series.
    jobs = pick_values(rng, "task_", 2, 5)
    queues = pick_values(rng, "queue_", 1, 4)
    caches = pick_values(rng, "cache_", 1, 3)
    kinds = [*pick_values(rng, "kind_", 2, 5), "cancelled"]
    latency = bucket_slice(rng, LATENCY_BUCKETS, rng.randint(5, len(LATENCY_BUCKETS)))
    job_buckets = bucket_slice(rng, JOB_BUCKETS, rng.randint(4, len(JOB_BUCKETS)))
    sizes = bucket_slice(rng, SIZE_BUCKETS, rng.randint(4, len(SIZE_BUCKETS)))

    request_slow: Spec = {
        "alert": "RequestLatencyHigh",
        "quantile": 0.95,
        "above": interior(rng, latency),
        "by": ["route"],
        "severity": rng.choice(SEVERITIES),
    }
    if rng.random() < 0.5:
        request_slow["overrides"] = [
            {"match": {"route": routes[0]}, "above": interior(rng, latency)}
        ]
    error_ratio: Spec = {
        "alert": "RequestErrorRatioHigh",
        "ratio_to": {"metric": f"{svc}_requests_total"},
        "select": {"code_class": "5xx"},
        "above": rng.choice([0.01, 0.02, 0.05]),
        "by": ["route"],
        "for": "10m",
    }
    if rng.random() < 0.5:
        error_ratio["overrides"] = [{"match": {"route": routes[1:3]}, "above": 0.1}]
    queue_alert: Spec = {
        "alert": "QueueBacklogHigh",
        "value": True,
        "above": rng.choice([100, 500, 1000]),
        "by": ["queue"],
    }
    if len(queues) > 1:
        queue_alert["overrides"] = [{"match": {"queue": queues[0]}, "above": 5000}]
    stale: Spec = {"alert": "JobsStale", "stale_after": rng.choice(["1h", "6h", "24h"])}
    if len(jobs) > 2:
        stale["select"] = {"task": jobs[:2]}

    metrics: list[Spec] = [
        {
            "name": f"{svc}_request_duration_seconds",
            "type": "histogram",
            "unit": "seconds",
            "help": "Time to serve a request.",
            "group": "Requests",
            "labels": {"method": METHODS[: rng.randint(2, 5)], "route": routes},
            "buckets": latency,
            "alerts": [request_slow],
        },
        {
            "name": f"{svc}_requests_total",
            "type": "counter",
            "group": "Requests",
            "help": "Requests served, by route and status class.",
            "labels": {"route": routes, "code_class": ["2xx", "4xx", "5xx"]},
            "alerts": [
                {
                    "alert": "ThroughputLow",
                    "rate": True,
                    "below": rng.choice([1, 5, 10]),
                    "by": [],
                    "for": "15m",
                },
                error_ratio,
            ],
        },
        {
            "name": f"{svc}_errors_total",
            "type": "counter",
            "group": "Requests",
            "help": "Errors, by kind; cancelled requests are not faults.",
            "labels": {"kind": kinds},
            "alerts": [
                {
                    "alert": "ErrorsHigh",
                    "rate": True,
                    "above": 0.5,
                    "by": ["kind"],
                    "select": {"kind": "!cancelled"},
                }
            ],
        },
        {
            "name": f"{svc}_queue_depth",
            "type": "gauge",
            "group": "Queues",
            "help": "Items waiting, by queue.",
            "labels": {"queue": queues},
            "multiprocess_mode": "livesum",
            "alerts": [queue_alert],
        },
        {
            "name": f"{svc}_last_success_timestamp",
            "type": "gauge",
            "group": "Jobs",
            "help": "Unix time of the last successful run, by job.",
            "labels": {"task": jobs},
            "multiprocess_mode": "max",
            "alerts": [stale],
        },
        {
            "name": f"{svc}_job_duration_seconds",
            "type": "histogram",
            "unit": "seconds",
            "help": "Time to run a job.",
            "group": "Jobs",
            "labels": {"task": jobs},
            "buckets": job_buckets,
            "alerts": [
                {
                    "alert": "JobSlow",
                    "quantile": 0.99,
                    "above": interior(rng, job_buckets),
                    "for": "15m",
                }
            ],
        },
        {
            "name": f"{svc}_jobs_total",
            "type": "counter",
            "group": "Jobs",
            "help": "Finished job runs, by outcome.",
            "labels": {"task": jobs, "status": ["succeeded", "failed"]},
            "alerts": [
                {
                    "alert": "JobFailureRatioHigh",
                    "ratio_to": {"metric": f"{svc}_jobs_total"},
                    "select": {"status": "failed"},
                    "above": 0.1,
                    "by": ["task"],
                },
                {"alert": "JobsAbsent", "absent_for": "30m", "severity": "critical"},
            ],
        },
        {
            "name": f"{svc}_resident_memory_bytes",
            "type": "gauge",
            "unit": "bytes",
            "help": "Resident memory of the service.",
            "group": "Resources",
            "multiprocess_mode": "livesum",
            "alerts": [
                {"alert": "MemoryHigh", "value": True, "above": rng.choice([256, 512, 1024]) * MIB}
            ],
        },
        {
            "name": f"{svc}_cache_hits_total",
            "type": "counter",
            "group": "Resources",
            "help": "Cache hits, by cache.",
            "labels": {"cache": caches},
            "alerts": [
                {"alert": "CacheMetricsAbsent", "absent_for": "15m", "select": {"cache": caches[0]}}
            ],
        },
        {
            "name": f"{svc}_payload_size_bytes",
            "type": "histogram",
            "unit": "bytes",
            "help": "Size of request payloads.",
            "group": "Requests",
            "labels": {"method": METHODS[:2]},
            "buckets": sizes,
            "alerts": [
                {"alert": "PayloadsLarge", "quantile": 0.5, "above": interior(rng, sizes)},
                {"alert": "PayloadRateHigh", "rate": True, "above": 1000, "by": []},
            ],
        },
    ]
    rng.shuffle(metrics)
    spec: Spec = {
        "version": 1,
        "service": svc,
        "description": f"Synthetic benchmark service {index}",
        "alert_labels": {"team": f"team{index % 7}"},
        "runbook_base_url": f"https://runbooks.example.com/{svc}",
        "defaults": {"rate_window": "5m", "interval": "1m"},
        "dashboard": {"tags": ["bench"]},
        "metrics": metrics,
        "slos": [
            {
                "name": "availability",
                "objective": rng.choice([99.0, 99.5, 99.9]),
                "sli": {
                    "events": {
                        "error": {
                            "metric": f"{svc}_requests_total",
                            "select": {"code_class": "5xx"},
                        },
                        "total": {"metric": f"{svc}_requests_total"},
                    }
                },
            },
            {
                "name": "latency",
                "objective": rng.choice([95.0, 99.0]),
                "sli": {
                    "latency": {
                        "metric": f"{svc}_request_duration_seconds",
                        "below": interior(rng, latency),
                    }
                },
            },
        ],
    }
    if rng.random() < 0.3:
        spec["environments"] = {
            "staging": {
                "alerts": {
                    "QueueBacklogHigh": {"above": 10000, "severity": "info"},
                    "ThroughputLow": {"below": 0.1},
                }
            },
        }
    return spec


class _PlainDumper(yaml.SafeDumper):
    """Writes shared lists in full: specs as a person would type them, no &anchors."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def write_specs(folder: Path, services: int, seed: int) -> int:
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    count = 0
    for index in range(services):
        spec = synth_service(rng, index)
        count += len(spec["metrics"])
        text = yaml.dump(
            spec, Dumper=_PlainDumper, sort_keys=False, width=100, default_flow_style=None
        )
        (folder / f"{spec['service']}.yaml").write_text(
            f"# Synthetic benchmark spec (bench/bench.py, seed {seed}).\n{text}",
            encoding="utf-8",
        )
    return count


def timed(
    argv: list[str], env: dict[str, str] | None = None
) -> tuple[float, subprocess.CompletedProcess[str]]:
    seconds, _, done = timed_cpu(argv, env)
    return seconds, done


def timed_cpu(
    argv: list[str], env: dict[str, str] | None = None, cwd: Path | None = None
) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    """(wall seconds, CPU seconds of the command and its children, outcome)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        env=None if env is None else {**os.environ, **env},
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done


def engines() -> list[tuple[str, str]]:
    """(name, promtool) of every engine on this machine."""
    found = []
    for name, relative in ENGINES:
        path = (
            os.environ.get("PROMTOOL") or shutil.which("promtool")
            if relative is None
            else str(ROOT / relative)
        )
        if path and os.access(path, os.X_OK):
            found.append((name, path))
    return found


def promtool_rows(out: Path, services: int) -> list[tuple[str, float, float, str, str]]:
    """promtool CPU per alert rule on the first `services` test files, each engine."""
    tests = sorted((out / "prometheus").glob("*.test.yml"))[:services]
    alerts = sum(
        (out / "prometheus" / t.name.replace(".test.yml", ".rules.yml"))
        .read_text(encoding="utf-8")
        .count("- alert:")
        for t in tests
    )
    rows = []
    for name, path in engines():
        cpu_total, failed = 0.0, 0
        for test in tests:
            # As `mcgen check` and `mcgen test` run it (mcgen/promtool).
            _, cpu, done = timed_cpu([path, "test", "rules", test.name],
                                     env={"GOGC": os.environ.get("GOGC", "400")},
                                     cwd=test.parent)
            cpu_total += cpu
            failed += done.returncode != 0
        per = cpu_total / max(alerts, 1)
        note = f" ({failed} FAILED)" if failed else ""
        rows.append(
            (
                f"promtool {name} CPU/alert{note}",
                per,
                cpu_total,
                f"< {TARGET_PROMTOOL_PER_ALERT * 1000:.0f}ms",
                verdict(per, TARGET_PROMTOOL_PER_ALERT),
            )
        )
    return rows


def check_row(mcgen: str, work: Path, services: int, seed: int) -> str:
    """`mcgen check` (validate, drift, promtool check and test) on `services` services."""
    specs, out = work / "check-specs", work / "check-out"
    shutil.rmtree(specs, ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)
    write_specs(specs, services, seed)
    _, done = timed([mcgen, "generate", str(specs), "--out", str(out)])
    if done.returncode != 0:
        return f"bench: `mcgen generate` for the check failed (exit {done.returncode})"
    seconds, done = timed([mcgen, "check", str(specs), "--out", str(out)])
    status = "ok" if done.returncode == 0 else f"exit {done.returncode}"
    target = TARGET_CHECK_100 * services / 100
    return (
        f"mcgen check, {services} services ({status}, {os.cpu_count()} cores): "
        f"{seconds:.1f}s wall  target < {target:.0f}s  {verdict(seconds, target)}"
    )


def find_mcgen(explicit: str | None) -> str | None:
    if explicit:
        return explicit
    venv = ROOT / ".venv" / "bin" / "mcgen"
    if venv.exists():
        return str(venv)
    return shutil.which("mcgen")


def tree_size(folder: Path) -> tuple[int, int]:
    files = [p for p in folder.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def verdict(value: float, target: float) -> str:
    return "ok" if value < target else "SLOWER THAN TARGET"


def run(args: argparse.Namespace) -> None:
    mcgen = find_mcgen(args.mcgen)
    if mcgen is None:
        print("bench: no mcgen console script (.venv/bin/mcgen or on PATH); run `make venv` first")
        return
    work = Path(args.keep).resolve() if args.keep else Path(tempfile.mkdtemp(prefix="mcgen-bench-"))
    try:
        specs = work / "specs"
        if specs.exists():
            shutil.rmtree(specs)
        metrics = write_specs(specs, args.services, args.seed)
        print(
            f"mcgen benchmark: {args.services} services x {METRICS_PER_SERVICE} metrics = "
            f"{metrics} metrics (seed {args.seed}), {mcgen}"
        )

        # Each generate run is followed by a floor run: on a shared machine the load
        # drifts, and runs side by side see about the same.
        times: list[float] = []
        cpus: list[float] = []
        floor_cpus: list[float] = []
        for attempt in range(args.runs):
            out = work / f"out-{attempt}"
            if out.exists():
                shutil.rmtree(out)
            seconds, cpu, done = timed_cpu([mcgen, "generate", str(specs), "--out", str(out)])
            if done.returncode != 0:
                print(f"bench: `mcgen generate` failed (exit {done.returncode}):")
                print("\n".join((done.stderr or done.stdout).strip().splitlines()[:20]))
                return
            times.append(seconds)
            cpus.append(cpu)
            dest = work / f"floor-{attempt}"
            shutil.rmtree(dest, ignore_errors=True)
            _, cpu, done = timed_cpu(
                [sys.executable, "-c", FLOOR, str(specs), str(work / "out-0"), str(dest)]
            )
            if done.returncode != 0:
                print(f"bench: the floor failed: {done.stderr.strip()[-300:]}")
                return
            floor_cpus.append(cpu)
        files, size = tree_size(work / "out-0")

        help_times: list[float] = []
        for _ in range(args.help_runs):
            seconds, done = timed([mcgen, "--help"])
            if done.returncode != 0:
                print(f"bench: `mcgen --help` failed (exit {done.returncode})")
                return
            help_times.append(seconds)

        per_k = 1000 / metrics
        best, median = min(times), statistics.median(times)
        help_best, help_median = min(help_times), statistics.median(help_times)
        floor = statistics.median(floor_cpus)
        factor = statistics.median(cpus) / floor if floor else math.inf
        rows = [
            (f"generate, {args.runs} runs", best, median, "", ""),
            (
                "generate per 1,000 metrics",
                best * per_k,
                median * per_k,
                f"< {TARGET_PER_1000_METRICS:.3f}s",
                verdict(median * per_k, TARGET_PER_1000_METRICS),
            ),
            ("generate CPU", min(cpus), statistics.median(cpus), "", ""),
            ("floor CPU (load + write)", min(floor_cpus), floor, "", ""),
            (
                f"mcgen --help, {args.help_runs} runs",
                help_best,
                help_median,
                f"< {TARGET_HELP:.3f}s",
                verdict(help_median, TARGET_HELP),
            ),
        ]
        print(f"\n{'measurement':<30} {'best':>9} {'median':>9}  {'target':<10} verdict")
        for name, low, mid, target, word in rows:
            print(f"{name:<30} {low:>8.3f}s {mid:>8.3f}s  {target:<10} {word}")
        print(
            f"{'generate CPU / floor CPU':<30} {factor:>18.1f}x  "
            f"{'<= ' + str(TARGET_FLOOR_FACTOR) + 'x':<10} "
            f"{verdict(factor, TARGET_FLOOR_FACTOR + 1e-9)}"
        )

        if args.promtool_services:
            count = min(args.promtool_services, args.services)
            print(f"\npromtool test rules, CPU on {count} services' suites")
            print(f"{'engine':<36} {'per alert':>10} {'total':>9}  {'target':<10} verdict")
            for name, per, cpu_total, target, word in promtool_rows(work / "out-0", count):
                print(f"{name:<36} {per * 1000:>8.0f}ms {cpu_total:>8.1f}s  {target:<10} {word}")

        if args.check_services:
            print(f"\n{check_row(mcgen, work, args.check_services, args.seed)}")
        print(
            f"\noutput: {files} files, {size / 1024:.0f} KiB per run"
            + (f"; kept in {work}" if args.keep else "")
        )
        print("(verdicts use the median; this benchmark reports and never fails)")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description="Time mcgen on a synthetic fleet.")
    parser.add_argument("--services", type=int, default=100, help="services to synthesise")
    parser.add_argument("--runs", type=int, default=3, help="timed `mcgen generate` runs")
    parser.add_argument("--help-runs", type=int, default=10, help="timed `mcgen --help` runs")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the synthesis")
    parser.add_argument(
        "--promtool-services",
        type=int,
        default=3,
        help="services whose suites promtool runs on each engine (0: none)",
    )
    parser.add_argument(
        "--check-services", type=int, default=100, help="services `mcgen check` runs on (0: skip)"
    )
    parser.add_argument("--mcgen", help="mcgen executable (default: .venv/bin/mcgen)")
    parser.add_argument("--keep", metavar="DIR", help="work in DIR and keep specs and outputs")
    args = parser.parse_args()
    if args.services < 1 or args.runs < 1 or args.help_runs < 1:
        parser.error("--services, --runs and --help-runs must be at least 1")
    if args.promtool_services < 0 or args.check_services < 0:
        parser.error("--promtool-services and --check-services must be at least 0")
    try:
        run(args)
    except (OSError, subprocess.SubprocessError) as exc:
        print(f"bench: could not run: {exc}")
    return 0  # reports, never gates: same exit status in CI and locally


if __name__ == "__main__":
    sys.exit(main())
