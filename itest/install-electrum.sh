#!/usr/bin/env bash
# Installs Debian's Electrum (4.3.x) for the proof-of-control integration
# tests, which sign what koshd exports with a signer Kosh did not write,
# unless it is already installed. Used by the test command and CI.
set -euo pipefail
if command -v electrum >/dev/null 2>&1; then
	exit 0
fi
export DEBIAN_FRONTEND=noninteractive
SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then
	SUDO="sudo -E"
fi
if ! $SUDO apt-get install -y --no-install-recommends electrum; then
	$SUDO apt-get update
	$SUDO apt-get install -y --no-install-recommends electrum
fi
electrum version --offline
