"""Grafana's HTTP API as `mcgen push` uses it, through the grafana-client library.

Every failure becomes a GrafanaError: one line that says what went wrong and what to do,
and whether the rest of the run can go on (a wrong token or an unreachable server stops it;
a dashboard Grafana refuses does not). The token comes from GRAFANA_TOKEN only and never
appears in a message: whatever a server says is scrubbed of it (and of any 8 characters of
it) before it is cut short, and every message again before it leaves this module.

Plain http to a host other than this machine would send the token unencrypted: refused
unless --insecure, which then warns (as it does for an unchecked TLS certificate).
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import warnings
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from mcgen.errors import UsageError

TOKEN_ENV = "GRAFANA_TOKEN"
URL_ENV = "GRAFANA_URL"
_TOKEN_CHARS = re.compile(r"[\x21-\x7e]+")  # what an HTTP header value can carry verbatim
_ERRNO = re.compile(r"\[Errno -?\d+\] ([^'\"()]+)|Failed to resolve [^(]*\(([^:)]+)")
_CHECK_URL = "check --url (Grafana's root URL, with any sub-path such as /grafana)"
_SSL = re.compile(r"\[SSL(?:: [A-Z_]+)?\] ([^'\"(]+)")


class GrafanaError(Exception):
    """One line for users; `fatal` when the other dashboards would fail the same way."""

    def __init__(self, message: str, fatal: bool = False, status: int | None = None) -> None:
        super().__init__(message)
        self.fatal = fatal
        self.status = status


@dataclass(frozen=True)
class Target:
    url: str  # as shown to users: scheme, host, port and path, never credentials
    token: str
    verify: bool = True
    timeout: float = 10.0

    def __repr__(self) -> str:  # keeps the token out of reprs and debug output
        return f"Target(url={self.url!r}, verify={self.verify}, timeout={self.timeout})"

    def warnings(self) -> list[str]:
        """What --insecure gives up, for a warning line each."""
        if self.verify:
            return []
        if self.url.startswith("http://"):
            return [f"warning: --insecure: {TOKEN_ENV} goes to {self.url} over plain http, "
                    "unencrypted"] if not loopback(self.url) else []
        return [f"warning: --insecure: the TLS certificate of {self.url} is not checked"]


def loopback(url: str) -> bool:
    """Whether the URL's host is this machine (localhost, 127.0.0.0/8, ::1)."""
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or bool(mapped and mapped.is_loopback)


def target(url: str | None, insecure: bool = False, timeout: float = 10.0) -> Target:
    """Where to push, from --url (else GRAFANA_URL) and GRAFANA_TOKEN; UsageError if unusable."""
    url = url or os.environ.get(URL_ENV, "")
    if not url:
        raise UsageError(f"no Grafana URL; pass --url https://grafana.example.com or set {URL_ENV}")
    try:
        parts = urlsplit(url.strip())
        port = parts.port  # raises ValueError for a port that is no number or out of range
    except ValueError:
        parts, port = None, None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError("the Grafana URL must look like https://grafana.example.com[/sub-path]; "
                         "check --url or " + URL_ENV)
    if parts.username is not None or parts.password is not None:
        raise UsageError(f"the Grafana URL must not hold credentials; put a service account token "
                         f"in {TOKEN_ENV} instead")
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise UsageError(f"{TOKEN_ENV} is not set; create a service account token with the Editor "
                         f"role in Grafana (Administration > Service accounts) and export it")
    if not _TOKEN_CHARS.fullmatch(token):
        raise UsageError(f"{TOKEN_ENV} holds spaces or control characters; "
                         "export the token exactly as Grafana showed it")
    if timeout <= 0:
        raise UsageError("--timeout must be a positive number of seconds")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    shown = f"{parts.scheme}://{host}{f':{port}' if port else ''}{parts.path.rstrip('/')}"
    if parts.scheme == "http" and not insecure and not loopback(shown):
        raise UsageError(f"{shown}: plain http would send {TOKEN_ENV} unencrypted to another "
                         "machine; use https://, or pass --insecure to send it anyway")
    return Target(shown, token, not insecure, timeout)


