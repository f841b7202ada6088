# Sourced by scripts/test and scripts/bench: installs the pinned moto server into a
# project-local venv (target/moto-venv, rebuilt when tests/moto/requirements.txt changes),
# starts it on 127.0.0.1 with a fixed seed on a port moto binds itself (port 0, so no other
# process can take it first; tests/moto/server.py reports the real port), and stops it when the
# caller exits (also on failure). Exports GXP_MOTO_URL (this server, used by the benchmark) and
# GXP_MOTO_PYTHON (the venv's python: tests/live.rs starts a private server per test with it).

moto_venv="$PWD/target/moto-venv"
moto_requirements="$PWD/tests/moto/requirements.txt"
moto_launcher="$PWD/tests/moto/server.py"

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
    mkdir -p target
    # A file of its own: several runs in one working tree must not read each other's port.
    local port_file
    port_file=$(mktemp "${TMPDIR:-/tmp}/gxp-moto-port.XXXXXX")
    rm -f "$port_file"
    "$moto_venv/bin/python" "$moto_launcher" --seed 42 --port-file "$port_file" >target/moto.log 2>&1 &
    moto_pid=$!
    trap 'stop_moto' EXIT
    local tries=0
    until [ -s "$port_file" ]; do
        if ! kill -0 "$moto_pid" 2>/dev/null; then
            echo "scripts/moto.sh: moto server exited; see target/moto.log" >&2
            return 1
        fi
        if [ "$tries" -ge 600 ]; then
            echo "scripts/moto.sh: moto server did not start within 60 s; see target/moto.log" >&2
            return 1
        fi
        sleep 0.1
        tries=$((tries + 1))
    done
    export GXP_MOTO_URL="http://127.0.0.1:$(cat "$port_file")"
    export GXP_MOTO_PYTHON="$moto_venv/bin/python"
    rm -f "$port_file"
    echo "scripts/moto.sh: moto $("$GXP_MOTO_PYTHON" -c 'import moto; print(moto.__version__)') on $GXP_MOTO_URL (pid $moto_pid)" >&2
}

stop_moto() {
    if [ -n "${moto_pid:-}" ]; then
        kill "$moto_pid" 2>/dev/null || true
        wait "$moto_pid" 2>/dev/null || true
        moto_pid=
    fi
}
