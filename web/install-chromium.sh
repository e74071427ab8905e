#!/usr/bin/env bash
# Installs Debian's Chromium for the browser tests in web/ (chromedp), unless
# /usr/bin/chromium is already there. Used by the test command and CI.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
	exit 0
fi
export DEBIAN_FRONTEND=noninteractive
SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then
	SUDO="sudo -E"
fi
if ! $SUDO apt-get install -y --no-install-recommends chromium; then
	$SUDO apt-get update
	$SUDO apt-get install -y --no-install-recommends chromium
fi
test -x /usr/bin/chromium
/usr/bin/chromium --version
