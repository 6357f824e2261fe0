"""Clean a notebook as JupyterLab saves it, so that a save writes only what the teacher changed.

``make lab`` puts this folder on Jupyter's configuration path (``JUPYTER_CONFIG_PATH``), so the
server reads ``jupyter_server_config.py`` here, which installs :func:`clean_on_save` as the
contents manager's ``pre_save_hook``: jupyter_server calls it with each model just before it
writes the file. Saving a notebook of a jupytext pair (``notebooks/jupytext.toml``) calls it
twice, first with the notebook model of the ``.ipynb``, then with the text of the paired ``.py``.
On disk:

- the ``.ipynb`` holds no outputs and no execution counts, and no cell metadata that only
  records how outputs were shown (``collapsed``, ``scrolled``, execution timings);
- no line of any cell ends in whitespace, in either file (in the ``.py`` a markdown line is a
  comment, and ruff rejects trailing whitespace: W291, W293). A markdown line break is a
  blank line or a trailing backslash, not two trailing spaces;
- the notebook's metadata is the one of the ``.ipynb`` already on disk: JupyterLab would write
  its kernel's display name, the Python version (``language_info``) and the widget state into
  every notebook it saves. A notebook saved for the first time keeps its metadata less
  ``language_info`` and the widget state.

The notebook open in JupyterLab keeps its outputs; only the files lose them.

``labconfig/default_setting_overrides.json`` here makes JupyterLab open a ``.py`` file as a
notebook (jupytext's "Jupytext Notebook" viewer), so either file of a pair opens the notebook.
A plain module such as ``notebooks/nbhelpers.py`` opens as a notebook too; jupytext reads it in
its "light" format and writes it back the same way, unpaired (*Open With → Editor* shows it as
text).

>>> cell = {"cell_type": "code", "source": "x = 1  \\nx", "metadata": {"scrolled": True},
...         "outputs": [{"output_type": "stream", "name": "stdout", "text": "1"}],
...         "execution_count": 3}
>>> notebook = {"cells": [cell], "metadata": {"language_info": {"version": "3.11.9"}}}
>>> clean_notebook(notebook, metadata_on_disk={"kernelspec": {"name": "python3"}})
>>> notebook
{'cells': [{'cell_type': 'code', 'source': 'x = 1\\nx', 'metadata': {}, 'outputs': [], \
'execution_count': None}], 'metadata': {'kernelspec': {'name': 'python3'}}}
"""

from __future__ import annotations

import os
from typing import Any

import nbformat

# Cell metadata written because outputs were shown, folded or timed.
OUTPUT_CELL_METADATA = ("collapsed", "scrolled", "execution", "ExecuteTime")
# Notebook metadata that describes the running kernel or the widgets' live state.
RUNTIME_METADATA = ("language_info", "widgets")


def strip_trailing_whitespace(text: str) -> str:
    """``text`` with the whitespace at the end of each of its lines removed.

    >>> strip_trailing_whitespace("# a markdown line  \\n#  \\ncode\\t\\n")
    '# a markdown line\\n#\\ncode\\n'
    """
    return "\n".join(line.rstrip() for line in text.split("\n"))


def clean_notebook(notebook: dict[str, Any], metadata_on_disk: dict[str, Any] | None) -> None:
    """Clear outputs, execution counts and trailing whitespace of ``notebook`` in place, and give
    it ``metadata_on_disk`` (or, where ``None``, drop its runtime metadata)."""
    for cell in notebook["cells"]:
        source = cell.get("source", "")
        cell["source"] = strip_trailing_whitespace(
            "".join(source) if isinstance(source, list) else source
        )
        if cell["cell_type"] == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        for key in OUTPUT_CELL_METADATA:
            cell.get("metadata", {}).pop(key, None)
    if metadata_on_disk is not None:
        notebook["metadata"] = metadata_on_disk
    else:
        for key in RUNTIME_METADATA:
            notebook["metadata"].pop(key, None)


def metadata_on_disk(root_dir: str, path: str) -> dict[str, Any] | None:
    """The metadata of the notebook at ``path`` (relative to ``root_dir``) as the file holds it,
    or ``None`` where there is no such notebook yet (or it cannot be read)."""
    os_path = os.path.join(root_dir, *path.strip("/").split("/"))
    if not os.path.isfile(os_path):
        return None
    try:
        return nbformat.read(os_path, as_version=4).metadata
    except Exception:  # an unreadable file: save what JupyterLab sends, less the runtime parts
        return None


def clean_on_save(model: dict[str, Any], path: str, contents_manager: Any, **kwargs: Any) -> None:
    """jupyter_server's ``pre_save_hook``: clean a notebook model, or the text of a ``.py`` file,
    in place before the contents manager writes it."""
    if model.get("type") == "notebook" and model.get("content") is not None:
        clean_notebook(model["content"], metadata_on_disk(contents_manager.root_dir, path))
    elif (
        model.get("type") == "file"
        and model.get("format") == "text"
        and "chunk" not in model
        and path.endswith(".py")
        and isinstance(model.get("content"), str)
    ):
        model["content"] = strip_trailing_whitespace(model["content"])
