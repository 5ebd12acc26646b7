"""Reading corpora: files, directories, blank-line documents, sentences."""

from keras_albert.pretraining.documents import iter_documents
from keras_albert.pretraining.documents import read_documents
from keras_albert.pretraining.documents import split_sentences


def test_split_sentences():
    text = ("Dr. Smith went to Washington. He arrived at 5 p.m. on Monday! "
            "Did he stay, e.g. for lunch? \"Yes,\" said J. Doe. 3 days later "
            "he left.")
    assert split_sentences(text) == [
        "Dr. Smith went to Washington.",
        "He arrived at 5 p.m. on Monday!",
        "Did he stay, e.g. for lunch?",
        "\"Yes,\" said J. Doe.",
        "3 days later he left.",
    ]
    assert split_sentences("  ") == []
    assert split_sentences("no end") == ["no end"]


def test_read_documents_blank_lines_and_files(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.txt").write_text(
        "First sentence.\nSecond sentence.\n\n\nOther doc. Two sentences.\n")
    (tmp_path / "sub" / "b.txt").write_text("Last file line")
    (tmp_path / "ignored.md").write_text("Not a corpus file.")
    docs = list(read_documents(tmp_path))
    assert docs == [["First sentence.", "Second sentence."],
                    ["Other doc.", "Two sentences."],
                    ["Last file line"]]
    # One line = one sentence when splitting is off (the original format).
    docs = list(read_documents([tmp_path / "a.txt"], split_sentences=False,
                               min_sentences=2, progress=True))
    assert docs == [["First sentence.", "Second sentence."]]
    assert list(read_documents(str(tmp_path / "*.txt"))) == docs[:1] + [
        ["Other doc.", "Two sentences."]]


def test_iter_documents_forms(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("One. Two.\n\nThree.\n")
    assert list(iter_documents(str(path))) == [["One.", "Two."], ["Three."]]
    assert list(iter_documents([path])) == [["One.", "Two."], ["Three."]]
    pairs = [("json", ["A b c.", "D e f."]), ("email", ["G h."])]
    assert list(iter_documents(pairs)) == [["A b c.", "D e f."], ["G h."]]
    assert list(iter_documents([["X y.", " "], ["Z."]])) == [["X y."],
                                                           ["Z."]]
    texts = ["Alpha beta. Gamma delta.\n\nNew doc here.", "Single text."]
    assert list(iter_documents(iter(texts))) == [
        ["Alpha beta.", "Gamma delta."], ["New doc here."], ["Single text."]]
