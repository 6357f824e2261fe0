"""The upload control: a CSV file chosen in the browser becomes the FNN's data, or a message.

The file's bytes are parsed by :func:`app.data.upload.parse_csv`; a file that cannot be used
shows why (the row and column, see ``app/data/upload.py``) and goes no further, so the running
model and its data stay as they were. A good file is handed to ``use`` (the dashboard's
callback), which may still refuse it with a reason (a string), shown the same way;
"back to the built-in data" calls ``use(None)``.

Every file chosen gets its own message, an empty one and the same file chosen twice
included (:class:`CsvFileInput` reports each choice as a new ``upload``). A file over
:data:`app.data.upload.MAX_BYTES` is refused in the page: its content is never sent, only its
name and size, and the message states the limit; the server's own check in
:func:`app.data.upload.decode` still refuses anything oversized that arrives. The file's name, its
column names, labels and cells are shown as text (:func:`app.outside_text.markdown_text`).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable

import panel as pn
import param
from panel.custom import JSComponent

from app.data.upload import MAX_BYTES, MAX_ROWS, UploadedData, UploadError, parse_csv, too_large
from app.outside_text import MARKDOWN_TEXT_OPTIONS, markdown_text


class CsvFileInput(JSComponent):
    """A file input that checks the file's size in the browser before sending it.

    Each file chosen sets ``upload`` to ``{"name", "size", "count"}`` plus ``"content"``
    (base64) when the file is at most ``max_bytes``; ``count`` grows with every choice, so
    the same file twice (or two empty files) are two changes. ``filename`` and ``value``
    (the bytes) mirror the last file that was sent; setting ``value`` from Python (a script,
    a test) counts as an upload of ``filename``, as with Panel's ``FileInput``.
    """

    accept = param.String(default=".csv,text/csv,text/plain")
    max_bytes = param.Integer(default=MAX_BYTES, doc="largest file sent to the server")
    upload = param.Dict(default={}, doc="the last file chosen, set in the browser")
    filename = param.String(default=None, allow_None=True, precedence=-1)
    value = param.Parameter(default=None, precedence=-1, doc="the last file's bytes")

    _esm = """
    export function render({ model, el }) {
      const input = document.createElement("input")
      input.type = "file"
      input.accept = model.accept
      let count = 0
      input.addEventListener("change", () => {
        const file = input.files && input.files[0]
        if (!file) return
        input.value = ""  // choosing the same file again is a new choice
        count += 1
        if (file.size > model.max_bytes) {  // refused here: nothing of it is sent
          model.upload = {name: file.name, size: file.size, count}
          return
        }
        const reader = new FileReader()
        reader.onload = () => {
          const url = String(reader.result)
          model.upload = {name: file.name, size: file.size, count,
                          content: url.slice(url.indexOf(",") + 1)}
        }
        reader.readAsDataURL(file)
      })
      model.on("accept", () => { input.accept = model.accept })
      el.append(input)
    }
    """


class UploadPanel(pn.viewable.Viewer):
    """A file input and the message about the last file."""

    message = param.String(default="", doc="what happened to the last file (Markdown)")
    accepted = param.Boolean(default=False, doc="the last file is in use")
    in_use = param.Boolean(default=False, doc="an uploaded file (this one or an earlier) "
                                              "is the training data")
    in_use_name = param.String(default="", doc="the name of the file in use ('' if none)")

    def __init__(self, use: Callable[[UploadedData | None], str | None], **params):
        super().__init__(**params)
        self.use = use
        self.clear_button = pn.widgets.Button(
            label="back to the built-in data", color="light", visible=False,
            css_classes=["upload-clear"], sizing_mode="stretch_width")
        self.clear_button.on_click(lambda event: self.clear())
        self.input = CsvFileInput(css_classes=["upload-csv"], sizing_mode="stretch_width")
        self._message = pn.pane.Markdown(
            f"Your own data: a CSV with two or more numeric feature columns and a label "
            f"column (at most {MAX_ROWS:,} rows, {MAX_BYTES // 1_000_000} MB).",
            css_classes=["upload-message"], margin=(0, 5), sizing_mode="stretch_width",
            **MARKDOWN_TEXT_OPTIONS)
        self.input.param.watch(self._received, "value")
        self.input.param.watch(self._chosen, "upload")
        self._layout = pn.Column(self.input, self._message, self.clear_button,
                                 sizing_mode="stretch_width")

    def __panel__(self):
        return self._layout

    def _received(self, event) -> None:
        if event.new is None:
            return
        self.receive(event.new, self.input.filename or "uploaded.csv")

    def _chosen(self, event) -> None:
        """A file chosen in the browser (``CsvFileInput.upload``): its message, always."""
        chosen = event.new
        if not isinstance(chosen, dict) or not chosen:
            return
        filename = str(chosen.get("name") or "uploaded.csv")
        if "content" not in chosen:
            size = chosen.get("size")
            self._refuse(filename, too_large(size if isinstance(size, int) else 0)
                         + " (checked in the browser: the file was not sent)")
            return
        try:
            content = base64.b64decode(str(chosen["content"]), validate=True)
        except (binascii.Error, ValueError):
            self._refuse(filename, "the file did not arrive whole: choose it again")
            return
        with param.discard_events(self.input):  # the mirror, not a second upload
            self.input.param.update(filename=filename, value=content)
        self.receive(content, filename)

    def receive(self, content: bytes, filename: str) -> bool:
        """Parse ``content`` and hand it on; True if the data is now in use."""
        try:
            data = parse_csv(content, name=filename)
        except UploadError as error:
            return self._refuse(filename, str(error))
        reason = self.use(data)
        if reason:
            return self._refuse(filename, reason)
        names = markdown_text(", ".join(data.class_names))
        features = markdown_text(", ".join(data.feature_names))
        self.param.update(in_use=True, in_use_name=filename)
        self._say(f"**{markdown_text(filename)}** in use: {data.size} rows, "
                  f"{len(data.feature_names)} features ({features}), {data.classes} classes "
                  f"({names}); features rescaled to [-1, 1].", accepted=True)
        return True

    def clear(self) -> None:
        """Train on the built-in data set again (``use(None)``)."""
        reason = self.use(None)
        if reason:
            self._say(f"**The built-in data could not be used:** {markdown_text(reason)}",
                      accepted=False)
        else:
            self.param.update(in_use=False, in_use_name="")
            self._say("Back to the built-in data set.", accepted=False)

    def dropped(self) -> None:
        """The dashboard replaced the upload (a data set was chosen): say so."""
        if self.in_use:
            self.param.update(in_use=False, in_use_name="")
            self._say("The uploaded data was replaced by the data set chosen.", accepted=False)

    def _refuse(self, filename: str, reason: str) -> bool:
        self._say(f"**{markdown_text(filename)} not used:** {markdown_text(reason)}. The "
                  "running model and its data are unchanged.", accepted=False)
        return False

    def _say(self, text: str, accepted: bool) -> None:
        self._message.object = text
        self.clear_button.visible = self.in_use
        self.param.update(message=text, accepted=accepted)
