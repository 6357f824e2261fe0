"""The browser origins allowed to open the app's websocket: the server's own, never ``*``.

Bokeh checks the ``Origin`` header of every websocket handshake against
``--allow-websocket-origin`` values (``host:port``). Served on localhost those are
``localhost:PORT`` and ``127.0.0.1:PORT``; served on one address, that address; served on
all interfaces (``0.0.0.0``), every name and address this machine answers to: its host
name and fully qualified name, the addresses they resolve to and the addresses of its
network interfaces (``hostname -I``), plus localhost. A page served from elsewhere (another
site embedding the app) is refused. A name the machine does not know itself by (a DNS alias,
a reverse proxy in front) is added with ``HESSIAN_LAB_ORIGIN``.

    python -m serve.origins 0.0.0.0 5006     # prints the origins, space separated

>>> server_origins("localhost", 5006)
['localhost:5006', '127.0.0.1:5006']
>>> server_origins("10.1.2.3", 8080)
['10.1.2.3:8080']
"""

from __future__ import annotations

import ipaddress
import socket
import subprocess
import sys

LOOPBACK = ("localhost", "127.0.0.1")
ALL_INTERFACES = ("0.0.0.0", "::", "")


def host_for_origin(host: str) -> str:
    """An IPv6 address in brackets, as a browser writes it in an ``Origin`` header."""
    try:
        if isinstance(ipaddress.ip_address(host), ipaddress.IPv6Address):
            return f"[{host}]"
    except ValueError:
        pass
    return host


def machine_hosts() -> list[str]:
    """Names and addresses of this machine, loopback first, without duplicates."""
    hosts: list[str] = list(LOOPBACK)
    names = [socket.gethostname(), socket.getfqdn()]
    hosts += names
    for name in names:
        try:
            hosts += [info[4][0] for info in socket.getaddrinfo(name, None)]
        except OSError:  # a host name that does not resolve
            pass
    try:  # every interface's address (Debian's hostname); absent elsewhere
        result = subprocess.run(["hostname", "-I"], capture_output=True, text=True, timeout=5)
        hosts += result.stdout.split()
    except (OSError, subprocess.SubprocessError):
        pass
    seen: list[str] = []
    for host in hosts:
        host = host.split("%")[0]  # drop an IPv6 zone (fe80::1%eth0)
        if host and host not in seen:
            seen.append(host)
    return seen


def server_origins(address: str, port: int) -> list[str]:
    """``host:port`` origins for a server listening on ``address`` and ``port``."""
    if not 0 < port < 65536:
        raise ValueError(f"port must be in 1..65535, not {port}")
    if address in LOOPBACK:
        hosts = list(LOOPBACK)
    elif address in ALL_INTERFACES:
        hosts = machine_hosts()
    else:
        hosts = [address]
    return [f"{host_for_origin(host)}:{port}" for host in hosts]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or not args[1].isdigit():
        print("usage: python -m serve.origins ADDRESS PORT", file=sys.stderr)
        return 2
    print(" ".join(server_origins(args[0], int(args[1]))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
