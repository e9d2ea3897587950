"""`mcgen push` against a stub of Grafana's HTTP API on 127.0.0.1, and the provisioning file.

The stub answers the few endpoints push uses the way Grafana does, refuses any request
without the right `Authorization: Bearer` header, and records every request, so the tests
can say what was sent (paths, bodies) and that nothing was sent when nothing should be.
"""

from __future__ import annotations

import json
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from typer.testing import CliRunner

from mcgen import api
from mcgen.cli import app
from mcgen.spec.model import Model

runner = CliRunner()
TOKEN = "glsa_s3cr3tT0kenValue_0123456789_abcdef"
SPEC = """\
version: 1
service: {name}
{dashboard}metrics:
  - name: {name}_requests_total
    type: counter
    help: Requests served
"""
SPECS = {  # two dashboards in one folder, one in another, one in General
    "shop": "dashboard: {title: Shop, folder: Platform}\n",
    "cart": "dashboard: {title: Cart, uid: cart-uid, folder: Platform}\n",
    "ledger": "dashboard: {folder: Finance}\n",
    "notes": "",
}


@dataclass
class Request:
    method: str
    path: str
    body: Any
    auth: str | None


class Grafana:
    """A stub of the Grafana HTTP API: folders, dashboards by uid, /api/dashboards/db."""

    def __init__(self) -> None:
        self.token = TOKEN
        self.folders: list[dict[str, Any]] = []
        self.dashboards: dict[str, dict[str, Any]] = {}
        self.requests: list[Request] = []
        self.fail: dict[str, tuple[int, Any]] = {}  # dashboard uid -> answer to its save
        self.fail_all: tuple[int, Any] | None = None
        self.delay = 0.0
        self.health: Any = {"commit": "abc", "database": "ok", "version": "11.6.0"}
        self.url = ""
        self.echo: int | None = None  # answer 500, echoing the Authorization header after
        # this many characters
        self.schema_version: int | None = None  # as Grafana 12/13: migrate on read to this

    def writes(self) -> list[Request]:
        return [r for r in self.requests if r.method != "GET"]

    def answer(self, method: str, path: str, body: Any, auth: str | None) -> tuple[int, Any]:
        self.requests.append(Request(method, path, body, auth))
        if (method, path) == ("GET", "/api/health"):
            return 200, self.health
        if self.echo is not None:
            return 500, {"message": "x" * self.echo + f" proxy saw Authorization: {auth}"}
        if auth != f"Bearer {self.token}":
            return 401, {"message": "Invalid API key", "messageId": "api-key.invalid"}
        if self.fail_all:
            return self.fail_all
        time.sleep(self.delay)
        if (method, path) == ("GET", "/api/folders"):
            return 200, [{"id": i + 1, **f} for i, f in enumerate(self.folders)]
        if (method, path) == ("POST", "/api/folders"):
            assert set(body) == {"title"} and isinstance(body["title"], str), body
            folder = {"uid": f"folder-{len(self.folders) + 1}", "title": body["title"]}
            self.folders.append(folder)
            return 200, {"id": len(self.folders), **folder}
        if method == "GET" and path.startswith("/api/dashboards/uid/"):
            found = self.dashboards.get(path.rsplit("/", 1)[1])
            if found and self.schema_version is not None:
                found = {**found, "dashboard": {**found["dashboard"],
                                                "schemaVersion": self.schema_version}}
            return (200, found) if found else (404, {"message": "Dashboard not found"})
        if (method, path) == ("POST", "/api/dashboards/db"):
            return self.save(body)
        return 404, {"message": "Not found"}

    def save(self, body: dict[str, Any]) -> tuple[int, Any]:
        assert set(body) == {"dashboard", "folderUid", "message", "overwrite"}, body
        assert body["overwrite"] is True and isinstance(body["message"], str)
        dashboard = body["dashboard"]
        uid = dashboard["uid"]
        if uid in self.fail:
            return self.fail[uid]
        assert dashboard["id"] is None and isinstance(dashboard["title"], str)
        assert body["folderUid"] == "" or body["folderUid"] in {f["uid"] for f in self.folders}
        version = self.dashboards.get(uid, {}).get("dashboard", {}).get("version", 0) + 1
        self.dashboards[uid] = {  # as Grafana stores it: its own id and version inside
            "dashboard": {**dashboard, "id": 7, "version": version},
            "meta": {"folderUid": body["folderUid"], "provisioned": False, "slug": uid}}
        return 200, {"id": 7, "uid": uid, "url": f"/d/{uid}/x", "status": "success",
                     "version": version}


