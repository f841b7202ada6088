"""Starts the pinned moto server on 127.0.0.1 on a port the operating system picks, and says which.

Usage: server.py [--seed N] [--port-file FILE] [--quiet] [--until-stdin-closes]

moto binds port 0 itself, so no other process can take the port between choosing and binding it
(picking a "free" port first and passing it to moto_server was a race). Once the server answers,
moto's random seed is set (generated ids then repeat run to run), the port is written to FILE
(atomically) and printed as one line on stdout.

The server runs until SIGTERM or SIGINT, or with --until-stdin-closes until its standard input
reaches end of file: a test that starts a private server keeps the pipe open, and the server goes
away with the test process even when the test is killed. --quiet drops werkzeug's per-request
log lines. Used by scripts/moto.sh and tests/live.rs; talks only to 127.0.0.1.
"""
import argparse
import logging
import os
import signal
import sys
import threading
import urllib.request

from moto.server import ThreadedMotoServer


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--port-file")
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument("--until-stdin-closes", action="store_true")
    args = parser.parse_args()
    if args.quiet:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    # moto_server sets this for the parts of moto that build URLs to themselves.
    os.environ["MOTO_PORT"] = str(port)
    url = f"http://{host}:{port}"
    urllib.request.urlopen(
        urllib.request.Request(f"{url}/moto-api/seed?a={args.seed}", method="POST"), timeout=30
    ).read()

    if args.port_file:
        partial = args.port_file + ".partial"
        with open(partial, "w") as f:
            f.write(f"{port}\n")
        os.replace(partial, args.port_file)
    print(url, flush=True)

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    if args.until_stdin_closes:
        threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    while not stop.wait(1.0):
        pass
    server.stop()


if __name__ == "__main__":
    main()
