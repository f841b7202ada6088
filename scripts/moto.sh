# Sourced by scripts/test and scripts/bench: installs the pinned moto server into a
# project-local venv (target/moto-venv, rebuilt when tests/moto/requirements.txt changes),
# starts it on 127.0.0.1 on a free port with a fixed seed, and stops it when the caller exits
# (also on failure). Exports GXP_MOTO_URL and GXP_MOTO_PYTHON for the tests.

moto_venv="$PWD/target/moto-venv"
moto_requirements="$PWD/tests/moto/requirements.txt"

install_moto() {
    if [ -x "$moto_venv/bin/moto_server" ] && cmp -s "$moto_requirements" "$moto_venv/requirements.txt"; then
        return
    fi
    echo "scripts/moto.sh: installing pinned moto[server] into $moto_venv" >&2
    rm -rf "$moto_venv"
    python3 -m venv "$moto_venv"
    "$moto_venv/bin/pip" install --quiet --disable-pip-version-check -r "$moto_requirements"
    cp "$moto_requirements" "$moto_venv/requirements.txt"
}

start_moto() {
    install_moto
    local port
    port=$("$moto_venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    mkdir -p target
    "$moto_venv/bin/moto_server" -H 127.0.0.1 -p "$port" >target/moto.log 2>&1 &
    moto_pid=$!
    trap 'stop_moto' EXIT
    export GXP_MOTO_URL="http://127.0.0.1:$port"
    export GXP_MOTO_PYTHON="$moto_venv/bin/python"
    # Wait until it answers, then fix the seed so generated ids repeat run to run.
    "$GXP_MOTO_PYTHON" - "$GXP_MOTO_URL" <<'PY'
import sys, time, urllib.request
url = sys.argv[1]
for _ in range(300):
    try:
        urllib.request.urlopen(urllib.request.Request(url + "/moto-api/seed?a=42", method="POST"), timeout=2)
        break
    except OSError:
        time.sleep(0.1)
else:
    sys.exit("moto server did not start; see target/moto.log")
PY
    echo "scripts/moto.sh: moto $("$GXP_MOTO_PYTHON" -c 'import moto; print(moto.__version__)') on $GXP_MOTO_URL (pid $moto_pid)" >&2
}

stop_moto() {
    if [ -n "${moto_pid:-}" ]; then
        kill "$moto_pid" 2>/dev/null || true
        wait "$moto_pid" 2>/dev/null || true
        moto_pid=
    fi
}
