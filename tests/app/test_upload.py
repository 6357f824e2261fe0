"""CSV upload: good files give the numbers written in them; every bad file gives an
UploadError whose message names the row and column, and nothing else is ever raised."""

from __future__ import annotations

import numpy as np
import pytest

from app.data.upload import MAX_BYTES, MAX_CLASSES, MAX_FEATURES, MAX_ROWS, UploadError, parse_csv


def test_header_numbers_and_word_labels():
    data = parse_csv(b"x1,x2,label\n1.5,-2,cat\n3.5,0,dog\n2.5,2,cat\n", name="pets.csv")
    np.testing.assert_array_equal(data.raw, [[1.5, -2.0], [3.5, 0.0], [2.5, 2.0]])
    np.testing.assert_allclose(data.points, [[-1.0, -1.0], [1.0, 0.0], [0.0, 1.0]])
    assert data.labels.tolist() == [0, 1, 0]
    assert data.class_names == ("cat", "dog") and data.classes == 2
    assert data.feature_names == ("x1", "x2") and data.label_name == "label"
    assert data.name == "pets.csv" and data.size == 3


def test_rescaling_against_its_formula():
    rng = np.random.default_rng(0)
    raw = rng.normal(5.0, 3.0, (40, 3))
    labels = rng.integers(0, 3, 40)
    lines = ["a,b,c,class"] + [",".join(repr(float(v)) for v in row) + f",{c}"
                               for row, c in zip(raw, labels, strict=True)]
    data = parse_csv("\n".join(lines).encode())
    np.testing.assert_array_equal(data.raw, raw)
    expected = 2 * (raw - raw.min(axis=0)) / (raw.max(axis=0) - raw.min(axis=0)) - 1
    np.testing.assert_allclose(data.points, expected, rtol=1e-14, atol=1e-15)
    assert data.labels.tolist() == labels.tolist()


def test_numeric_labels_sort_numerically_and_constant_columns_become_zero():
    data = parse_csv(b"1,7,10\n2,7,9\n3,7,10\n4,7,2\n")  # no header: labels in the last column
    assert data.class_names == ("2", "9", "10")
    assert data.labels.tolist() == [2, 1, 2, 0]
    assert data.feature_names == ("column 1", "column 2")
    np.testing.assert_array_equal(data.points[:, 1], 0.0)


def test_label_column_found_by_name_semicolons_tabs_and_bom():
    data = parse_csv("\ufeffClass;u;v\nb;1;2\na;3;4\n".encode())
    assert data.label_name == "Class" and data.feature_names == ("u", "v")
    assert data.labels.tolist() == [1, 0]
    np.testing.assert_array_equal(data.raw, [[1, 2], [3, 4]])
    tabbed = parse_csv(b"p\tq\ty\n0\t1\t0\n1\t0\t1\n\n")
    assert tabbed.label_name == "y" and tabbed.labels.tolist() == [0, 1]


@pytest.mark.parametrize("content, message", [
    (b"", "the file is empty"),
    (b"  \n\n ", "the file is empty"),
    (b"x1,x2,label\n", "the file has a header row but no data rows"),
    (b"x,label\n1,a\n2,b\n", "the file has 2 columns; it needs at least two feature columns "
                             "and a label column"),
    (b"x1,x2,label\n1,2,a\n3,,b\n", "row 3, column 'x2': missing value"),
    (b"x1,x2,label\n1,2,a\nNA,4,b\n", "row 3, column 'x1': missing value"),
    (b"x1,x2,label\n1,2,a\n3,4,\n", "row 3, column 'label': missing label"),
    (b"x1,x2,label\n1,2,a\n3,four,b\n", "row 3, column 'x2': 'four' is not a number"),
    (b"x1,x2,label\n1,inf,a\n3,4,b\n", "row 2, column 'x2': inf is not a finite number"),
    (b"1,2,0\n3,4\n", "row 2 has 2 cells, but the first row has 3"),
    (b"x1,x2,label\n1,2,a\n3,4,a\n", "the label column 'label' holds one class only ('a'): "
                                     "a classifier needs at least two"),
    (b"x1,x2,label\n1,2,a\n\xff\xfe3,4,b\n", "the file is not UTF-8 text: byte 19 (line 3)"),
    ("x1,x2,label\n1,2,é\n".encode("latin-1"), "the file is not UTF-8 text"),
    (b"PK\x03\x04\x00\x00binary", "the file is not a text file (it holds NUL bytes)"),
])
def test_every_problem_has_its_message(content, message):
    with pytest.raises(UploadError) as caught:
        parse_csv(content)
    assert message in str(caught.value)


