"""What a browser downloads on a first visit to a page: the page, its scripts and stylesheets.

A class arrives at once, and every student's browser downloads the same few megabytes of
BokehJS, Panel and their stylesheets over one network (afterwards the browser keeps them:
they are cached for years, by version). :func:`first_visit` fetches the page and each
resource it links (``<script src>``, ``<link rel="stylesheet" href>``) twice, once as a
browser that accepts gzip and once as one that does not, and counts the bytes of each body
as it came over the connection. Fonts, images and the websocket's messages are not counted.
The class benchmark prints it; the tests of the balanced server check its gzip with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin
from urllib.request import Request, urlopen

#: the resources a page links that a browser fetches before it draws
LINKED = re.compile(r'<script[^>]*\ssrc="([^"]+)"|<link[^>]*rel="stylesheet"[^>]*href="([^"]+)"'
                    r'|<link[^>]*href="([^"]+)"[^>]*rel="stylesheet"')
TIMEOUT_S = 60


@dataclass(frozen=True)
class Transfer:
    """Bytes over the connection for the page and the resources it links."""

    resources: int  # scripts and stylesheets (the page itself not counted)
    gzipped: int  # as sent to a browser that accepts gzip
    plain: int  # as sent to one that does not
    compressed: int  # how many of the page and its resources came gzipped

    @property
    def ratio(self) -> float:
        return self.gzipped / self.plain


def linked_resources(page_url: str, html: str) -> list[str]:
    """The absolute addresses of the scripts and stylesheets ``html`` links, in order."""
    found = (next(group for group in match.groups() if group) for match in LINKED.finditer(html))
    return list(dict.fromkeys(urljoin(page_url, address) for address in found))


def fetch(url: str, gzip: bool) -> tuple[bytes, bool]:
    """The body as it came over the connection, and whether it came gzipped."""
    headers = {"Accept-Encoding": "gzip"} if gzip else {"Accept-Encoding": "identity"}
    with urlopen(Request(url, headers=headers), timeout=TIMEOUT_S) as response:
        return response.read(), response.headers.get("Content-Encoding") == "gzip"


def first_visit(page_url: str) -> Transfer:
    """The page is fetched twice (each fetch opens a session on a Bokeh server), each
    resource twice; the page's plain fetch gives the addresses of its resources."""
    html, _ = fetch(page_url, gzip=False)
    resources = linked_resources(page_url, html.decode("utf-8", "replace"))
    gzipped = plain = compressed = 0
    for url in [page_url, *resources]:
        body, was_gzipped = fetch(url, gzip=True)
        gzipped += len(body)
        compressed += was_gzipped
        plain += len(html) if url == page_url else len(fetch(url, gzip=False)[0])
    return Transfer(resources=len(resources), gzipped=gzipped, plain=plain,
                    compressed=compressed)


def transfer_line(transfer: Transfer, where: str) -> str:
    """One sentence of what a first visit downloads ``where`` (e.g. "through HAProxy")."""
    return (f"A first visit downloads {transfer.gzipped / 1024:.0f} KiB {where}: the page and "
            f"its {transfer.resources} scripts and stylesheets, {transfer.compressed} of these "
            f"{transfer.resources + 1} gzipped ({transfer.plain / 1024:.0f} KiB to a browser "
            f"that does not accept gzip: {transfer.ratio:.2f}x)")
