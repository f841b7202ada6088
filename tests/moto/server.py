"""Starts the pinned moto server on 127.0.0.1 on a port the operating system picks, and says which.

Usage: server.py [--seed N] [--port-file FILE] [--quiet] [--until-stdin-closes] [--require-existing-roles]

moto binds port 0 itself, so no other process can take the port between choosing and binding it
(picking a "free" port first and passing it to moto_server was a race). Once the server answers,
moto's random seed is set (generated ids then repeat run to run), the port is written to FILE
(atomically) and printed as one line on stdout.

The server runs until SIGTERM or SIGINT, or with --until-stdin-closes until its standard input
reaches end of file: a test that starts a private server keeps the pipe open, and the server goes
away with the test process even when the test is killed. --quiet drops werkzeug's per-request
log lines. Used by scripts/moto.sh and tests/live.rs; talks only to 127.0.0.1.

moto's AssumeRole accepts any role ARN ("the role does not need to exist"). With
--require-existing-roles it answers as AWS does for a role the caller may not assume: AccessDenied
when the role does not exist in the target account's IAM, or when its trust policy asks for an
external id (a StringEquals sts:ExternalId condition) that the request does not carry
(tests/accounts.rs: an organization with a member account whose role is missing).
"""
import argparse
import logging
import os
import signal
import sys
import threading
import urllib.request

from moto.server import ThreadedMotoServer


def require_existing_roles():
    """Makes STS AssumeRole refuse roles that do not exist or whose external id does not match."""
    import json
    import warnings

    from moto.iam.models import iam_backends
    from moto.sts.exceptions import STSClientError
    from moto.sts.models import STSBackend

    assume_role = STSBackend.assume_role

    def refuse(role_arn):
        raise STSClientError(
            "AccessDenied",
            f"User is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
        )

    def wanted_external_ids(trust_policy):
        document = json.loads(trust_policy) if isinstance(trust_policy, str) else trust_policy
        statements = document.get("Statement", [])
        for statement in statements if isinstance(statements, list) else [statements]:
            value = statement.get("Condition", {}).get("StringEquals", {}).get("sts:ExternalId")
            if value is not None:
                yield from (value if isinstance(value, list) else [value])

    def checked(self, region_name, role_session_name, role_arn, policy, duration, external_id):
        parts = role_arn.split(":")
        if len(parts) < 6 or parts[2] != "iam":
            refuse(role_arn)
        try:
            role = iam_backends[parts[4]]["global"].get_role_by_arn(role_arn)
        except Exception:
            refuse(role_arn)
        wanted = list(wanted_external_ids(role.assume_role_policy_document))
        if wanted and external_id not in wanted:
            refuse(role_arn)
        return assume_role(self, region_name, role_session_name, role_arn, policy, duration, external_id)

    STSBackend.assume_role = checked
    # AWS's AccessDenied is not a modelled STS error shape; moto says so on every refusal.
    warnings.filterwarnings("ignore", message=".*does not match an error shape.*")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--port-file")
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument("--until-stdin-closes", action="store_true")
    parser.add_argument("--require-existing-roles", action="store_true")
    args = parser.parse_args()
    if args.require_existing_roles:
        require_existing_roles()
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
