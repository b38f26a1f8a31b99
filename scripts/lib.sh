# shellcheck shell=bash
# Variables defined here are used by the scripts that source this file.
# shellcheck disable=SC2034
# Shared helpers for the s3pipe scripts. Source it; do not execute it.
#
#   . "$(dirname "$0")/lib.sh"
#
# Provides logging helpers, the pinned MinIO version, and
# s3pipe_servers_start, which builds MinIO, starts the two test servers
# (A and B) in a fresh state dir, exports the variables of test.env and
# installs an EXIT trap that always stops the servers again.

if [[ -n "${S3PIPE_LIB_SOURCED:-}" ]]; then
	return 0
fi
S3PIPE_LIB_SOURCED=1

S3PIPE_SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
S3PIPE_ROOT="$(cd "$S3PIPE_SCRIPTS/.." && pwd)"

# The MinIO release every script and test uses. Bumping it means a new
# build (the cache is keyed on the version).
S3PIPE_MINIO_MODULE="github.com/minio/minio"
S3PIPE_MINIO_VERSION="${S3PIPE_MINIO_VERSION:-v0.0.0-20260212201848-7aac2a2c5b7c}"

# Name of the static KMS key every server is configured with.
S3PIPE_KMS_KEY_ID="s3pipe-key"

s3pipe_log() {
	printf '%s: %s\n' "$(basename "$0")" "$*" >&2
}

s3pipe_die() {
	s3pipe_log "error: $*"
	exit 1
}

s3pipe_go() {
	"${GO:-go}" "$@"
}

# s3pipe_state_dir prints the default state dir.
s3pipe_state_dir() {
	printf '%s\n' "${S3PIPE_STATE:-/tmp/s3pipe-state}"
}

# s3pipe_servers_start starts MinIO servers A and B for tests and
# benchmarks, exports the test.env variables into the calling shell and
# sets traps so that the servers are stopped however the caller exits.
# The caller must not install its own EXIT trap afterwards (call
# s3pipe_servers_stop from it if it does).
s3pipe_servers_start() {
	S3PIPE_RUN_DIR="$(mktemp -d "${TMPDIR:-/tmp}/s3pipe-run.XXXXXX")"
	S3PIPE_RUN_STATE="$S3PIPE_RUN_DIR/state"
	mkdir -p "$S3PIPE_RUN_STATE"
	trap 's3pipe_servers_stop' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP

	s3pipe_log "building MinIO $S3PIPE_MINIO_VERSION (cached after the first build)"
	S3PIPE_TEST_MINIO="$("$S3PIPE_SCRIPTS/minio-build")"
	export S3PIPE_TEST_MINIO
	export S3PIPE_MINIO="$S3PIPE_TEST_MINIO"

	s3pipe_log "starting MinIO servers A and B in $S3PIPE_RUN_STATE"
	"$S3PIPE_SCRIPTS/minio-env" --dir "$S3PIPE_RUN_STATE" >/dev/null
	set -a
	# shellcheck source=/dev/null
	. "$S3PIPE_RUN_STATE/test.env"
	set +a
	s3pipe_log "MinIO A at $S3PIPE_TEST_ENDPOINT, B at $S3PIPE_TEST_ENDPOINT_B"
}

# s3pipe_servers_stop is the EXIT trap of s3pipe_servers_start. It keeps
# the exit status of the script. On failure it shows the tail of the
# server logs, which often explains a failing integration test.
s3pipe_servers_stop() {
	local rc=$?
	trap - EXIT INT TERM HUP
	if [[ -n "${S3PIPE_RUN_DIR:-}" && -d "${S3PIPE_RUN_DIR:-}" ]]; then
		if [[ $rc -ne 0 ]]; then
			local f
			for f in "$S3PIPE_RUN_STATE"/*.log; do
				[[ -f "$f" ]] || continue
				printf '\n--- last lines of %s ---\n' "$(basename "$f")" >&2
				tail -n 30 "$f" >&2 || true
			done
		fi
		if ! "$S3PIPE_SCRIPTS/minio-stop" --dir "$S3PIPE_RUN_STATE"; then
			[[ $rc -ne 0 ]] || rc=1
		fi
		rm -rf "$S3PIPE_RUN_DIR"
	fi
	exit "$rc"
}

# s3pipe_free_port prints a TCP port on 127.0.0.1 that was free a moment
# ago (the kernel picks it when binding port 0). Falls back to probing
# random high ports with bash's /dev/tcp when python3 is missing.
s3pipe_free_port() {
	if command -v python3 >/dev/null 2>&1; then
		python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
		return
	fi
	local port i
	for ((i = 0; i < 200; i++)); do
		port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
		# A refused connection means nothing listens there.
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			printf '%s\n' "$port"
			return
		fi
	done
	s3pipe_die "found no free TCP port"
}

# s3pipe_random_string N prints N random characters from [A-Za-z0-9].
s3pipe_random_string() {
	local n=$1 s=""
	while ((${#s} < n)); do
		s+="$(head -c 96 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')"
	done
	printf '%s\n' "${s:0:n}"
}

# s3pipe_is_minio_pid PID succeeds when PID is a live process whose
# command line mentions minio (guards against killing a reused PID).
s3pipe_is_minio_pid() {
	local pid=$1
	[[ "$pid" =~ ^[0-9]+$ ]] || return 1
	[[ -r "/proc/$pid/cmdline" ]] || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q minio
}