def _serve(stub: Grafana, wrap: ssl.SSLContext | None = None) -> Iterator[Grafana]:
    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            size = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(size)) if size else None
            code, data = stub.answer(self.command, urlsplit(self.path).path, body,
                                     self.headers.get("Authorization"))
            raw = json.dumps(data).encode()
            try:
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (the timeout test)

        do_GET = do_POST = do_PUT = do_DELETE = _handle

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    if wrap:
        server.socket = wrap.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    stub.url = f"{'https' if wrap else 'http'}://127.0.0.1:{server.server_address[1]}"
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def grafana(monkeypatch: pytest.MonkeyPatch) -> Iterator[Grafana]:
    stub = Grafana()
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    yield from _serve(stub)


def _write_specs(folder: Path, specs: dict[str, str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, dashboard in specs.items():
        (folder / f"{name}.yaml").write_text(SPEC.format(name=name, dashboard=dashboard))


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, grafana: Grafana) -> Path:
    """Specs, their generated outputs, and GRAFANA_URL/GRAFANA_TOKEN for the stub."""
    _write_specs(tmp_path / "specs", SPECS)
    monkeypatch.chdir(tmp_path)
    api.generate()
    monkeypatch.setenv("GRAFANA_URL", grafana.url)
    monkeypatch.setenv("GRAFANA_TOKEN", TOKEN)
    return tmp_path


def _saved(grafana: Grafana) -> dict[str, dict[str, Any]]:
    return {r.body["dashboard"]["uid"]: r.body for r in grafana.writes()
            if r.path == "/api/dashboards/db"}


def _clean(result: Any) -> None:
    """What every run must hold: no traceback, and never the token."""
    assert "Traceback" not in result.output
    assert TOKEN not in result.stdout and TOKEN not in result.stderr


def test_push_creates_each_folder_once_and_saves_every_dashboard(
        project: Path, grafana: Grafana) -> None:
    result = runner.invoke(app, ["push"])
    _clean(result)
    assert result.exit_code == 0, result.output
    folders = [r.body["title"] for r in grafana.writes() if r.path == "/api/folders"]
    assert sorted(folders) == ["Finance", "Platform"]  # Platform once, for two dashboards
    uid = {f["title"]: f["uid"] for f in grafana.folders}
    saved = _saved(grafana)
    assert {u: body["folderUid"] for u, body in saved.items()} == {
        "mcgen-shop": uid["Platform"], "cart-uid": uid["Platform"],
        "mcgen-ledger": uid["Finance"], "mcgen-notes": ""}
    for service, body in zip(("cart", "ledger", "notes", "shop"), sorted(saved.values(),
                             key=lambda b: b["dashboard"]["title"].lower()), strict=True):
        committed = json.loads((project / "generated/grafana" / f"{service}.json").read_text())
        assert body["dashboard"] == {**committed, "id": None}
        assert body["overwrite"] is True
        assert body["message"] == f"mcgen: generated from specs/{service}.yaml"
    assert all(r.auth == f"Bearer {TOKEN}" for r in grafana.requests if r.path != "/api/health")
    lines = result.stdout.splitlines()
    assert 'created      folder "Platform"' in lines
    assert 'created      cart: "Cart" in "Platform" (uid cart-uid)' in lines
    assert 'created      notes: "notes metrics" in General (uid mcgen-notes)' in lines
    assert lines[-1] == f"4 dashboard(s) at {grafana.url}: 4 created"


def test_second_push_changes_nothing_and_message_option(project: Path, grafana: Grafana) -> None:
    assert runner.invoke(app, ["push"]).exit_code == 0
    grafana.requests.clear()
    result = runner.invoke(app, ["push", "--message", "release 42"])
    assert result.exit_code == 0, result.output
    assert grafana.writes() == []  # no empty versions in Grafana's history
    assert result.stdout.splitlines()[-1].endswith(": 4 unchanged")
    spec = project / "specs" / "shop.yaml"
    spec.write_text(spec.read_text().replace("title: Shop", "title: Shop v2"))
    api.generate()
    result = runner.invoke(app, ["push", "--message", "release 42"])
    assert 'updated      shop: "Shop v2" in "Platform" (uid mcgen-shop)' in result.stdout
    assert _saved(grafana)["mcgen-shop"]["message"] == "release 42"


def test_grafana_13_migrating_on_read_is_no_change(project: Path, grafana: Grafana) -> None:
    """Grafana 12/13 keep the legacy /api/dashboards endpoints push uses (deprecated in 13,
    not removed) but answer with the dashboard migrated to their latest schemaVersion (13.2:
    42): that is not a change of ours, so a second push writes nothing; a real change is
    still pushed."""
    grafana.health = {"commit": "56cd3e92", "database": "ok", "version": "13.2.1"}
    grafana.schema_version = 42
    assert runner.invoke(app, ["push"]).exit_code == 0
    saved = _saved(grafana)
    assert {body["dashboard"]["schemaVersion"] for body in saved.values()} == {41}
    grafana.requests.clear()
    result = runner.invoke(app, ["push"])
    assert result.exit_code == 0, result.output
    assert grafana.writes() == [] and result.stdout.splitlines()[-1].endswith(": 4 unchanged")
    spec = project / "specs" / "notes.yaml"
    spec.write_text(spec.read_text().replace("Requests served", "Requests answered"))
    api.generate()
    result = runner.invoke(app, ["push"])
    assert result.stdout.splitlines()[-1].endswith(": 1 updated, 3 unchanged"), result.stdout


def test_dry_run_reports_and_changes_nothing(project: Path, grafana: Grafana) -> None:
    result = runner.invoke(app, ["push", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert grafana.writes() == [] and grafana.folders == [] and grafana.dashboards == {}
    assert result.stdout.count('would create folder "Platform"') == 1
    assert runner.invoke(app, ["push"]).exit_code == 0
    spec = project / "specs" / "cart.yaml"
    spec.write_text(spec.read_text().replace("title: Cart", "title: Basket"))
    api.generate()
    del grafana.dashboards["mcgen-notes"]
    before = json.dumps(grafana.dashboards, sort_keys=True)
    grafana.requests.clear()
    result = runner.invoke(app, ["push", "--dry-run"])
    _clean(result)
    assert result.exit_code == 0, result.output
    assert grafana.writes() == [] and json.dumps(grafana.dashboards, sort_keys=True) == before
    assert result.stdout.splitlines() == [
        'would update cart: "Basket" in "Platform" (uid cart-uid)',
        'unchanged    ledger: "ledger metrics" in "Finance" (uid mcgen-ledger)',
        'would create notes: "notes metrics" in General (uid mcgen-notes)',
        'unchanged    shop: "Shop" in "Platform" (uid mcgen-shop)',
        f"4 dashboard(s) at {grafana.url}: 1 would create, 1 would update, 2 unchanged; "
        "dry run, nothing was changed"]


def test_wrong_token_is_one_line_and_never_shown(project: Path, grafana: Grafana) -> None:
    grafana.token = "glsa_another_token"
    result = runner.invoke(app, ["push"])
    _clean(result)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"Grafana at {grafana.url} rejected the token (401 Unauthorized): GRAFANA_TOKEN is "
        "wrong, expired or revoked, or belongs to another Grafana; create a new service "
        "account token"]
    assert grafana.writes() == []


@pytest.mark.parametrize(("status", "answer", "says"), [
    (403, {"message": "You'll need additional permissions to perform this action. "
                      "Permissions needed: dashboards:create"},
     "not allowed to save the dashboard (403 Forbidden: You'll need additional permissions to "
     "perform this action. Permissions needed: dashboards:create); give the token's service "
     "account the Editor role, or that permission on the folder"),
    (404, {"message": "Folder not found"},
     "could not save the dashboard: 404 Not Found (Folder not found); was its folder deleted "
     "meanwhile? run `mcgen push` again"),
    (412, {"message": "The dashboard has been changed by someone else",
           "status": "version-mismatch"},
     "could not save the dashboard: 412 Precondition Failed (The dashboard has been changed "
     "by someone else); it changed in Grafana meanwhile; run `mcgen push` again"),
    (412, {"message": "A dashboard with the same name in the folder already exists",
           "status": "name-exists"},
     "another dashboard in that folder has the same title; rename one of them"),
    (400, {"message": "Cannot save provisioned dashboard"},
     "Grafana provisions it from files (Cannot save provisioned dashboard)"),
    (500, {"message": f"proxy saw Authorization: Bearer {TOKEN}"},
     "Grafana failed (500: proxy saw Authorization: Bearer <GRAFANA_TOKEN>)"),
])
def test_a_refused_dashboard_fails_alone(project: Path, grafana: Grafana, status: int,
                                         answer: dict[str, str], says: str) -> None:
    grafana.fail["cart-uid"] = (status, answer)
    result = runner.invoke(app, ["push"])
    _clean(result)
    assert result.exit_code == 1
    [line] = result.stderr.splitlines()
    assert line.startswith('failed       cart: "Cart" in "Platform" (uid cart-uid): ')
    assert says in line
    assert set(_saved(grafana)) == {"cart-uid", "mcgen-ledger", "mcgen-notes", "mcgen-shop"}
    assert set(grafana.dashboards) == {"mcgen-ledger", "mcgen-notes", "mcgen-shop"}
    assert result.stdout.splitlines()[-1].endswith(": 3 created, 1 failed")


def test_grafana_provisioned_dashboard_is_not_overwritten(project: Path,
                                                          grafana: Grafana) -> None:
    grafana.dashboards["mcgen-notes"] = {"dashboard": {"uid": "mcgen-notes", "title": "old"},
                                         "meta": {"folderUid": "", "provisioned": True}}
    result = runner.invoke(app, ["push"])
    assert result.exit_code == 1
    assert "Grafana provisions this dashboard from files" in result.stderr
    assert "mcgen-notes" not in _saved(grafana)


def test_connection_refused_is_one_line(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as sock:  # a port nothing listens on any more
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = runner.invoke(app, ["push", "--url", f"http://127.0.0.1:{port}/"])
    _clean(result)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"cannot connect to Grafana at http://127.0.0.1:{port} (connection refused); is it "
        "running, and are --url / GRAFANA_URL right?"]


def test_timeout_is_one_line(project: Path, grafana: Grafana) -> None:
    grafana.delay = 1.0
    result = runner.invoke(app, ["push", "--timeout", "0.2"])
    _clean(result)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"no answer from {grafana.url} within 0.2s; check the URL and the network, "
        "or raise --timeout"]


def test_not_grafana_is_one_line(project: Path, grafana: Grafana) -> None:
    result = runner.invoke(app, ["push", "--url", grafana.url + "/nothing-here"])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "could not reach Grafana: 404 Not Found (Not found); check --url (Grafana's root URL, "
        "with any sub-path such as /grafana)"]
    grafana.health = "<html>a login page</html>"
    result = runner.invoke(app, ["push"])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{grafana.url} answered GET /api/health unlike Grafana; check --url (Grafana's root "
        "URL, with any sub-path such as /grafana)"]


