"""Text from outside (link values, file names, CSV headers, labels and cells) is shown as
text: each pane that shows it holds no tag made from it, and its reader sees it literally.
CSV downloads hold no formula for a spreadsheet to run. Values no control takes and files
that cannot be used are refused with a message naming what is allowed."""

from __future__ import annotations

import csv
import html
import io
from html.parser import HTMLParser

import numpy as np
import pytest

from app.configuration.settings import LEARNING_RATES, Settings, check_value
from app.controls.sidebar import Controls
from app.controls.upload_panel import UploadPanel
from app.data.classification import assemble
from app.data.upload import MAX_BYTES, parse_csv
from app.live.receipts import FrameReadouts
from app.outside_text import html_text, markdown_text, spreadsheet_text
from app.views.classify import caption
from app.views.common import arrays_to_csv
from tests.support.views import find

HOSTILE = [
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "<b>bold</b>",
    "\"double\" 'single'",
    "*x* _y_ `z` [a](javascript:alert(1))",
    "www.example.org ~~s~~ a|b \\*",
    "=cmd|' /C calc'!A0",
]


class Page(HTMLParser):
    """The tags and the text a browser makes of an HTML string."""

    def __init__(self, markup: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.parts: list[str] = []
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.parts.append(data)

    @property
    def text(self) -> str:
        return " ".join("".join(self.parts).split())


def page_of(pane) -> Page:
    """What the browser gets from a pane: its Bokeh model's HTML."""
    return Page(html.unescape(pane.get_root().text))


def assert_shown_as_text(pane, hostile: str, own_tags: set[str]) -> None:
    page = page_of(pane)
    assert set(page.tags) <= own_tags, page.tags  # no tag made from the text
    assert " ".join(hostile.split()) in page.text, page.text  # the reader sees it as it is


@pytest.fixture(scope="module")
def controls():
    return Controls(Settings(), FrameReadouts(), on_play=lambda: None, on_step=lambda: None,
                    on_reset=lambda: None, on_lesson=lambda key: None)


@pytest.mark.parametrize("hostile", HOSTILE)
def test_refused_link_values_are_text_beside_their_controls_and_in_the_banner(controls,
                                                                            hostile):
    settings = controls.settings
    settings.model = "fnn"
    errors = Settings().apply({"architecture": hostile, "topk": hostile, "backtrack": hostile,
                               "batch_size": hostile, "lesson": hostile, hostile: "1"})
    assert {"architecture", "topk", "backtrack", "batch_size", "lesson", hostile} <= set(errors)
    controls.show_messages(errors)
    assert_shown_as_text(controls.architecture_message, hostile, set())
    assert_shown_as_text(controls.sparse_message, hostile, {"br"})
    assert page_of(controls.sparse_message).text.count(hostile.split()[0]) >= 2
    assert_shown_as_text(controls.url_message, hostile, {"p", "ul", "li", "strong"})
    banner = page_of(controls.url_message).text
    assert f"{' '.join(hostile.split())}: unknown setting" in banner  # the name, in bold
    assert page_of(controls.url_message).tags.count("strong") == 3  # batch_size, lesson, name
    settings.model = "rnn"  # the architecture's refusal moves to the banner
    controls.show_messages({"architecture": errors["architecture"]})
    assert_shown_as_text(controls.url_message, hostile, {"p", "ul", "li", "strong"})
    settings.model = "fnn"


def test_the_apps_own_formatting_is_kept(controls):
    controls.show_messages({"topk": "a", "backtrack": "b", "momentum": "c", "seed": "d"})
    assert page_of(controls.sparse_message).tags == ["br"]
    banner = page_of(controls.url_message)
    assert banner.tags == ["p", "ul", "li", "strong", "li", "strong"]
    assert banner.text == "Some settings were not applied: momentum: c seed: d"


def csv_bytes(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode()


@pytest.mark.parametrize("hostile", HOSTILE)
def test_upload_messages_show_file_names_headers_labels_and_cells_as_text(hostile):
    panel = UploadPanel(lambda data: None)
    own = {"p", "strong"}
    good = csv_bytes([[hostile, "v", "label"], ["0", "1", hostile], ["1", "0", "y"],
                      ["2", "2", hostile]])
    assert panel.receive(good, f"{hostile}.csv")
    page = page_of(find(panel, "upload-message"))
    assert set(page.tags) <= own
    assert f"{hostile}.csv in use: 3 rows, 2 features ({hostile}, v), 2 classes" in page.text
    assert sorted([hostile, "y"]) == sorted(parse_csv(good).class_names)
    assert ", ".join(sorted([hostile, "y"])) in page.text
    bad = csv_bytes([["u", "v", "label"], ["1", hostile, "a"], ["2", "3", "b"]])
    assert not panel.receive(bad, f"{hostile}.csv")
    page = page_of(find(panel, "upload-message"))
    assert set(page.tags) <= own
    assert f"{hostile}.csv not used: row 2, column 'v': '{hostile}' is not a number" in page.text
    refusing = UploadPanel(lambda data: f"the {hostile} data does not fit")
    assert not refusing.receive(good, "ok.csv")
    assert_shown_as_text(find(refusing, "upload-message"), f"the {hostile} data does not fit", own)


@pytest.mark.parametrize("hostile", HOSTILE)
def test_class_labels_in_the_regions_caption_are_text(hostile):
    from app.views.classify import ClassificationPanel

    points = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]])
    data = assemble("uploaded", points, np.array([0, 1, 0, 1]), 2, loss="mse",
                    output_activation="identity", test_fraction=0.0, seed=0,
                    class_names=(hostile, "plain"))
    text = caption(data, plane=True)
    assert markdown_text(hostile) in text

    class Session:
        pass

    session = Session()
    session.data = data
    panel = ClassificationPanel(session, Settings())
    assert_shown_as_text(panel.caption, f"({hostile}, plain)", {"p"})


