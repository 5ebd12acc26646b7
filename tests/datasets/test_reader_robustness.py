"""Readers on awkward real-world files: encodings, byte-order marks, huge
fields, Unicode separators, headerless files and missing labels."""

import json

import numpy as np
import pytest

from keras_albert.datasets import load_conll
from keras_albert.datasets import load_race
from keras_albert.datasets import load_squad
from keras_albert.datasets import load_text_classification
from keras_albert.datasets.text_files import DataFileError
from keras_albert.datasets.text_files import split_lines


def test_split_lines_breaks_only_at_newlines():
    assert split_lines("a\u2028b\nc\r\nd\re\x0cf\n") == [
        "a\u2028b", "c", "d", "e\x0cf"]
    assert split_lines("") == []
    assert split_lines("x\n\n") == ["x", ""]


@pytest.mark.parametrize("reader, name", [
    (load_text_classification, "data.tsv"),
    (load_conll, "data.conll"),
    (load_squad, "data.json"),
    (load_race, "data.json"),
])
def test_latin1_bytes_name_the_file_and_line(tmp_path, reader, name):
    path = tmp_path / name
    path.write_bytes(b"sentence\tlabel\ncaf\xe9 ok\t1\n")
    with pytest.raises(DataFileError, match=rf"{name} is not UTF-8 text: "
                                            r"line 2 has byte 0xe9"):
        reader(path)


def test_a_directory_is_not_a_data_file(tmp_path):
    with pytest.raises(DataFileError, match="is a directory"):
        load_text_classification(tmp_path, format="tsv")


def test_utf8_byte_order_mark_is_not_part_of_the_header(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffsentence,label\nfine,1\n".encode("utf-8"))
    x, y = load_text_classification(path)
    assert list(x) == ["fine"] and list(y) == [1]
    conll = tmp_path / "bom.conll"
    conll.write_bytes("\ufeffEU B-ORG\n".encode("utf-8"))
    assert load_conll(conll) == ([["EU"]], [["B-ORG"]])
    squad = tmp_path / "bom.json"
    squad.write_bytes(("\ufeff" + json.dumps({"data": []})).encode("utf-8"))
    assert load_squad(squad)[1] == []


def test_fields_over_the_csv_module_limit(tmp_path):
    long_text = "word " * 60_000  # 300 KB, over csv's 128 KiB default
    path = tmp_path / "long.csv"
    path.write_text(f"text,label\n{long_text},0\nshort,1\n")
    x, y = load_text_classification(path)
    assert len(x[0]) == len(long_text) and list(y) == [0, 1]
    import csv

    assert csv.field_size_limit() == 131072  # restored afterwards


def test_conll_words_keep_unicode_spaces_and_lines_stay_counted(tmp_path):
    path = tmp_path / "nbsp.conll"
    # A no-break space inside a word and a line separator inside another:
    # both are part of the word; line numbers after them stay right.
    path.write_text("New\u00a0York B-LOC\nis\u2028 O\n\nbroken\n",
                    encoding="utf-8")
    with pytest.raises(DataFileError, match=r"line 4: expected 2 columns"):
        load_conll(path)
    path.write_text("New\u00a0York B-LOC\nis\u2028x O\n", encoding="utf-8")
    x, y = load_conll(path)
    assert x == [["New\u00a0York", "is\u2028x"]] and y == [["B-LOC", "O"]]


def test_headerless_files_take_column_indexes(tmp_path):
    path = tmp_path / "cola.tsv"
    path.write_text("gj04\t1\t\tThe sailors rode the breeze.\n"
                    "gj04\t0\t*\tThe more we study verbs.\n")
    x, y = load_text_classification(path, text_column=3, label_column=1)
    assert list(x) == ["The sailors rode the breeze.",
                       "The more we study verbs."]
    assert list(y) == [1, 0]
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("a one,b one,0\na two,b two,1\n")
    (a, b), y = load_text_classification(pairs, text_column=0,
                                         text_pair_column=1, label_column=2)
    assert list(a) == ["a one", "a two"] and list(b) == ["b one", "b two"]
    with pytest.raises(ValueError, match="all by name or all by index"):
        load_text_classification(pairs, text_column=0, label_column="label")


def test_a_headerless_file_read_with_a_header_says_so(tmp_path):
    path = tmp_path / "noheader.tsv"
    path.write_text("a fine film\t1\na dull plot\t0\n")
    with pytest.raises(DataFileError) as info:
        load_text_classification(path)
    message = str(info.value)
    assert "first row was read as a header" in message
    assert "['a fine film', '1']" in message
    assert "--text-column" in message and "indexes" in message


@pytest.mark.parametrize("bad", ["", "null", "n/a", "NaN", "None"])
def test_missing_labels_are_errors_not_classes(tmp_path, bad):
    path = tmp_path / "labels.tsv"
    path.write_text(f"sentence\tlabel\na\t0\nb\t1\nc\t{bad}\n")
    with pytest.raises(DataFileError, match=r"labels.tsv:4: the label is "
                                            r"missing"):
        load_text_classification(path)
    jsonl = tmp_path / "labels.jsonl"
    jsonl.write_text('{"text": "a", "label": 0}\n{"text": "b", "label": null}'
                     "\n")
    with pytest.raises(DataFileError, match=r"labels.jsonl:2: the label is "
                                            r"missing \(None\)"):
        load_text_classification(jsonl)


def test_a_float_among_integer_labels_is_not_renumbered(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_text("text,label\na,0\nb,1\nc,0.5\n")
    with pytest.raises(DataFileError, match=r"mixed.csv:4: label '0.5' is "
                                            r"not an integer class id"):
        load_text_classification(path)
    x, y = load_text_classification(path, regression=True)
    np.testing.assert_allclose(y, [0.0, 1.0, 0.5])


@pytest.mark.parametrize("bad", ["nan", "inf", "-inf"])
def test_regression_targets_must_be_finite(tmp_path, bad):
    path = tmp_path / "sts.tsv"
    path.write_text(f"sentence1\tsentence2\tscore\na\tb\t1.5\nc\td\t{bad}\n")
    with pytest.raises(DataFileError, match=r"sts.tsv:3: "):
        load_text_classification(path, regression=True)


def test_named_classes_still_number_in_sorted_order(tmp_path):
    path = tmp_path / "named.csv"
    path.write_text("text,label\na,pos\nb,neg\nc,none\n")
    # "none" is a class here because `label_names` says so.
    x, y = load_text_classification(path, label_names=["neg", "pos", "none"])
    assert list(y) == [1, 0, 2]
    with pytest.raises(DataFileError, match="named.csv:4: the label is "
                                            "missing"):
        load_text_classification(path)
