"""Does the e2e app (shop_app.py) exit when its parent dies? Used by tests/test_e2e.py.

    python orphan_check.py APP STUB_DIR

runs as a *reaper*: it makes itself the child subreaper (Linux prctl), starts a *launcher*
(this file again) that starts the app, waits until the app serves, prints the app's pid and
kills itself with SIGKILL, the way a test run dies when it is killed. The orphaned app is
re-parented to the reaper, which waits for it and prints one JSON line:
`{"exit": <the app's exit code>, "seconds": <from the launcher's death to the app's>}`,
or `{"exit": null, ...}` if the app was still running after TIMEOUT seconds (it is then
killed, by its pid). The app's stdin stays open all along (it is the reaper's, which the
caller holds), so only the parent's death can end it.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36
TIMEOUT = 10.0


def launcher(app: str, stub_dir: str) -> int:
    process = subprocess.Popen([sys.executable, app, stub_dir], stdout=subprocess.PIPE)
    assert process.stdout is not None
    if not process.stdout.readline().strip().isdigit():  # the port: the app is serving
        process.kill()
        process.wait()
        return 1
    print(process.pid, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
    return 1  # not reached


def reaper(app: str, stub_dir: str) -> int:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        print(json.dumps({"error": f"prctl failed: errno {ctypes.get_errno()}"}), flush=True)
        return 2
    launched = subprocess.Popen([sys.executable, __file__, "--launcher", app, stub_dir],
                                stdout=subprocess.PIPE)
    assert launched.stdout is not None
    line = launched.stdout.readline()
    launched.wait()
    died = time.monotonic()
    if not line.strip():
        print(json.dumps({"error": "the launcher printed no pid"}), flush=True)
        return 2
    pid = int(line)
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            print(json.dumps({"exit": os.waitstatus_to_exitcode(status),
                              "seconds": round(time.monotonic() - died, 3)}), flush=True)
            return 0
        if time.monotonic() - died > TIMEOUT:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            print(json.dumps({"exit": None, "seconds": TIMEOUT}), flush=True)
            return 1
        time.sleep(0.05)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--launcher"]:
        sys.exit(launcher(*sys.argv[2:4]))
    sys.exit(reaper(*sys.argv[1:3]))