def test_csv_downloads_hold_no_formulas():
    arrays = {name: np.array([-0.5, 1.0]) for name in HOSTILE + ["+1", "-1", "@x", "grid"]}
    rows = list(csv.reader(io.StringIO(arrays_to_csv(arrays))))
    assert rows[0] == ["array", "row", "column", "value"]
    names = [row[0] for row in rows[1:]]
    assert not any(name.startswith(("=", "+", "-", "@")) for name in names)
    assert "'=cmd|' /C calc'!A0" in names and "'-1" in names and "grid" in names
    assert {row[3] for row in rows[1:]} == {"-0.5", "1"}  # numbers are numbers
    assert all(len(row) == 4 for row in rows)


def test_the_escaping_helpers():
    assert html_text("<b>x</b> & 'y'") == "&lt;b&gt;x&lt;/b&gt; &amp; &#x27;y&#x27;"
    assert markdown_text("a\nb *c* <d>") == "a b \\*c\\* &lt;d&gt;"
    assert spreadsheet_text("@SUM(A1)") == "'@SUM(A1)" and spreadsheet_text("x=1") == "x=1"


@pytest.mark.parametrize("name", ["seed", "samples"])
def test_numbers_of_thousands_of_digits_are_refused_by_name(name):
    from app.configuration.settings import panel_reads_query, query_values

    digits = "9" * 5000
    query = query_values(f"?{name}={digits}&model=fnn")
    assert not panel_reads_query(query)  # Panel's own reading of the address fails
    settings = Settings()
    errors = settings.apply(query)
    low, high = Settings.param[name].bounds
    assert f"{name} takes a whole number from {low} to {high}" in errors[name]
    assert len(errors[name]) < 200
    assert getattr(settings, name) == Settings.param[name].default
    errors = Settings().apply({name: 10**5000 - 1})  # a Python int past the digit limit
    assert f"{name} takes a whole number from {low} to {high}" in errors[name]


def test_the_learning_rate_has_the_sliders_range_everywhere(controls):
    slider = controls.learning_rate_slider.options
    low, high = slider[0], slider[-1]
    assert (low, high) == (LEARNING_RATES[0], LEARNING_RATES[-1])
    settings = Settings()
    errors = settings.apply({"learning_rate": "10"})
    assert f"learning_rate takes a number from {low:g} to {high:g}" in errors["learning_rate"]
    assert settings.learning_rate == Settings.param["learning_rate"].default
    with pytest.raises(ValueError, match="from 0.0001 to 1"):
        check_value(Settings.param["learning_rate"], "learning_rate", 1e-5)
    assert settings.apply({"learning_rate": "1"}) == {} and settings.learning_rate == 1.0


def test_a_query_is_read_as_text_and_typed_by_the_settings():
    from app.configuration.settings import query_values

    settings = Settings()
    assert settings.apply(query_values("?show_test=false&seed=3&topk=0.1")) == {}
    assert (settings.show_test, settings.seed, settings.topk) == (False, 3, "0.1")
    assert "show_test takes true or false" in settings.apply({"show_test": "maybe"})["show_test"]


def upload(panel: UploadPanel, name: str, content: bytes | None, count: int,
           size: int | None = None) -> None:
    """A file chosen in the browser, as CsvFileInput reports it."""
    import base64

    chosen = {"name": name, "size": len(content or b"") if size is None else size,
              "count": count}
    if content is not None:
        chosen["content"] = base64.b64encode(content).decode()
    panel.input.upload = chosen


def test_every_upload_gets_its_own_message():
    received = []
    panel = UploadPanel(lambda data: received.append(data))
    upload(panel, "good.csv", b"a,b,label\n0,1,x\n1,0,y\n", 1)
    assert "good.csv** in use" in panel.message and len(received) == 1
    upload(panel, "empty.csv", b"", 2)
    assert "empty.csv not used:** the file is empty" in panel.message
    find(panel, "upload-message").object = panel.message = ""
    upload(panel, "empty.csv", b"", 3)  # the same file again: a new message
    assert "empty.csv not used:** the file is empty" in panel.message
    upload(panel, "big.csv", None, 4, size=MAX_BYTES + 1)  # refused in the browser
    assert f"at most {MAX_BYTES:,} are allowed" in panel.message
    assert "not sent" in panel.message and len(received) == 1
    assert not panel.receive(b"1,2,a\n" * (MAX_BYTES // 6 + 1), "sent.csv")  # the server's
    assert f"at most {MAX_BYTES:,} are allowed" in panel.message
    assert len(received) == 1 and panel.in_use
