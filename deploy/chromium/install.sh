#!/usr/bin/env bash
# Installs Debian's Chromium and its WebDriver (/usr/bin/chromium, /usr/bin/chromedriver) when missing,
# for the hosted invoice page's browser test. A test tool's own browser download cannot be used on the
# project's machines; Debian's packages can. Shares deploy/stack.sh's machine-wide apt lock.
set -euo pipefail
[[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]] && exit 0
sudo=""
[[ "$(id -u)" == 0 ]] || sudo="sudo"
exec 7>"${TMPDIR:-/tmp}/invoicing-apt-install.lock"
flock -w 600 7 || { echo "chromium: another apt-get install of this project is still running" >&2; exit 1; }
echo "chromium: not installed, installing Debian's chromium and chromium-driver (first run only)" >&2
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends chromium chromium-driver >&2 || {
    $sudo apt-get update -q >&2 &&
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends chromium chromium-driver >&2
}
