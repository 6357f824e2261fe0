"""The upload control hands good files on, and a bad file (or a refused one) leaves the
running model alone and says why."""

from __future__ import annotations

from app.controls.upload_panel import UploadPanel


def test_good_file_is_handed_on_and_described():
    received = []
    panel = UploadPanel(lambda data: received.append(data))
    panel.input.filename = "mine.csv"
    panel.input.value = b"a,b,label\n0,1,x\n1,0,y\n2,2,x\n"
    assert len(received) == 1 and received[0].name == "mine.csv"
    assert panel.accepted
    assert "mine.csv** in use: 3 rows, 2 features (a, b), 2 classes (x, y)" in panel.message


def test_bad_file_never_reaches_the_model():
    received = []
    panel = UploadPanel(lambda data: received.append(data))
    assert not panel.receive(b"a,b,label\n0,,x\n1,0,y\n", "bad.csv")
    assert received == [] and not panel.accepted
    assert "bad.csv not used:** row 2, column 'b': missing value" in panel.message
    assert "unchanged" in panel.message


def test_refusal_by_the_dashboard_is_shown():
    panel = UploadPanel(lambda data: "the architecture does not fit")
    assert not panel.receive(b"a,b,label\n0,1,x\n1,0,y\n", "ok.csv")
    assert "ok.csv not used:** the architecture does not fit" in panel.message


def test_back_to_the_built_in_data():
    received = []
    panel = UploadPanel(lambda data: received.append(data))
    assert not panel.clear_button.visible
    panel.receive(b"a,b,label\n0,1,x\n1,0,y\n", "ok.csv")
    assert panel.clear_button.visible
    panel.clear_button.clicks += 1
    assert received[-1] is None and not panel.accepted and not panel.clear_button.visible
    assert "built-in" in panel.message


def test_a_bad_file_after_a_good_one_keeps_the_good_one_and_its_way_back():
    received = []
    panel = UploadPanel(lambda data: received.append(data))
    panel.receive(b"a,b,label\n0,1,x\n1,0,y\n", "good.csv")
    panel.receive(b"a,b,label\n0,1,x\n", "bad.csv")
    assert len(received) == 1 and not panel.accepted and panel.in_use
    assert panel.clear_button.visible
    panel.dropped()
    assert not panel.in_use and not panel.clear_button.visible
    assert "replaced by the data set chosen" in panel.message
