# Configuration that `make lab` adds to Jupyter's (JUPYTER_CONFIG_PATH names this folder): each
# notebook is cleaned as it is saved (save_hook.py): no outputs, no trailing whitespace, and the
# notebook's metadata as the file on disk has it. The hook is set on ContentsManager, so it also
# holds for jupytext's contents manager, which writes both files of a pair.
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from save_hook import clean_on_save  # noqa: E402

c = get_config()  # noqa: F821
c.ContentsManager.pre_save_hook = clean_on_save
