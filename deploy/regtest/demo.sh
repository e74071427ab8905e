#!/usr/bin/env bash
# demo.sh — the one-command regtest demo: btcd + two lnd nodes + koshd on
# 127.0.0.1, state under deploy/regtest/run/. See deploy/regtest/README.md.
#
#   bash deploy/regtest/demo.sh         (make demo)       start it, or show the running one
#   bash deploy/regtest/demo.sh stop    (make demo-stop)  stop every process it started
#   bash deploy/regtest/demo.sh status                    say whether it runs, print its info
#   bash deploy/regtest/demo.sh check   (make demo-check) koshverify + the page green in headless Chromium
#
# It builds koshd and koshcli (make build), btcd, lnd and lncli
# (itest/build-nodes.sh, cached) and the supervisor .build/bin/kosh-demo
# (deploy/regtest/demo), then starts the supervisor detached. The supervisor
# starts btcd, lnd and koshd as its children and stays running until
# SIGTERM; it records "<pid> <comm>" of itself and each child in run/pids.
# stop signals only those pids, and only while /proc/<pid>/comm still
# matches, so it never touches processes it did not start.
#
# Environment: KOSH_DEMO_KOSHD_ARGS="--debuglevel=debug ..." extra koshd
# flags; KOSH_DEMO_TIMEOUT (seconds, default 900) to wait for start-up.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "${here}/../.." && pwd)"
run="${here}/run"
bin="${repo}/.build/bin"
sup="${bin}/kosh-demo"
sup_comm="kosh-demo"
pids_file="${run}/pids"

cd "${repo}"
mkdir -p "${run}"

now() { date +%s; }

# alive PID COMM: the process exists, is not a zombie, and is still COMM.
alive() {
	local pid="$1" comm="$2" st
	[[ -r "/proc/${pid}/stat" ]] || return 1
	[[ "$(cat "/proc/${pid}/comm" 2>/dev/null)" == "${comm}" ]] || return 1
	st="$(sed 's/.*) //' "/proc/${pid}/stat" 2>/dev/null | cut -d' ' -f1)"
	[[ "${st}" != "Z" ]]
}

# supervisor_pid prints the recorded supervisor pid, if any.
supervisor_pid() {
	[[ -f "${pids_file}" ]] || return 0
	awk -v c="${sup_comm}" '$1 ~ /^[0-9]+$/ && $2 == c { print $1; exit }' "${pids_file}"
}

# children prints "pid comm" of every recorded child (not the supervisor).
children() {
	[[ -f "${pids_file}" ]] || return 0
	awk -v c="${sup_comm}" '$1 ~ /^[0-9]+$/ && $2 != c { print $1, $2 }' "${pids_file}"
}

supervisor_alive() {
	local pid
	pid="$(supervisor_pid)"
	[[ -n "${pid}" ]] && alive "${pid}" "${sup_comm}"
}

# wait_gone PID COMM SECONDS: wait until the process is gone; 1 on timeout.
wait_gone() {
	local pid="$1" comm="$2" deadline=$(( $(now) + $3 ))
	while alive "${pid}" "${comm}"; do
		(( $(now) < deadline )) || return 1
		sleep 0.2
	done
}

# stop_all: SIGTERM the supervisor (it stops koshd, lnd, btcd), then TERM and
# KILL any recorded child still alive. Prints what it stopped.
stop_all() {
	local pid comm stopped=0
	pid="$(supervisor_pid)"
	if [[ -n "${pid}" ]] && alive "${pid}" "${sup_comm}"; then
		echo "demo: stopping supervisor ${sup_comm} (pid ${pid}) with SIGTERM; it stops koshd, lnd and btcd"
		kill -TERM "${pid}" 2>/dev/null || true
		if ! wait_gone "${pid}" "${sup_comm}" 90; then
			echo "demo: supervisor pid ${pid} still running after 90s; SIGKILL"
			kill -KILL "${pid}" 2>/dev/null || true
			wait_gone "${pid}" "${sup_comm}" 10 || echo "demo: supervisor pid ${pid} survived SIGKILL" >&2
		fi
		echo "demo:   stopped ${sup_comm} (pid ${pid})"
		stopped=1
	fi
	while read -r pid comm; do
		if alive "${pid}" "${comm}"; then
			echo "demo:   ${comm} (pid ${pid}) still running: SIGTERM"
			kill -TERM "${pid}" 2>/dev/null || true
			if ! wait_gone "${pid}" "${comm}" 20; then
				echo "demo:   ${comm} (pid ${pid}) still running after 20s: SIGKILL"
				kill -KILL "${pid}" 2>/dev/null || true
				wait_gone "${pid}" "${comm}" 10 || echo "demo:   ${comm} (pid ${pid}) survived SIGKILL" >&2
			fi
			stopped=1
		fi
		if alive "${pid}" "${comm}"; then
			echo "demo:   ${comm} (pid ${pid}) NOT stopped" >&2
		else
			echo "demo:   ${comm} (pid ${pid}) stopped"
		fi
	done < <(children)
	return $(( 1 - stopped ))
}

