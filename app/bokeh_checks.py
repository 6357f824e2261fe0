"""Bokeh's self-checks of every new session, which a served dashboard skips.

Building a session's document is the server's largest cost when a class arrives (some 0.5 s
of CPU per page). Two of Bokeh's documented settings make a fifth of it:

- ``perform_document_validation`` (``BOKEH_VALIDATE_DOC``): every new document is validated
  (``Document.validate``, Bokeh's model integrity checks) before it is served;
- ``perform_error_diagnostics`` (``BOKEH_PERFORM_ERROR_DIAGNOSTICS``): the signature of every
  property callback is inspected when it is registered, and Panel registers one for every
  synced property of every model.

Both check the code, not the user's input: the documents and callbacks are the same for every
session. The test suite builds every view's document with both checks on and asserts that
they pass (``tests/app/test_bokeh_checks.py``); served, :func:`skip_self_checks` turns them
off, unless the environment sets them (``BOKEH_VALIDATE_DOC=true panel serve app`` keeps
validating).
"""

from __future__ import annotations

import os

#: the settings skipped when serving, with their environment variables
SELF_CHECKS = {"perform_document_validation": "BOKEH_VALIDATE_DOC",
               "perform_error_diagnostics": "BOKEH_PERFORM_ERROR_DIAGNOSTICS"}


def skip_self_checks() -> list[str]:
    """Turn off the :data:`SELF_CHECKS` whose environment variable is not set; returns the
    names of those turned off."""
    from bokeh.settings import settings

    skipped = []
    for name, variable in SELF_CHECKS.items():
        if variable not in os.environ:
            getattr(settings, name).set_value(False)
            skipped.append(name)
    return skipped