class Grafana:
    """The few calls push needs. Folders are listed once per run and created at most once."""

    def __init__(self, where: Target) -> None:
        from grafana_client.api import GrafanaApi  # lazy: only push needs it
        from grafana_client.client import TokenAuth

        parts = urlsplit(where.url)
        host = parts.hostname or ""
        prefix = parts.path.strip("/")
        self.where = where
        auth = TokenAuth(where.token)  # type: ignore[no-untyped-call]
        self._api: Any = GrafanaApi(
            auth=auth, host=f"[{host}]" if ":" in host else host,
            port=parts.port, protocol=parts.scheme, url_path_prefix=f"{prefix}/" if prefix else "",
            verify=where.verify, timeout=where.timeout)
        self._folders: dict[str, str] | None = None

    def check(self) -> None:
        """GET /api/health (no token needed): is this Grafana at all, and reachable?"""
        answer = self._call("reach Grafana", "Viewer", self._api.client.GET, "/health")
        if not isinstance(answer, dict) or "database" not in answer:
            raise self._odd("GET /api/health")

    def folder_uid(self, title: str) -> str | None:
        """The uid of the top-level folder with this title, or None if there is none."""
        if self._folders is None:
            found = self._call("list folders", "Viewer", self._api.folder.get_all_folders)
            if not isinstance(found, list):
                raise self._odd("GET /api/folders")
            self._folders = {}
            for folder in found:  # first one wins, as in Grafana's own folder picker
                if isinstance(folder, dict) and "title" in folder and "uid" in folder:
                    self._folders.setdefault(str(folder["title"]).casefold(), str(folder["uid"]))
        return self._folders.get(title.casefold())

    def create_folder(self, title: str) -> str:
        made = self._call(f"create folder {json.dumps(title, ensure_ascii=False)}", "Editor",
                          self._api.folder.create_folder, title)
        if not isinstance(made, dict) or "uid" not in made:
            raise self._odd("POST /api/folders")
        uid = str(made["uid"])
        if self._folders is not None:
            self._folders[title.casefold()] = uid
        return uid

    def dashboard(self, uid: str) -> dict[str, Any] | None:
        """Grafana's copy ({"dashboard": ..., "meta": ...}), or None if it has none."""
        try:
            found = self._call(f"read dashboard {uid}", "Viewer",
                               self._api.dashboard.get_dashboard, uid)
        except GrafanaError as exc:
            if exc.status == 404:
                return None
            raise
        if not isinstance(found, dict) or not isinstance(found.get("dashboard"), dict):
            raise self._odd(f"GET /api/dashboards/uid/{uid}")
        return found

    def save(self, dashboard: dict[str, Any], folder_uid: str, message: str) -> dict[str, Any]:
        body = {"dashboard": dashboard, "folderUid": folder_uid, "message": message,
                "overwrite": True}
        saved = self._call("save the dashboard", "Editor", self._api.dashboard.update_dashboard,
                           body, gone="was its folder deleted meanwhile? run `mcgen push` again")
        return saved if isinstance(saved, dict) else {}

    def _odd(self, request: str) -> GrafanaError:
        """An answer Grafana would not give: a proxy's or a login page's, say."""
        return GrafanaError(f"{self.where.url} answered {request} unlike Grafana; {_CHECK_URL}",
                            fatal=True)

    def _call(self, what: str, role: str, fn: Any, *args: Any, gone: str = _CHECK_URL) -> Any:
        """fn(*args), its failures as GrafanaError; `gone` is the hint for a 404."""
        from grafana_client.client import (
            GrafanaClientError,
            GrafanaException,
            GrafanaServerError,
            GrafanaTimeoutError,
        )
        from niquests.exceptions import ConnectionError as NetError
        from niquests.exceptions import RequestException, SSLError

        url, token = self.where.url, self.where.token
        try:
            with warnings.catch_warnings():
                if not self.where.verify:  # asked for; push says so once, not per request
                    warnings.filterwarnings("ignore", message="Unverified HTTPS request")
                return fn(*args)
        except GrafanaTimeoutError:
            error = GrafanaError(f"no answer from {url} within {self.where.timeout:g}s; check "
                                 "the URL and the network, or raise --timeout", fatal=True)
        except GrafanaClientError as exc:
            error = _refused(what, role, exc.status_code, _scrub(exc.response, token), url,
                             gone)
        except GrafanaServerError as exc:
            error = GrafanaError(f"could not {what}: Grafana failed ({exc.status_code}: "
                                 f"{_said(_scrub(exc.response, token))}); see Grafana's "
                                 "log, then retry")
        except SSLError as exc:
            reason = _reason(exc, token)
            hint = ("if Grafana's certificate comes from a private CA, point REQUESTS_CA_BUNDLE "
                    "at the CA's certificate" if "certificate" in reason else
                    "check the URL's scheme (https or http) and port")
            error = GrafanaError(f"TLS error talking to {url} ({reason}); {hint}", fatal=True)
        except NetError as exc:
            error = GrafanaError(f"cannot connect to Grafana at {url} ({_reason(exc, token)}); "
                                 "is it "
                                 "running, and are --url / GRAFANA_URL right?", fatal=True)
        except (GrafanaException, RequestException, ValueError) as exc:
            error = GrafanaError(f"could not {what} at {url}: {_reason(exc, token)}",
                                 fatal=True)
        raise GrafanaError(_scrub(str(error), token), error.fatal, error.status)


