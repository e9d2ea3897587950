"""`mcgen init --from-metrics`, part 1: read a Prometheus text exposition from a saved file
or an http(s) URL and parse it with prometheus_client's parser. Every failure is a
one-line UsageError (exit 2)."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from pathlib import Path

from prometheus_client.metrics_core import Metric as Family
from prometheus_client.parser import text_string_to_metric_families

from mcgen.errors import UsageError, shorten

TIMEOUT = 10.0  # seconds to wait for the endpoint
# The classic text format: no protobuf, no OpenMetrics, no compression.
ACCEPT = "text/plain;version=0.0.4;q=1.0, */*;q=0.1"
_COUNTER_TYPE = re.compile(r"^#\s*TYPE\s+(\S+)\s+counter\s*$", re.MULTILINE)


def fetch(source: str, timeout: float = TIMEOUT) -> str:
    """The exposition text of a URL or a file."""
    if re.match(r"https?://", source, re.IGNORECASE):
        return _get(source, timeout)
    path = Path(source)
    if not path.exists():
        raise UsageError(f"{source}: no such file; give a saved /metrics page or an "
                         "http(s):// URL")
    if path.is_dir():
        raise UsageError(f"{source}: is a folder; give a saved /metrics page or an "
                         "http(s):// URL")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{source}: not UTF-8 text (byte {exc.start}), so not a Prometheus "
                         "text exposition") from exc
    except OSError as exc:
        raise UsageError(f"{source}: cannot read ({exc.strerror})") from exc


def _get(url: str, timeout: float) -> str:
    request = urllib.request.Request(url, headers={"Accept": ACCEPT,
                                                   "User-Agent": "mcgen-init"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body: bytes = response.read()
            charset = response.headers.get_content_charset() or "utf-8"
    except urllib.error.HTTPError as exc:
        raise UsageError(f"{url}: HTTP {exc.code} {exc.reason}; check the URL "
                         "(usually ends in /metrics)") from exc
    except urllib.error.URLError as exc:
        reason = exc.reason.strerror if isinstance(exc.reason, OSError) and \
            exc.reason.strerror else exc.reason
        raise UsageError(f"{url}: cannot connect ({reason}); is the service running "
                         "and the URL right?") from exc
    except TimeoutError as exc:
        raise UsageError(f"{url}: no answer within {timeout:g}s; is the service running "
                         "and the URL right?") from exc
    except (OSError, ValueError) as exc:  # a malformed URL, a reset connection
        raise UsageError(f"{url}: cannot read it ({shorten(str(exc), 80)})") from exc
    try:
        return body.decode(charset)
    except (UnicodeDecodeError, LookupError) as exc:
        raise UsageError(f"{url}: the answer is not {charset} text, so not a Prometheus "
                         "text exposition") from exc


def parse(text: str, source: str) -> list[Family]:
    """The metric families, in exposition order; a UsageError naming the first bad line
    when the text is not an exposition, or when it holds no metric at all."""
    try:
        families = list(text_string_to_metric_families(text))
    except (ValueError, IndexError, KeyError, TypeError) as exc:
        where, line = _bad_line(text)
        what = f"line {shorten(line, 60)}" if line else shorten(str(exc), 60)
        raise UsageError(f"{source}{where}: not a Prometheus text exposition ({what}); "
                         "give a saved /metrics page or its URL") from exc
    if not families:
        raise UsageError(f"{source}: no metrics in it; give a saved /metrics page or its URL")
    return families


def _bad_line(text: str) -> tuple[str, str]:
    """(":LINE:1", line) of the first line that does not parse on its own, if any."""
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            list(text_string_to_metric_families(line + "\n"))
        except (ValueError, IndexError, KeyError, TypeError):
            return f":{number}:1", line.strip()
    return "", ""


def counters_declared(text: str) -> set[str]:
    """Names given to `# TYPE NAME counter` lines, as written: the parser strips `_total`
    from counter families, so this tells `x_total` from a counter named plain `x`."""
    return set(_COUNTER_TYPE.findall(text))
