#!/usr/bin/env bash
# Make a command available from Debian/Ubuntu's packages with apt-get, as root or through
# passwordless sudo:  install-tool.sh COMMAND PACKAGE [HINT]
#   install-tool.sh promtool prometheus     (the package ships /usr/bin/promtool)
#   install-tool.sh node nodejs
# COMMAND may be an absolute path instead, for packages that ship files, not commands:
#   install-tool.sh /usr/share/gocode/src/github.com/prometheus/client_golang \
#       golang-github-prometheus-client-golang-dev
# Where that is not possible, print one line saying how to get it and exit non-zero.
set -euo pipefail

tool=${1:?usage: install-tool.sh COMMAND PACKAGE [HINT]}
package=${2:?usage: install-tool.sh COMMAND PACKAGE [HINT]}
hint=${3:-"install it with 'sudo apt-get install $package'"}

give_up() {
    echo "install-tool: $tool not found and $1; $hint" >&2
    exit 1
}

present() {
    case "$tool" in
        /*) [ -e "$tool" ] ;;
        *) command -v "$tool" >/dev/null 2>&1 ;;
    esac
}

present && exit 0

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

install_package() {
    apt_get install --no-install-recommends "$package"
}

echo "install-tool: installing Debian package '$package' (provides $tool)" >&2
if ! install_package; then
    # Usually a stale or empty package index (fresh containers have none): refresh, retry once.
    apt_get update || give_up "'apt-get update' failed"
    install_package || give_up "'apt-get install $package' failed"
fi

hash -r
present || give_up "the $package package did not provide it"
case "$tool" in
    /*) echo "install-tool: $tool installed" >&2 ;;
    *) echo "install-tool: $tool $("$tool" --version 2>&1 | head -n 1)" >&2 ;;
esac
