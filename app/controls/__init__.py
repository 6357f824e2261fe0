"""The settings panel (sidebar) and its parts: the playground's and the classification
data's controls and the upload panel. Stands on :mod:`app.configuration`, :mod:`app.data`
and :mod:`app.views`."""
