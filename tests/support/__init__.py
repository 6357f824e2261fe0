"""What several test modules share, imported as ``tests.support``: the `make lab` server
(``lab``), the steps every browser test of the served page takes (``page``), and a view's
parts read as its page shows them (``views``). The in-process stand-in for a served page, and
the helpers that serve the app to open and close sessions or to fetch what a first visit
downloads, live beside the server code (``serve/in_process.py``, ``serve/churn.py``,
``serve/downloads.py``), since the benchmarks use them too and import no test code."""
