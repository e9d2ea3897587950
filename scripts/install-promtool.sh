#!/usr/bin/env bash
# Make promtool available: install Debian/Ubuntu's `prometheus` package (it ships
# /usr/bin/promtool) with apt-get, as root or through passwordless sudo. Where that is not
# possible, print one line saying how to get promtool and exit non-zero.
set -euo pipefail

hint="install it with 'sudo apt-get install prometheus', or set PROMTOOL=/path/to/promtool"

give_up() {
    echo "install-promtool: promtool not found and $1; $hint" >&2
    exit 1
}

command -v promtool >/dev/null 2>&1 && exit 0

command -v apt-get >/dev/null 2>&1 || give_up "apt-get is not available"

if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
else
    give_up "this user cannot install packages (not root, no passwordless sudo)"
fi

# sudo resets the environment, so DEBIAN_FRONTEND goes through `env`.
apt_get() {
    ${as_root[@]+"${as_root[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get -q -y "$@"
}

install_prometheus() {
    apt_get install --no-install-recommends prometheus
}

echo "install-promtool: installing Debian package 'prometheus' (provides promtool)" >&2
if ! install_prometheus; then
    # Usually a stale or empty package index (fresh containers have none): refresh, retry once.
    apt_get update || give_up "'apt-get update' failed"
    install_prometheus || give_up "'apt-get install prometheus' failed"
fi

hash -r
command -v promtool >/dev/null 2>&1 || give_up "the prometheus package did not provide it on PATH"
echo "install-promtool: $(promtool --version 2>&1 | head -n 1)" >&2
