"""The upload control: a CSV file chosen in the browser becomes the FNN's data, or a message.

The file's bytes are parsed by :func:`app.upload.parse_csv`; a file that cannot be used
shows why (the row and column, see ``app/upload.py``) and goes no further, so the running
model and its data stay as they were. A good file is handed to ``use`` (the dashboard's
callback), which may still refuse it with a reason (a string), shown the same way;
"back to the built-in data" calls ``use(None)``.
"""

from __future__ import annotations

from collections.abc import Callable

import panel as pn
import param

from .upload import MAX_BYTES, MAX_ROWS, UploadedData, UploadError, parse_csv


class UploadPanel(pn.viewable.Viewer):
    """A file input and the message about the last file."""

    message = param.String(default="", doc="what happened to the last file (Markdown)")
    accepted = param.Boolean(default=False, doc="the last file is in use")
    in_use = param.Boolean(default=False, doc="an uploaded file (this one or an earlier) "
                                              "is the training data")

    def __init__(self, use: Callable[[UploadedData | None], str | None], **params):
        super().__init__(**params)
        self.use = use
        self.clear_button = pn.widgets.Button(
            label="back to the built-in data", color="light", visible=False,
            css_classes=["upload-clear"], sizing_mode="stretch_width")
        self.clear_button.on_click(lambda event: self.clear())
        self.input = pn.widgets.FileInput(accept=".csv,text/csv,text/plain", multiple=False,
                                          css_classes=["upload-csv"], sizing_mode="stretch_width")
        self._message = pn.pane.Markdown(
            f"Your own data: a CSV with two or more numeric feature columns and a label "
            f"column (at most {MAX_ROWS:,} rows, {MAX_BYTES // 1_000_000} MB).",
            css_classes=["upload-message"], margin=(0, 5), sizing_mode="stretch_width")
        self.input.param.watch(self._received, "value")
        self._layout = pn.Column(self.input, self._message, self.clear_button,
                                 sizing_mode="stretch_width")

    def __panel__(self):
        return self._layout

    def _received(self, event) -> None:
        if event.new is None:
            return
        self.receive(event.new, self.input.filename or "uploaded.csv")

    def receive(self, content: bytes, filename: str) -> bool:
        """Parse ``content`` and hand it on; True if the data is now in use."""
        try:
            data = parse_csv(content, name=filename)
        except UploadError as error:
            return self._refuse(filename, str(error))
        reason = self.use(data)
        if reason:
            return self._refuse(filename, reason)
        names = ", ".join(data.class_names)
        self.in_use = True
        self._say(f"**{filename}** in use: {data.size} rows, {len(data.feature_names)} "
                  f"features ({', '.join(data.feature_names)}), {data.classes} classes "
                  f"({names}); features rescaled to [-1, 1].", accepted=True)
        return True

    def clear(self) -> None:
        """Train on the built-in data set again (``use(None)``)."""
        reason = self.use(None)
        if reason:
            self._say(f"**The built-in data could not be used:** {reason}", accepted=False)
        else:
            self.in_use = False
            self._say("Back to the built-in data set.", accepted=False)

    def dropped(self) -> None:
        """The dashboard replaced the upload (a data set was chosen): say so."""
        if self.in_use:
            self.in_use = False
            self._say("The uploaded data was replaced by the data set chosen.", accepted=False)

    def _refuse(self, filename: str, reason: str) -> bool:
        self._say(f"**{filename} not used:** {reason}. The running model and its data are "
                  "unchanged.", accepted=False)
        return False

    def _say(self, text: str, accepted: bool) -> None:
        self._message.object = text
        self.clear_button.visible = self.in_use
        self.param.update(message=text, accepted=accepted)
