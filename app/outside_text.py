"""Text from outside the app (query values, file names, CSV headers, labels and cells) made
safe for the place it is shown in.

A message keeps outside text raw until it is formatted into markup; there, and only there,
the outside part goes through one of these helpers, so nothing is escaped twice:

- :func:`html_text` for HTML (an ``HTML`` pane): ``& < > " '`` become entities.
- :func:`markdown_text` for Markdown (a ``Markdown`` or ``Alert`` pane, whose renderer
  passes raw HTML through): ``& < >`` become entities, the characters that start Markdown
  inline syntax (emphasis, code, links, images, strike-through, tables, escapes) get a
  backslash, and line breaks become spaces, so the text stays inside the line the app puts it
  in. Panes that show outside text also turn off link detection
  (:data:`MARKDOWN_TEXT_OPTIONS`), so ``www.x.org`` stays text too.
- :func:`spreadsheet_text` for a text cell of a CSV download: a cell that a spreadsheet
  would read as a formula (starting with ``= + - @``, a tab or a carriage return) gets a
  leading ``'``.

>>> html_text("<b>bold</b> & 'x'")
'&lt;b&gt;bold&lt;/b&gt; &amp; &#x27;x&#x27;'
>>> markdown_text("*x* <img src=x>")
'\\\\*x\\\\* &lt;img src=x&gt;'
>>> spreadsheet_text("=cmd|' /C calc'!A0"), spreadsheet_text("grid_points")
("'=cmd|' /C calc'!A0", 'grid_points')
"""

from __future__ import annotations

import html

#: Markdown characters that start inline syntax, given a backslash by markdown_text
MARKDOWN_ACTIVE = "\\`*_~[]|!"
_MARKDOWN = {ord(char): "\\" + char for char in MARKDOWN_ACTIVE}
_MARKDOWN.update({ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;",
                  ord("\n"): " ", ord("\r"): " ", ord("\t"): " "})
#: keyword arguments of a Markdown (or Alert) pane that shows outside text: no automatic
#: links (the app's own text in such a pane has none)
MARKDOWN_TEXT_OPTIONS = {"renderer_options": {"linkify": False}}
#: first characters that make a spreadsheet read a cell as a formula
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def html_text(text: object) -> str:
    """``text`` as HTML that shows it literally."""
    return html.escape(str(text), quote=True)


def markdown_text(text: object) -> str:
    """``text`` as Markdown that shows it literally, on one line."""
    return str(text).translate(_MARKDOWN)


def spreadsheet_text(text: object) -> str:
    """A CSV text cell that a spreadsheet shows as text, never runs as a formula."""
    text = str(text)
    return "'" + text if text.startswith(FORMULA_STARTS) else text