def test_https_to_a_plain_http_port_is_a_tls_error(project: Path, grafana: Grafana) -> None:
    url = grafana.url.replace("http://", "https://")
    result = runner.invoke(app, ["push", "--url", url])
    _clean(result)
    assert result.exit_code == 1
    [line] = result.stderr.splitlines()
    assert line.startswith(f"TLS error talking to {url} (") and "check the URL's scheme" in line


def test_tls_is_verified_unless_told(project: Path, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    serving = _serve(Grafana(), context)
    stub = next(serving)
    try:
        refused = runner.invoke(app, ["push", "--url", stub.url])
        assert refused.exit_code == 1 and stub.writes() == []
        assert refused.stderr.splitlines() == [
            f"TLS error talking to {stub.url} (certificate verify failed: self-signed "
            "certificate); if Grafana's certificate comes from a private CA, point "
            "REQUESTS_CA_BUNDLE at the CA's certificate"]
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
        trusted = runner.invoke(app, ["push", "--url", stub.url, "--dry-run"])
        assert trusted.exit_code == 0, trusted.output
        monkeypatch.delenv("REQUESTS_CA_BUNDLE")
        insecure = runner.invoke(app, ["push", "--url", stub.url, "--insecure"])
        assert insecure.exit_code == 0, insecure.output
        assert "--insecure" in insecure.stderr and len(stub.dashboards) == 4
    finally:
        serving.close()


@pytest.mark.parametrize("padding", [0, 90, 100, 110, 115, 120, 140, 170])
def test_a_server_echoing_the_token_never_shows_any_of_it(project: Path, grafana: Grafana,
                                                         padding: int) -> None:
    """Grafana's messages are cut at 160 characters: the token was scrubbed after the cut,
    so a cut through it showed its first characters."""
    grafana.echo = padding
    result = runner.invoke(app, ["push"])
    assert result.exit_code == 1
    assert [r.auth for r in grafana.requests][-1] == f"Bearer {TOKEN}"  # it was echoed
    secret = TOKEN.removeprefix("glsa_")
    shown = result.output.replace(grafana.url, "<url>")  # its port may share 4 digits
    for start in range(len(secret) - 3):
        assert secret[start:start + 4] not in shown, (padding, result.output)
    lines = result.stderr.splitlines()
    assert lines and all("Grafana failed (500: " in line for line in lines), lines
    assert all(len(line) < 400 for line in lines)


def test_scrub_removes_the_token_and_parts_of_it() -> None:
    from mcgen.dashboards.grafana import _scrub
    token = "glsa_s3cr3tT0kenValue_0123456789_abcdef"
    said = {"message": f"a {token} b {token[:12]} c {token[20:30]} d glsa_ e", "n": [token]}
    assert _scrub(said, token) == {
        "message": "a <GRAFANA_TOKEN> b <GRAFANA_TOKEN> c <GRAFANA_TOKEN> d glsa_ e",
        "n": ["<GRAFANA_TOKEN>"]}


@pytest.mark.parametrize("url", ["http://grafana.example.com", "http://10.0.0.7:3000/grafana",
                                 "http://[2001:db8::1]:3000"])
def test_plain_http_to_another_machine_needs_insecure(project: Path, grafana: Grafana,
                                                      url: str) -> None:
    result = runner.invoke(app, ["push", "--url", url])
    _clean(result)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"{url}: plain http would send GRAFANA_TOKEN unencrypted to another machine; use "
        "https://, or pass --insecure to send it anyway"]
    assert grafana.requests == []


