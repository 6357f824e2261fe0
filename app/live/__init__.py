"""The live loop: one scheduler per process that gives every playing page fair training
slices and paced frames (scheduler), one session's training and frames (loop), and the
receipts that tell the loop which updates the page has drawn (receipts). Stands on
:mod:`app.views` and :mod:`app.compat`."""
