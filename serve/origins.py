"""The browser origins allowed to open the app's websocket: the server's own, never ``*``.

Bokeh checks the ``Origin`` header of every websocket handshake against
``--allow-websocket-origin`` values (``host:port``). Served on localhost those are
``localhost:PORT`` and ``127.0.0.1:PORT``; served on one address, that address; served on
all interfaces (``0.0.0.0``), every name and IPv4 address this machine answers to: its
host name and fully qualified name, the addresses they resolve to and the addresses of its
network interfaces (``hostname -I``), plus localhost. (Bokeh's origin list cannot hold an
IPv6 address, ``[::1]:5006`` being refused as an invalid host; such addresses are left
out.) A page served from elsewhere (another site embedding the app) is refused. A name the
machine does not know itself by (a DNS alias, a reverse proxy in front) is given with
``HESSIAN_LAB_ORIGIN`` (which then replaces this list).

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
ALL_INTERFACES = ("0.0.0.0", "")


def is_ipv6(host: str) -> bool:
    try:
        return isinstance(ipaddress.ip_address(host), ipaddress.IPv6Address)
    except ValueError:  # a name
        return False


def host_for_origin(host: str) -> str:
    """An IPv6 address in brackets, as in a URL."""
    return f"[{host}]" if is_ipv6(host) else host


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
        if host and not is_ipv6(host.split("%")[0]) and host not in seen:
            seen.append(host)
    return seen


def server_origins(address: str, port: int) -> list[str]:
    """``host:port`` origins for a server listening on ``address`` and ``port``."""
    if not 0 < port < 65536:
        raise ValueError(f"port must be in 1..65535, not {port}")
    if is_ipv6(address):
        raise ValueError(f"address {address!r}: Bokeh's websocket origins cannot name an IPv6 "
                         "address; serve on an IPv4 address, a host name or 0.0.0.0")
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
    try:
        print(" ".join(server_origins(args[0], int(args[1]))))
    except ValueError as error:
        print(f"serve.origins: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