def test_insecure_plain_http_warns(project: Path, grafana: Grafana,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """With --insecure the token goes, and a warning says so (the stub on 127.0.0.1 stands
    in for another machine)."""
    from mcgen.dashboards import grafana as module
    monkeypatch.setattr(module, "loopback", lambda url: False)
    result = runner.invoke(app, ["push", "--insecure"])
    _clean(result)
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        f"warning: --insecure: GRAFANA_TOKEN goes to {grafana.url} over plain http, "
        "unencrypted"]
    assert len(grafana.dashboards) == 4


@pytest.mark.parametrize(("url", "local"), [
    ("http://localhost:3000", True), ("http://127.0.0.2", True), ("http://[::1]:3000", True),
    ("http://[::ffff:127.0.0.1]", True), ("http://grafana.localhost", True),
    ("http://127.example.com", False), ("http://10.0.0.1", False), ("http://[::2]", False)])
def test_loopback(url: str, local: bool) -> None:
    from mcgen.dashboards.grafana import loopback
    assert loopback(url) is local


@pytest.mark.parametrize(("unset", "says"), [
    ("GRAFANA_TOKEN", "GRAFANA_TOKEN is not set; create a service account token"),
    ("GRAFANA_URL", "no Grafana URL; pass --url https://grafana.example.com or set GRAFANA_URL"),
])
def test_missing_url_or_token_is_a_usage_error(project: Path, grafana: Grafana,
                                               monkeypatch: pytest.MonkeyPatch, unset: str,
                                               says: str) -> None:
    monkeypatch.delenv(unset)
    result = runner.invoke(app, ["push"])
    _clean(result)
    assert result.exit_code == 2
    assert result.stderr.strip().startswith(says)
    assert grafana.requests == []


