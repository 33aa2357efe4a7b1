# Shared by browser-check.sh and load-test.sh: install a Debian package if missing, start the server
# in the background on loopback and wait until /healthz answers, stop it on exit.
#
# The server command comes from ADDER_SERVER_CMD (run with bash -c, PORT exported), by default
#   swift run -c release mnist-adder serve --checkpoint "$CHECKPOINT" --host 127.0.0.1 --port "$PORT"
# (without CHECKPOINT, the same without --checkpoint: the shipped model)
# followed by SERVE_ARGS (extra flags for serve, e.g. "--idle-timeout 120"), if set.
# A command that serves on another host than 127.0.0.1 is the caller's choice; these scripts only
# ever send requests to 127.0.0.1.

ensure_package() { # ensure_package COMMAND DEBIAN_PACKAGE
    if ! command -v "$1" >/dev/null 2>&1; then
        echo "installing $2 (apt-get)" >&2
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
    fi
}

server_command() { # server_command [CHECKPOINT]
    if [[ -n "${ADDER_SERVER_CMD:-}" ]]; then
        printf '%s' "$ADDER_SERVER_CMD"
    elif [[ -n "${1:-}" ]]; then
        printf 'swift run -c release mnist-adder serve --checkpoint %q --host 127.0.0.1 --port "$PORT" %s' \
            "$1" "${SERVE_ARGS:-}"
    else
        printf 'swift run -c release mnist-adder serve --host 127.0.0.1 --port "$PORT" %s' "${SERVE_ARGS:-}"
    fi
}

SERVER_PID=""
stop_server() {
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        # setsid made the server command its own process group: signal the group, so a wrapper such as
        # `swift run` and the server it started both get SIGTERM (the server shuts down gracefully).
        kill -TERM -- "-$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL -- "-$SERVER_PID" 2>/dev/null || true
    fi
}

start_server() { # start_server COMMAND LOGFILE; waits up to STARTUP_SECONDS (default 600: a first build)
    export PORT
    setsid bash -c "exec $1" >"$2" 2>&1 &
    SERVER_PID=$!
    trap stop_server EXIT
    local deadline=$((SECONDS + ${STARTUP_SECONDS:-600}))
    until curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; do
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            echo "server exited before answering; its log ($2):" >&2
            tail -20 "$2" >&2
            return 1
        fi
        if ((SECONDS > deadline)); then
            echo "server did not answer http://127.0.0.1:$PORT/healthz in time" >&2
            return 1
        fi
        sleep 0.5
    done
}

server_pid() { # server_pid: the process listening on 127.0.0.1:$PORT (the server, not a `swift run` wrapper)
    ss -Hltnp "sport = :$PORT" 2>/dev/null | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2
}
