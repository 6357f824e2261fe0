"""The data a dashboard trains on, and the settings that follow when it changes.

A built-in data set chosen by hand (or its classes, loss or features changed) may force
other values (xor has two classes:
:func:`app.configuration.classification_settings.classification_widths`)
and gives the FNN new first and last widths, fitted to the data the settings now make
(:func:`app.configuration.widths.network_widths`). An uploaded CSV file (``app/data/upload.py``)
brings its own
widths and classes; the settings then show what runs (``dataset=upload``, in the address
too). Choosing a data set drops the upload, and "back to the built-in data" returns to the
set the file replaced.
"""

from __future__ import annotations

from collections.abc import Callable

from app.configuration.classification_settings import UPLOAD, classification_widths
from app.configuration.widths import format_architecture, network_widths

#: the settings whose change gives the FNN's data other widths
DATA_SHAPING = ("dataset", "classes", "loss", "features")


class DataChoice:
    """The data in use for one dashboard: its ``settings``, its training ``session`` and
    its ``sidebar`` (whose upload panel is told when a file is dropped); ``shown`` redraws
    what the dashboard shows of the model after an upload (module docstring)."""

    def __init__(self, settings, session, sidebar, shown: Callable[[], None]):
        self.settings, self.session, self.sidebar = settings, session, sidebar
        self.shown = shown
        self.built_in_dataset = "xor"  # the data set an upload replaced

    def settings_follow(self, names: set[str]) -> bool:
        """Bring the other settings in line after the structural settings ``names`` changed
        by hand. True if one was changed (its watcher runs again, and that run rebuilds);
        False if the session may rebuild with the settings as they are."""
        s = self.settings
        if "dataset" in names and self.session.uploaded is not None and s.dataset != UPLOAD:
            self.session.uploaded = None  # a data set chosen replaces an upload
            if self.sidebar.upload is not None:
                self.sidebar.upload.dropped()
        if s.model != "fnn" or not names & set(DATA_SHAPING):
            return False
        _, _, changes = classification_widths(s.values())
        if changes:  # e.g. xor with 3 classes: the value that must change, changes
            s.param.update(**{name: value for name, (value, _) in changes.items()})
            return True
        fitted = self.fitted_architecture()
        if fitted is not None and fitted != s.architecture:
            s.architecture = fitted
            return True
        return False

    def fitted_architecture(self) -> str | None:
        """The architecture with its first and last widths those of the data the settings
        make; None for text that is no list of widths (it stays for the user to correct) or
        data that cannot be made (the rebuild says why)."""
        try:
            sizes = network_widths(self.settings.values(), self.session.make_data())
        except ValueError:  # ArchitectureError included
            return None
        return format_architecture(sizes)

    def use_upload(self, uploaded) -> str | None:
        """Train on an uploaded data set (None: the built-in one again), from fresh weights;
        on failure the running model goes on and the reason is returned. The settings then
        show what runs: ``dataset=upload`` (also in the address), the model's widths and the
        file's classes."""
        s = self.settings
        if uploaded is None and s.dataset == UPLOAD:
            s.dataset = self.built_in_dataset  # drops the upload (settings_follow)
            return None
        error = self.session.use_upload(uploaded)
        if error:
            return error
        if uploaded is not None:
            if s.dataset != UPLOAD:
                self.built_in_dataset = s.dataset  # what "back to the built-in data" gives
            s.param.update(dataset=UPLOAD, classes=uploaded.classes,
                           architecture=format_architecture(self.session.layer_sizes))
        self.shown()
        return None