@pytest.mark.parametrize(("args", "token", "says"), [
    (["--url", "grafana.example.com"], TOKEN, "the Grafana URL must look like https://"),
    (["--url", "https://grafana.example.com:99999"], TOKEN, "the Grafana URL must look like"),
    (["--url", "https://grafana.example.com:abc"], TOKEN, "the Grafana URL must look like"),
    (["--url", "https://[::1"], TOKEN, "the Grafana URL must look like"),
    (["--url", "https://admin:hunter2@grafana.example.com"], TOKEN, "must not hold credentials"),
    ([], "two words", "GRAFANA_TOKEN holds spaces or control characters"),
    (["--message", "x" * 501], TOKEN, "--message must hold 1 to 500 characters"),
])
def test_bad_settings_are_usage_errors(project: Path, grafana: Grafana,
                                       monkeypatch: pytest.MonkeyPatch, args: list[str],
                                       token: str, says: str) -> None:
    monkeypatch.setenv("GRAFANA_TOKEN", token)
    result = runner.invoke(app, ["push", *args])
    assert result.exit_code == 2
    assert says in result.stderr and "hunter2" not in result.output and token not in result.output
    assert grafana.requests == []


@pytest.mark.parametrize(("change", "says"), [("unlink", "missing"), ("edit", "stale")])
def test_stale_or_missing_dashboard_file_says_generate(project: Path, grafana: Grafana,
                                                       change: str, says: str) -> None:
    path = project / "generated" / "grafana" / "shop.json"
    if change == "unlink":
        path.unlink()
    else:
        path.write_text(path.read_text().replace('"Shop"', '"Shop (edited)"'))
    result = runner.invoke(app, ["push"])
    _clean(result)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"generated/grafana/shop.json: {says}; run `mcgen generate` (and commit the result) "
        "before pushing"]
    assert grafana.requests == []


