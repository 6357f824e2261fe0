"""Training one session: the optimiser run (run) and the session holding it and, under a
sparse rule, its full-backprop twin (session). Stands on :mod:`app.configuration` and
:mod:`app.data`."""