def test_limits_are_stated():
    rows = "\n".join(f"{i},{i},{i % 2}" for i in range(MAX_ROWS + 1))
    with pytest.raises(UploadError, match=f"the file has {MAX_ROWS + 1:,} data rows; at most "
                                          f"{MAX_ROWS:,} are allowed"):
        parse_csv(rows.encode())
    assert parse_csv("\n".join(rows.split("\n")[:MAX_ROWS]).encode()).size == MAX_ROWS
    wide = ",".join(["1"] * (MAX_FEATURES + 2))
    with pytest.raises(UploadError, match=f"{MAX_FEATURES + 1} feature columns; at most "
                                          f"{MAX_FEATURES}"):
        parse_csv(f"{wide}\n{wide}\n".encode())
    with pytest.raises(UploadError, match=f"at most {MAX_BYTES:,} are allowed"):
        parse_csv(b"1," * (MAX_BYTES // 2 + 1))
    many = "\n".join(f"{i},{i},{i}" for i in range(MAX_CLASSES + 1))
    with pytest.raises(UploadError, match=f"holds {MAX_CLASSES + 1} classes .*; at most "
                                          f"{MAX_CLASSES} are allowed"):
        parse_csv(many.encode())
    with pytest.raises(UploadError, match="the upload must be the file's bytes"):
        parse_csv("1,2,3")


def test_only_upload_errors_escape_on_random_bytes():
    """Whatever bytes arrive, the parser answers with data or an UploadError."""
    rng = np.random.default_rng(3)
    alphabet = np.frombuffer(b"0123456789,;.-e\n\r\t\"abcNA \xc3\xa9\xff", dtype=np.uint8)
    for _ in range(300):
        content = rng.choice(alphabet, size=int(rng.integers(0, 60))).tobytes()
        try:
            data = parse_csv(content)
        except UploadError as error:
            assert str(error)
        else:
            assert data.classes >= 2 and np.all(np.isfinite(data.points))


def test_upload_becomes_training_data_with_features_and_split():
    from app.data.classification import feature_map, split_indices
    from app.data.upload import upload_dataset

    rows = "\n".join(f"{i % 7},{(i * 3) % 5},{'abc'[i % 3]}" for i in range(30))
    data = parse_csv(f"u,v,label\n{rows}\n".encode(), name="mine.csv")
    built = upload_dataset(data, loss="cross_entropy", features="x1,x2,x1_x2",
                           test_fraction=0.2, seed=3)
    train, test = split_indices(data.labels, 0.2, 3)
    np.testing.assert_array_equal(built.X, feature_map(data.points[train], "x1,x2,x1_x2"))
    np.testing.assert_array_equal(built.test_labels, data.labels[test])
    np.testing.assert_array_equal(built.Z, np.eye(3)[data.labels[train]])
    assert built.class_names == ("a", "b", "c") and built.name == "mine.csv"
    wide = parse_csv(b"a,b,c,label\n1,2,3,x\n4,5,6,y\n7,8,9,x\n")
    plain = upload_dataset(wide, features="x1,x2")  # no plane: the columns as given
    assert plain.features is None and plain.points is None and plain.input_width == 3
    np.testing.assert_array_equal(plain.X, wide.points)