# -- grafana/provisioning/<service>.yaml -------------------------------------------------

PROVISIONING = """\
# Generated by mcgen from specs/ledger.yaml. Do not edit by hand:
# change the spec and run `mcgen generate`.
#
# Grafana file provisioning of this service's dashboard, in its spec's dashboard.folder
# ("" is the General folder). Grafana reads every file in /etc/grafana/provisioning/dashboards/
# and the dashboard from options.path below: mount the output folder's grafana/provisioning/
# there and its grafana/ at /var/lib/grafana/dashboards/mcgen/. With Docker and the default output folder:
#   -v "$PWD/generated/grafana/provisioning:/etc/grafana/provisioning/dashboards:ro"
#   -v "$PWD/generated/grafana:/var/lib/grafana/dashboards/mcgen:ro"
# Grafana rereads changed dashboard files within 10s by itself, and this file when it starts
# (or on POST /api/admin/provisioning/dashboards/reload). Provisioned dashboards cannot be
# saved from the UI or by `mcgen push`: provision them or push them, not both.
apiVersion: 1
providers:
  - name: mcgen-ledger
    folder: Finance
    type: file
    disableDeletion: false
    allowUiUpdates: false
    options:
      path: /var/lib/grafana/dashboards/mcgen/ledger.json
"""  # noqa: E501


def _model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Model:
    _write_specs(tmp_path / "specs", SPECS)
    monkeypatch.chdir(tmp_path)
    return api.validate()


def test_provisioning_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _model(tmp_path, monkeypatch)
    files = api.render()
    assert files["grafana/provisioning/ledger.yaml"] == PROVISIONING
    found = {}
    for rel, text in files.items():
        if rel.startswith("grafana/provisioning/"):
            data = yaml.safe_load(text)
            assert data["apiVersion"] == 1
            (provider,) = data["providers"]
            assert provider["type"] == "file" and provider["allowUiUpdates"] is False
            name = provider["name"].removeprefix("mcgen-")
            assert rel == f"grafana/provisioning/{name}.yaml"
            assert provider["options"] == {
                "path": f"/var/lib/grafana/dashboards/mcgen/{name}.json"}
            assert f"grafana/{name}.json" in files  # the mount of grafana/ finds it
            found[name] = provider["folder"]
    assert found == {"notes": "", "ledger": "Finance", "cart": "Platform", "shop": "Platform"}


def test_a_run_over_some_specs_renders_the_same_provisioning(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing in a service's files depends on which other specs are in the run."""
    _model(tmp_path, monkeypatch)
    every = api.render()
    one = api.render([Path("specs/ledger.yaml")])
    assert one and all(every[rel] == text for rel, text in one.items())