print_info() {
	cat "${run}/info.txt"
}

cmd_stop() {
	if [[ ! -f "${pids_file}" ]]; then
		echo "demo: nothing to stop (no ${pids_file#"${repo}"/})"
		return 0
	fi
	local any=0 pid comm
	supervisor_alive && any=1
	while read -r pid comm; do alive "${pid}" "${comm}" && any=1; done < <(children)
	if (( ! any )); then
		echo "demo: nothing running (the pids recorded in ${pids_file#"${repo}"/} are gone)"
		rm -f "${run}/ready"
		return 0
	fi
	local t0
	t0=$(now)
	stop_all || true
	rm -f "${run}/ready"
	date -u +%FT%TZ > "${run}/stopped"
	echo "demo: stopped in $(( $(now) - t0 ))s; logs stay in ${run#"${repo}"/}/ until the next make demo"
}

cmd_status() {
	if supervisor_alive && [[ -f "${run}/ready" ]]; then
		print_info
	elif supervisor_alive; then
		echo "demo: starting (supervisor pid $(supervisor_pid)); progress:"
		cat "${run}/progress.log" 2>/dev/null || true
	else
		echo "demo: not running"
		return 1
	fi
}

# clean_stale removes the state of a run whose supervisor is gone, after
# stopping any recorded child that somehow survived it.
clean_stale() {
	if [[ -z "$(ls -A "${run}" | grep -v '^\.lock$' || true)" ]]; then
		return 0
	fi
	local pid
	pid="$(supervisor_pid)"
	echo "demo: removing stale state of a previous run${pid:+ (supervisor pid ${pid}, not running)}"
	stop_all >/dev/null || true
	find "${run}" -mindepth 1 -maxdepth 1 ! -name .lock -exec rm -rf {} +
}

# follow_progress prints the supervisor's progress lines not printed yet.
shown=0
follow_progress() {
	local total
	[[ -f "${run}/progress.log" ]] || return 0
	total=$(wc -l < "${run}/progress.log")
	if (( total > shown )); then
		tail -n "+$(( shown + 1 ))" "${run}/progress.log" | head -n "$(( total - shown ))" | sed 's/^/demo: /'
		shown=${total}
	fi
}

