"""Sandbox attack: reach the host's network every way there is (raw _socket, a
subprocess, C-level DNS, a unix socket like ssh-agent's). Part: aggregator."""

import _socket
import subprocess
import sys


def _attempts():
    results = []
    try:
        s = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
        s.settimeout(2)
        s.connect(("127.0.0.1", __PORT__))
        s.sendall(b"RAW SOCKET GOT OUT")
        results.append("raw socket CONNECTED")
    except OSError as exc:
        results.append(f"raw socket: {exc}")
    code = (
        "import socket; s=socket.create_connection(('127.0.0.1', __PORT__), 2);"
        "s.sendall(b'SUBPROCESS GOT OUT')"
    )
    for command in ([sys.executable, "-c", code],
                    ["curl", "-s", "-m", "2", "http://127.0.0.1:__PORT__/curl"]):
        try:
            done = subprocess.run(command, capture_output=True, timeout=5)
            results.append(f"{command[0]}: exit {done.returncode}")
        except Exception as exc:
            results.append(f"{command[0]}: {type(exc).__name__}")
    try:
        results.append(f"dns: {_socket.getaddrinfo('example.com', 80)[:1]}")
    except OSError as exc:
        results.append(f"dns: {exc}")
    try:
        u = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        u.settimeout(2)
        u.connect("__AGENT__")
        u.sendall(b"UNIX SOCKET GOT OUT")
        results.append("unix socket CONNECTED")
    except OSError as exc:
        results.append(f"unix socket: {exc}")
    return results


RESULTS = _attempts()


async def dashboard(request, user_id):
    raise RuntimeError(" | ".join(RESULTS + _attempts()))
