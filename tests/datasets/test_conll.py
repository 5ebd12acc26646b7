"""CoNLL-2003-style files: sentences, columns, document breaks, errors."""

import pytest

from keras_albert.datasets.conll import conll_labels
from keras_albert.datasets.conll import load_conll

# Four columns (word POS chunk NER) as in CoNLL-2003, with a document
# break, two blank lines in a row, tabs mixed with spaces, trailing
# whitespace, a Windows line ending and no blank line at the end.
CONLL_2003 = (
    "-DOCSTART- -X- -X- O\n"
    "\n"
    "EU NNP B-NP B-ORG\n"
    "rejects\tVBZ\tB-VP\tO\n"
    "German JJ B-NP B-MISC  \n"
    "\n"
    "\n"
    "Peter NNP B-NP B-PER\r\n"
    "Blackburn NNP I-NP I-PER\n"
    "-DOCSTART- -X- -X- O\n"
    "BRUSSELS NNP B-NP B-LOC\n"
    "Café NNP B-NP B-LOC"
)


@pytest.fixture
def conll_file(tmp_path):
    path = tmp_path / "eng.train"
    path.write_text(CONLL_2003, encoding="utf-8", newline="")
    return path


def test_reads_sentences_and_last_column(conll_file):
    x, y = load_conll(conll_file)
    # The blank lines and both -DOCSTART- lines separate sentences; the
    # second -DOCSTART- has no blank line after "Blackburn" and still ends
    # that sentence.
    assert x == [["EU", "rejects", "German"], ["Peter", "Blackburn"],
                 ["BRUSSELS", "Café"]]
    assert y == [["B-ORG", "O", "B-MISC"], ["B-PER", "I-PER"],
                 ["B-LOC", "B-LOC"]]


def test_other_tag_column(conll_file):
    _, y = load_conll(str(conll_file), tag_column=1)
    assert y[0] == ["NNP", "VBZ", "JJ"]
    _, y = load_conll(conll_file, tag_column=2)
    assert y[1] == ["B-NP", "I-NP"]


def test_two_column_file_and_empty_file(tmp_path):
    path = tmp_path / "wnut.txt"
    path.write_text("@paul\tO\nBerlin\tB-location\n\n", encoding="utf-8")
    assert load_conll(path) == ([["@paul", "Berlin"]], [["O", "B-location"]])
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n", encoding="utf-8")
    assert load_conll(empty) == ([], [])


def test_wrong_column_count_names_file_and_line(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("EU NNP B-NP B-ORG\nrejects VBZ O\n", encoding="utf-8")
    with pytest.raises(ValueError) as info:
        load_conll(path)
    message = str(info.value)
    assert "bad.txt, line 2" in message
    assert "expected 4 columns like line 1, found 3" in message


def test_bad_tag_columns(tmp_path):
    one = tmp_path / "one.txt"
    one.write_text("\nEU\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 2: a token line needs a word"):
        load_conll(one)
    two = tmp_path / "two.txt"
    two.write_text("EU B-ORG\n", encoding="utf-8")
    with pytest.raises(ValueError, match="tag_column=0 is not a tag column"):
        load_conll(two, tag_column=0)
    with pytest.raises(ValueError, match="tag_column=5"):
        load_conll(two, tag_column=5)
    with pytest.raises(ValueError, match="tag_column=-3"):
        load_conll(two, tag_column=-3)


def test_not_utf8(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("Café B-LOC\n".encode("latin-1"))
    with pytest.raises(ValueError, match="latin1.txt is not UTF-8"):
        load_conll(path)


def test_conll_labels():
    y = [["B-PER", "I-PER", "O"], ["B-LOC"], ["B-MISC", "O"]]
    assert conll_labels(y) == ["O", "B-LOC", "B-MISC", "B-PER", "I-PER"]
    # "O" is there even when no word was outside an entity.
    assert conll_labels([["B-PER"]]) == ["O", "B-PER"]
    with pytest.raises(ValueError, match="single string"):
        conll_labels(["B-PER"])
