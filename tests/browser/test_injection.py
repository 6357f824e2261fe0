"""Text from outside reaches the page as text: links whose values are markup, uploaded files
whose names, headers, labels and cells are markup. No dialog opens, no element is made from
the text, and the reader sees it literally. Values no control can take (thousands of digits,
a learning rate past the slider) and files that cannot be used (empty, too large) each get a
message naming what is allowed."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from app.configuration.settings import LEARNING_RATES
from app.data.upload import MAX_BYTES
from tests.support.page import expect

from .conftest import AppPage

pytestmark = pytest.mark.browser

IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>alert(1)</script>"
BOLD = "<b>bold</b> \"double\" 'single'"


@pytest.fixture
def open_watched(browser, server):
    """``open_watched(query)`` -> (AppPage, dialogs): the page's dialogs are recorded (and
    dismissed) from before it loads."""
    contexts = []

    def make(query: str = "") -> tuple[AppPage, list[str]]:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        contexts.append(context)
        app = AppPage(context, server)
        dialogs: list[str] = []

        def on_dialog(dialog) -> None:
            dialogs.append(dialog.message)
            dialog.dismiss()

        app.page.on("dialog", on_dialog)
        return app.open(query), dialogs

    yield make
    for context in contexts:
        context.close()


def made_from_text(app: AppPage) -> dict[str, int]:
    """Elements that only the hostile strings would make (the app draws none of them)."""
    page = app.page
    return {"img": page.locator("img[src='x']").count(),
            "b": page.locator("b", has_text="bold").count(),
            "script": page.locator("script", has_text="alert(1)").count()}


def text_of(app: AppPage, css: str) -> str:
    """What the reader sees of a pane (its text is inside its shadow root), once it is shown
    (the dashboard comes after the page has loaded, and each pane is hidden until its styles
    apply)."""
    text = app.page.locator(f"{css} div").first
    text.wait_for(state="visible", timeout=30_000)
    return text.inner_text()


def assert_clean(app: AppPage, dialogs: list[str]) -> None:
    app.page.wait_for_timeout(300)  # an image's onerror fires once its request fails
    assert dialogs == [], dialogs
    assert made_from_text(app) == {"img": 0, "b": 0, "script": 0}
    app.assert_no_errors()


@pytest.mark.parametrize("hostile", [IMG, SCRIPT, BOLD])
def test_refused_link_values_are_shown_as_text(open_watched, hostile):
    query = "?" + urlencode({"architecture": hostile, "sparse": "topk", "topk": hostile,
                             "batch_size": hostile, "lesson": hostile})
    app, dialogs = open_watched(query)
    expect(app.page.locator(".settings-message").first).to_contain_text("batch_size")
    assert hostile in text_of(app, ".architecture-message")
    assert hostile in text_of(app, ".sparse-message")
    banner = text_of(app, ".settings-message")
    assert banner.count(hostile) == 2  # batch_size and lesson
    assert_clean(app, dialogs)


@pytest.mark.parametrize("hostile", [IMG, BOLD])
def test_refused_rnn_values_are_shown_as_text(open_watched, hostile):
    query = "?" + urlencode({"model": "rnn", "architecture": hostile, "sparse": "backtrack",
                             "backtrack": hostile})
    app, dialogs = open_watched(query)
    expect(app.page.locator(".sparse-message div").first).to_contain_text("selected steps")
    assert hostile in text_of(app, ".sparse-message")
    assert_clean(app, dialogs)  # the architecture's refusal is shown as text while it is shown


def upload(app: AppPage, name: str, content: bytes) -> None:
    app.page.locator(".upload-csv input[type=file]").first.set_input_files(
        files=[{"name": name, "mimeType": "text/csv", "buffer": content}])


def test_uploaded_names_labels_and_cells_are_shown_as_text(open_watched):
    app, dialogs = open_watched("")
    message = app.page.locator(".upload-message div").first
    rows = [f"{i % 5},{(3 * i) % 7},{'ab'[i % 2] if i % 3 else IMG}" for i in range(30)]
    header = f"{BOLD},$$v^2$$ *x*,label\n"  # and neither math nor Markdown
    upload(app, f"{SCRIPT}.csv", header.encode() + "\n".join(rows).encode())
    expect(message).to_contain_text("in use: 30 rows")
    text = message.inner_text()
    assert f"{SCRIPT}.csv in use" in text and IMG in text
    assert f"features ({BOLD}, $$v^2$$ *x*)" in text
    assert_clean(app, dialogs)
    upload(app, f"{IMG}.csv", f"u,v,label\n1,{BOLD},a\n2,3,b\n".encode())
    expect(message).to_contain_text("not used")
    text = message.inner_text()
    assert f"{IMG}.csv not used: row 2, column 'v': '{BOLD}' is not a number" in text
    assert_clean(app, dialogs)


def test_every_upload_gets_its_own_message(open_watched):
    app, dialogs = open_watched("")
    message = app.page.locator(".upload-message div").first
    upload(app, "first-empty.csv", b"")
    expect(message).to_contain_text("first-empty.csv not used: the file is empty")
    upload(app, "second-empty.csv", b"")
    expect(message).to_contain_text("second-empty.csv not used: the file is empty")
    big = b"1,2,a\n" * (MAX_BYTES // 6 + 1)
    upload(app, "big.csv", big)
    expect(message).to_contain_text(f"big.csv not used: the file has {len(big):,} bytes; at "
                                    f"most {MAX_BYTES:,} are allowed")
    expect(message).to_contain_text("the file was not sent")
    assert_clean(app, dialogs)


def test_numbers_no_control_takes_are_refused_by_name(open_watched):
    digits = "9" * 5000
    app, dialogs = open_watched("?" + urlencode({"seed": digits, "samples": digits,
                                                 "learning_rate": "10"}))
    banner = app.page.locator(".settings-message").first
    expect(banner).to_contain_text("seed takes a whole number from 0 to 2147483647")
    expect(banner).to_contain_text("samples takes a whole number from 8 to 5000")
    low, high = LEARNING_RATES[0], LEARNING_RATES[-1]
    expect(banner).to_contain_text(f"learning_rate takes a number from {low:g} to {high:g}")
    app.step()
    app.wait_for_steps(1)
    assert_clean(app, dialogs)
