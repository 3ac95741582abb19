"""`awda names compare` as a user runs it, through the real entry point (no database involved)."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from awda.cli.main import main
from tests.conftest import Done

Run = Callable[..., Done]


@pytest.fixture
def names(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Run:
    def run(*arguments: str, expect: int = 0) -> Done:
        monkeypatch.setattr(sys, "argv", ["awda", "names", *arguments])
        code = 0
        try:
            main()
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        out, err = capsys.readouterr()
        assert code == expect, err
        assert "Traceback" not in err
        return Done(code, out, err)

    return run


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_text(text, encoding=encoding, newline="")
    return path


def test_two_names_as_json_and_as_a_line(names: Run) -> None:
    done = names("compare", "محمد أحمد الحسيني", "Mohammed Ahmad al-Hussaini", "--json")
    line = done.stdout.strip()
    data = json.loads(line)
    assert list(data) == ["score", "match"] and data["match"] is True
    assert line == f'{{"score": {data["score"]}, "match": true}}'
    assert data["score"] == round(data["score"], 4)
    assert json.loads(names("compare", "Mohammed", "Mahmoud", "--json").stdout) == {"score": 0.0, "match": False}
    assert names("compare", "Khaled", "Khalid").stdout.startswith("match (score ")
    assert names("compare", "Ahmad", "Hamad").stdout.startswith("no match (score ")


def test_an_hxl_pairs_file_keeps_its_hashtag_row(names: Run, tmp_path: Path) -> None:
    source = write(tmp_path / "pairs.csv", "name_a,name_b\n#x_name+a,#x_name+b\nKhaled,Khalid\n")
    out = tmp_path / "out.csv"
    assert json.loads(names("compare", "--pairs", str(source), "--out", str(out), "--json").stdout)["rows"] == 1
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[1] == ["#x_name+a", "#x_name+b", "#x_score+num", "#x_match"]
    assert rows[2][0] == "Khaled" and rows[2][3] == "true" and len(rows) == 3


def test_a_pairs_file_comes_back_with_score_and_match(names: Run, tmp_path: Path) -> None:
    source = write(
        tmp_path / "pairs.csv",
        "\ufeffid,name_a,note,name_b\r\n"
        "1,محمد,x,Mohammed\r\n"
        '2,Ahmad,"a, b",Hamad\r\n'
        "3,=HYPERLINK(1),,Khaled\r\n"
        "4,,,Ali\r\n",
    )
    out = tmp_path / "out.csv"
    summary = json.loads(names("compare", "--pairs", str(source), "--out", str(out), "--json").stdout)
    assert summary == {"rows": 4, "matches": 1, "out": str(out)}
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["id", "name_a", "note", "name_b", "score", "match"]
    assert rows[1][:4] == ["1", "محمد", "x", "Mohammed"] and rows[1][5] == "true" and float(rows[1][4]) >= 0.5
    assert rows[2][:4] == ["2", "Ahmad", "a, b", "Hamad"] and rows[2][5] == "false"
    assert rows[3][1] == "'=HYPERLINK(1)"  # the project's CSV writer guards formulas
    assert rows[4][4:] == ["0.0", "false"]
    text = names("compare", "--pairs", str(source), "--out", str(out)).stdout
    assert text.strip() == f"4 pairs, 1 matches: {out}"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("name_a,other\nAli,Ali\n", "error: row 1, name_b: missing column"),
        ("name_a,name_b\nAli,Ali\nOmar,Um\x00ar\n", "error: row 3, name_b: contains a NUL character"),
        ("name_a,name_b\nAli,Ali\nOmar\n", "error: row 3, file: has 1 cells where the header has 2"),
        ("", "error: file: is empty"),
    ],
)
def test_a_bad_file_is_one_line_exit_1_and_no_output(names: Run, tmp_path: Path, content: str, message: str) -> None:
    source = write(tmp_path / "pairs.csv", content)
    out = tmp_path / "out.csv"
    done = names("compare", "--pairs", str(source), "--out", str(out), expect=1)
    assert done.stderr.startswith(message)
    assert len(done.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_an_unreadable_or_absent_file(names: Run, tmp_path: Path) -> None:
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("name_a,name_b\nJos\xe9,Jos\xe9\n".encode("latin-1"))
    out = tmp_path / "out.csv"
    assert "not UTF-8" in names("compare", "--pairs", str(latin1), "--out", str(out), expect=1).stderr
    assert not out.exists()
    absent = str(tmp_path / "absent.csv")
    assert "does not exist" in names("compare", "--pairs", absent, "--out", str(out), expect=1).stderr
    assert not out.exists()


def test_an_output_that_cannot_be_written(names: Run, tmp_path: Path) -> None:
    source = write(tmp_path / "pairs.csv", "name_a,name_b\nAli,Ali\n")
    done = names("compare", "--pairs", str(source), "--out", str(tmp_path / "absent" / "out.csv"), expect=1)
    assert done.stderr.startswith("error: out: cannot be written")
    same = names("compare", "--pairs", str(source), "--out", str(source), expect=1)
    assert same.stderr.startswith("error: out: must not be the input file")
    assert source.read_text(encoding="utf-8") == "name_a,name_b\nAli,Ali\n"


def test_wrong_use_is_a_usage_error(names: Run, tmp_path: Path) -> None:
    names("compare", "Ali", expect=2)
    names("compare", "--pairs", str(tmp_path / "p.csv"), expect=2)
    names("compare", "Ali", "Omar", "--out", str(tmp_path / "o.csv"), expect=2)