# wait_ready: follow the supervisor's progress until ready, failed or dead.
wait_ready() {
	local t0="$1" launch_pid="${2:-}" timeout="${KOSH_DEMO_TIMEOUT:-900}" pid
	local deadline=$(( $(now) + timeout ))
	while :; do
		follow_progress
		# Until the supervisor wrote its pid, the process demo.sh launched stands for it.
		if [[ ! -f "${pids_file}" && -n "${launch_pid}" ]] && kill -0 "${launch_pid}" 2>/dev/null; then
			sleep 0.2
			continue
		fi
		if [[ -f "${run}/ready" ]] && supervisor_alive; then
			echo
			print_info
			echo
			echo "demo: up in $(( $(now) - t0 ))s"
			return 0
		fi
		pid="$(supervisor_pid)"
		if [[ -f "${run}/failed" ]] || ! supervisor_alive; then
			# Give a failing supervisor time to stop its children.
			[[ -n "${pid}" ]] && wait_gone "${pid}" "${sup_comm}" 60 || true
			follow_progress
			echo "demo: FAILED to start after $(( $(now) - t0 ))s" >&2
			[[ -f "${run}/failed" ]] && { echo "demo: reason:" >&2; sed 's/^/  /' "${run}/failed" >&2; }
			echo "demo: last lines of ${run#"${repo}"/}/demo.log:" >&2
			tail -n 15 "${run}/demo.log" 2>/dev/null | cut -c1-400 | sed 's/^/  /' >&2
			if [[ -f "${run}/koshd.log" ]] && ! grep -q 'koshd.log' "${run}/failed" 2>/dev/null; then
				echo "demo: last lines of ${run#"${repo}"/}/koshd.log:" >&2
				tail -n 15 "${run}/koshd.log" | sed 's/^/  /' >&2
			fi
			stop_all >/dev/null 2>&1 || true
			echo "demo: logs kept in ${run#"${repo}"/}/; the next make demo starts afresh" >&2
			return 1
		fi
		if (( $(now) > deadline )); then
			echo "demo: not ready after ${timeout}s (KOSH_DEMO_TIMEOUT); stopping it" >&2
			tail -n 40 "${run}/demo.log" 2>/dev/null | sed 's/^/  /' >&2
			stop_all || true
			return 1
		fi
		sleep 0.5
	done
}

cmd_start() {
	local t0
	t0=$(now)
	# One start at a time (the lock file survives the clean-up of run/;
	# the supervisor does not inherit it).
	exec 9>"${run}/.lock"
	if ! flock -n 9; then
		echo "demo: another make demo is starting the demo; wait for it to finish" >&2
		exit 1
	fi
	if supervisor_alive; then
		if [[ -f "${run}/ready" ]]; then
			echo "demo: already running (supervisor pid $(supervisor_pid)); make demo-stop stops it"
			echo
			print_info
			return 0
		fi
		echo "demo: already starting (supervisor pid $(supervisor_pid)); waiting for it"
		wait_ready "${t0}"
		return
	fi
	clean_stale

	echo "demo: building koshd, koshcli (make build)"
	make --no-print-directory -C "${repo}" build
	echo "demo: building btcd, lnd, lncli if not cached (itest/build-nodes.sh)"
	bash "${repo}/itest/build-nodes.sh"
	echo "demo: building the supervisor (${sup#"${repo}"/})"
	go build -o "${sup}" ./deploy/regtest/demo
	echo "demo: built in $(( $(now) - t0 ))s"

	local -a extra=()
	local a
	for a in ${KOSH_DEMO_KOSHD_ARGS:-}; do extra+=("-koshd-arg=${a}"); done
	# Detached: its own session, immune to the terminal's hangup, stdin closed.
	setsid nohup "${sup}" up -run "${run}" -bin "${bin}" -repo "${repo}" ${extra[@]+"${extra[@]}"} \
		> "${run}/demo.log" 2>&1 < /dev/null 9>&- &
	local pid=$!
	echo "demo: started supervisor (pid ${pid}, log ${run#"${repo}"/}/demo.log); this takes a minute or two"
	trap 'echo; echo "demo: interrupted; the demo keeps starting in the background: make demo shows it, make demo-stop stops it" >&2; exit 130' INT
	wait_ready "${t0}" "${pid}"
}

cmd_check() {
	if ! supervisor_alive || [[ ! -f "${run}/ready" ]]; then
		echo "demo: not running (start it with make demo)" >&2
		return 1
	fi
	# Headless Chromium for the page check (Debian's package, installed once).
	if [[ -z "${KOSH_CHROMIUM:-}" && ! -x /usr/bin/chromium ]]; then
		echo "demo: installing Chromium for the page check (web/install-chromium.sh)"
		bash "${repo}/web/install-chromium.sh"
	fi
	# Rebuilt only if its sources changed (the go build cache).
	go build -o "${sup}" ./deploy/regtest/demo
	"${sup}" check -run "${run}" -bin "${bin}"
}

case "${1:-start}" in
	start | up) cmd_start ;;
	stop | down) cmd_stop ;;
	status | info) cmd_status ;;
	check) cmd_check ;;
	*)
		echo "usage: $0 [start|stop|status|check]" >&2
		exit 2
		;;
esac
