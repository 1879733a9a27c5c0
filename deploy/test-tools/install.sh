#!/usr/bin/env bash
# Installs the Debian packages the tests drive, those that are missing (first run only):
#   chromium  /usr/bin/chromium, /usr/bin/chromedriver   the hosted invoice page's browser test
#   qr        /usr/bin/pdftoppm, /usr/bin/zbarimg         the transfer QR code read off a rendered PDF page
#
#   deploy/test-tools/install.sh [chromium|qr ...]   (default: all)
#
# A test tool's own browser download cannot be used on the project's machines; Debian's packages can.
# Shares deploy/stack.sh's machine-wide apt lock. deploy/run-tests.sh runs it before the tests.
set -euo pipefail

declare -A PACKAGES=(
    [/usr/bin/chromium]=chromium [/usr/bin/chromedriver]=chromium-driver
    [/usr/bin/pdftoppm]=poppler-utils [/usr/bin/zbarimg]=zbar-tools
)
declare -A TOOLS=([chromium]="/usr/bin/chromium /usr/bin/chromedriver" [qr]="/usr/bin/pdftoppm /usr/bin/zbarimg")

[[ $# -gt 0 ]] || set -- "${!TOOLS[@]}"
missing=()
for tool in "$@"; do
    [[ -n "${TOOLS[$tool]:-}" ]] || { echo "test-tools: unknown tool '$tool' (known: ${!TOOLS[*]})" >&2; exit 2; }
    for binary in ${TOOLS[$tool]}; do
        [[ -x "$binary" ]] || missing+=("${PACKAGES[$binary]}")
    done
done
[[ ${#missing[@]} -gt 0 ]] || exit 0

sudo=""
[[ "$(id -u)" == 0 ]] || sudo="sudo"
exec 7>"${TMPDIR:-/tmp}/invoicing-apt-install.lock"
flock -w 600 7 || { echo "test-tools: another apt-get install of this project is still running" >&2; exit 1; }
echo "test-tools: installing Debian's ${missing[*]} (first run only)" >&2
install() { DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >&2; }
install || { $sudo apt-get update -q >&2 && install; }