def _refused(what: str, role: str, status: int, response: object, url: str,
             gone: str) -> GrafanaError:
    said = _said(response)
    if status == 401:
        return GrafanaError(f"Grafana at {url} rejected the token (401 Unauthorized): "
                            f"{TOKEN_ENV} is wrong, expired or revoked, or belongs to another "
                            "Grafana; create a new service account token", fatal=True)
    if status == 403:
        return GrafanaError(f"not allowed to {what} (403 Forbidden: {said}); give the token's "
                            f"service account the {role} role, or that permission on the folder")
    if status == 404:
        return GrafanaError(f"could not {what}: 404 Not Found ({said}); {gone}", status=404)
    if status == 412:
        kind = response.get("status") if isinstance(response, dict) else None
        hint = {"name-exists": "another dashboard in that folder has the same title; rename "
                               "one of them (dashboard.title in the spec)",
                "plugin-dashboard": "a plugin owns it; pick another dashboard.uid",
                }.get(str(kind), "it changed in Grafana meanwhile; run `mcgen push` again")
        return GrafanaError(f"could not {what}: 412 Precondition Failed ({said}); {hint}")
    if status == 400 and "provisioned" in said.lower():
        return GrafanaError(f"could not {what}: Grafana provisions it from files ({said}); "
                            "change it through grafana/provisioning.yaml, or stop provisioning it")
    return GrafanaError(f"could not {what}: {status} ({said})")


def _said(response: object) -> str:
    """Grafana's own message, short and on one line."""
    text = response.get("message", response) if isinstance(response, dict) else response
    line = " ".join(str(text).split())
    return (line[:157] + "...") if len(line) > 160 else line or "no message"


def _reason(exc: BaseException, token: str) -> str:
    """'connection refused' rather than three nested exception reprs."""
    text = _scrub(str(exc), token)
    found = _SSL.search(text) or _ERRNO.search(text)
    if found:
        return next(g for g in found.groups() if g).strip().lower()
    return _said(text)


_FRAGMENT = 8  # this many characters of the token in a row are scrubbed too


def _scrub(said: Any, token: str) -> Any:
    """What a server said (text, or JSON data) with the token, and every run of at least
    8 of its characters (a server may echo part of it), replaced by <GRAFANA_TOKEN>."""
    if isinstance(said, dict):
        return {_scrub(k, token): _scrub(v, token) for k, v in said.items()}
    if isinstance(said, list):
        return [_scrub(v, token) for v in said]
    if not isinstance(said, str) or not token:
        return said
    least = min(len(token), _FRAGMENT)
    out, i = [], 0
    while i < len(said):
        length = 0
        while i + length < len(said) and said[i:i + length + 1] in token:
            length += 1
        if length >= least:
            out.append(f"<{TOKEN_ENV}>")
            i += length
        else:
            out.append(said[i])
            i += 1
    return "".join(out)
