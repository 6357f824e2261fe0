"""``docs/screenshots.py`` (every lesson and view, to look at before a release) runs against a
served app: it writes each screenshot and an index with the step counter each page showed."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load_script():
    spec = importlib.util.spec_from_file_location("screenshots", ROOT / "docs" / "screenshots.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.browser
def test_one_lesson_and_one_view_are_shot_with_their_counters(browser, server, tmp_path):
    script = load_script()
    shooter = script.shoot_all(browser, server, tmp_path, [(800, 600)], ["rank-1"], ["rank"], 1.0)
    assert not shooter.failed, (tmp_path / "index.md").read_text()
    names = sorted(path.name for path in tmp_path.glob("*.png"))
    assert names == ["lesson-rank-1-800x600-played.png", "lesson-rank-1-800x600-start.png",
                     "view-fnn-rank-800x600.png", "view-rnn-rank-800x600.png"]
    for name in names:
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    index = (tmp_path / "index.md").read_text()
    assert "`lesson-rank-1-800x600-start.png`: step 0; no page error" in index
    played = next(line for line in index.splitlines() if "played" in line)
    assert "step 0;" not in played  # Play trained before the second screenshot
    assert "`view-fnn-rank-800x600.png`: step 3; no page error" in index


def test_a_size_is_checked_by_name():
    script = load_script()
    with pytest.raises(SystemExit):
        script.main(["--out", "unused", "--sizes", "1024"])
    assert script.size("1024x768") == (1024, 768)
