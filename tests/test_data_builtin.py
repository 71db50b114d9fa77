"""The built-in corpus (LCCC sample in ecm_tf/data/builtin_corpus/): shipped, intact, read and labelled."""

import gzip
import hashlib
import re
import tomllib

import pytest

from conftest import REPO
from ecm_tf.data import builtin
from ecm_tf.errors import InputError

FOLDER = REPO / "ecm_tf" / "data" / "builtin_corpus"


def test_files_are_the_attributed_copies_with_their_licence():
    readme = (FOLDER / "README.md").read_text(encoding="utf-8")
    assert "MIT License" in (FOLDER / "LICENSE").read_text(encoding="utf-8")
    assert "thu-coai/CDial-GPT" in readme and "lemon234071" in readme
    for name in builtin.FILES.values():
        digest = hashlib.sha256(gzip.decompress((FOLDER / name).read_bytes())).hexdigest()
        assert re.search(rf"`{re.escape(name)}` .*`{digest}`", readme), name


def test_package_data_lists_the_files():
    data = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = data["tool"]["setuptools"]["package-data"]["ecm_tf.data"]
    shipped = {p.name for p in FOLDER.iterdir()}
    assert shipped == {"LICENSE", "README.md", *builtin.FILES.values()}
    assert {"builtin_corpus/*.gz", "builtin_corpus/LICENSE", "builtin_corpus/README.md"} <= set(patterns)


def test_splits_are_read_and_rejoined():
    splits = builtin.load_splits()
    assert len(splits["train"]) == 10000 and len(splits["dev"]) == 2000
    first = splits["train"][0]
    assert first.post == "为什么听一面之辞就相信？只有当事人才能知道吧，咱们旁观者并不知道真相啊"
    assert first.response_emotion is None and first.where == "lccc_toy_train.txt.gz:1"
    assert len(builtin.load_pairs()) == 12000


@pytest.mark.parametrize("content, fragment", [
    ("你 好\t我 很 好\n只 有 一 列\n", "bad.txt.gz:2: expected post<TAB>response, got 1 column(s)"),
    ("你 好\t \n", "bad.txt.gz:1: empty response"),
])
def test_bad_lines_name_file_and_line(tmp_path, content, fragment):
    path = tmp_path / "bad.txt.gz"
    path.write_bytes(gzip.compress(content.encode("utf-8")))
    with pytest.raises(InputError, match=re.escape(fragment)):
        builtin.read_file(str(path))


def test_missing_or_damaged_file_is_one_line(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        builtin.read_file(str(tmp_path / "nope.txt.gz"))
    (tmp_path / "broken.txt.gz").write_bytes(b"not gzip")
    with pytest.raises(InputError, match="not a readable gzip file"):
        builtin.read_file(str(tmp_path / "broken.txt.gz"))
    path = tmp_path / "utf.txt.gz"
    path.write_bytes(gzip.compress("你 好\t好\n".encode() + b"\xff\tx\n"))
    with pytest.raises(InputError, match=re.escape("utf.txt.gz:2: invalid UTF-8")):
        builtin.read_file(str(path))
