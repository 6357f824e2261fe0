"""Browser tests of the served dashboard.

A package, so that its conftest.py gets a module name of its own (pytest runs with
--doctest-modules, which imports every conftest.py; two plain ``conftest`` modules clash).
"""
