"""The linkage engine: roles, features, capped blocking, training, determinism and what it leaves behind."""

from __future__ import annotations

import csv
import json
import logging
import random
from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from awda.errors import ValidationFailed
from awda.linkage.engine import link_records
from awda.linkage.engine_clusters import _regroup
from awda.linkage.features import FeaturePlan, capped_keys_sql, feature_batches, national_phone, parse_birth_date
from awda.linkage.model import build_model
from awda.linkage.roles import check_columns, parse_fields
from tests.test_dedupe import febrl_file

FEBRL1_FIELDS = parse_fields(
    "given_name,family_name=surname,street_number,address=address_1,address=address_2,locality=suburb,"
    "postcode,region=state,birth_date=date_of_birth,id_number=soc_sec_id"
)


def febrl1_rows(limit: int) -> list[dict[str, str]]:
    with febrl_file("dataset1.csv").open(newline="", encoding="utf-8") as handle:
        rows = [{key.strip(): value.strip() for key, value in row.items()} for row in csv.DictReader(handle)]
    return rows[:limit]


def test_fields_spec_names_roles_and_columns() -> None:
    spec = "given_name=first,given_name=first_ar,family_name=surname,sex,birth_date=dob"
    assert parse_fields(spec) == [
        ("given_name", "first"),
        ("given_name", "first_ar"),
        ("family_name", "surname"),
        ("sex", "sex"),
        ("birth_date", "dob"),
    ]
    with pytest.raises(ValidationFailed, match="unknown role 'nickname'"):
        parse_fields("nickname=nick")
    with pytest.raises(ValidationFailed, match="item 2 is empty"):
        parse_fields("sex,,phone")
    with pytest.raises(ValidationFailed, match="row 1, dob: column for role birth_date"):
        check_columns(parse_fields("birth_date=dob"), ["id", "born"], "id")


def test_birth_dates_and_phones_are_read_leniently() -> None:
    assert parse_birth_date("1980-03-02") == parse_birth_date("19800302") == parse_birth_date("02/03/1980")
    assert parse_birth_date("1980-03-02") == date(1980, 3, 2)
    assert [parse_birth_date(text) for text in ("1980-02-30", "1980", "", None, "sometime")] == [None] * 5
    assert national_phone("0944 123 456") == national_phone("+963944123456") == national_phone("00963-944-123456")
    assert national_phone("12") is None


def test_features_keep_every_spelling_and_cap_common_keys() -> None:
    fields = parse_fields("given_name=g1,given_name=g2,family_name=f,birth_year=y,phone")
    plan = FeaturePlan.of(fields, "id")
    rows = [
        {"id": str(n), "g1": "Mohammed", "g2": "Muhammad", "f": "Ahmad", "y": "1980", "phone": ""} for n in range(5)
    ]
    rows.append({"id": "x", "g1": "", "g2": "Ali", "f": "Hasan", "y": "not a year", "phone": "0944123456"})
    table = pa.Table.from_batches(list(feature_batches(rows, plan, batch_rows=2)), schema=plan.schema())
    assert table.num_rows == 6
    first = table.slice(0, 1).to_pylist()[0]
    assert first["given_name_key"] == "mohammed"
    assert first["given_name_keys"] == ["mohammed", "muhammad"]
    assert first["birth_year"] == 1980
    last = table.slice(5, 1).to_pylist()[0]
    assert last["birth_year"] is None and last["phone"] == "944123456" and last["bk_phone"] == "944123456"
    import duckdb

    connection = duckdb.connect()
    connection.register("rows", table)
    capped = connection.sql(
        f"select * from ({capped_keys_sql('rows', plan, cap=3)}) order by unique_id"
    ).to_arrow_table()
    keys = capped.column("bk_names_any_order").to_pylist()
    assert keys[:5] == [None] * 5  # five rows share it, more than the cap of 3
    assert keys[5] is not None  # row "x" sorts last


def test_a_row_without_an_id_is_named() -> None:
    plan = FeaturePlan.of(parse_fields("given_name=g"), "id")
    with pytest.raises(ValidationFailed, match="row 3, id: the id is empty"):
        list(feature_batches([{"id": "1", "g": "Ali"}, {"id": " ", "g": "Omar"}], plan))


def test_the_model_uses_only_roles_present() -> None:
    plan = FeaturePlan.of(parse_fields("full_name=name,birth_year=born"), "id")
    model = build_model(plan)
    names = [comparison.create_output_column_name() for comparison in model.settings.comparisons]  # type: ignore[union-attr]
    assert names == ["full_name", "birth"]
    assert model.em_rules


@pytest.mark.slow
def test_linkage_is_deterministic_quiet_and_cleans_up(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    rows = febrl1_rows(600)
    table = pa.Table.from_pylist(rows)
    caplog.set_level(logging.DEBUG)
    first = link_records(table, FEBRL1_FIELDS, id_column="rec_id", seed=3, workdir=tmp_path / "work")
    second = link_records(rows, FEBRL1_FIELDS, id_column="rec_id", seed=3, workdir=tmp_path / "work")
    assert first.clusters.equals(second.clusters)
    assert first.clusters.num_rows == 600
    assert first.pairs.column_names == ["unique_id_l", "unique_id_r", "match_probability"]
    assert min(first.pairs.column("match_probability").to_pylist()) >= 0.5
    assert first.stats["rows"] == 600 and first.stats["training"][0].startswith("lambda")
    assert list((tmp_path / "work").iterdir()) == []  # the private spill directory is gone
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""  # Splink's INFO logging stays silent
    assert [record for record in caplog.records if record.name.startswith("splink")] == []
    values = {value for row in rows for value in row.values() if len(value) > 3 and value.isalpha()}
    parameters = json.dumps(first.parameters)
    quoted = [value for value in values if f"'{value}'" in parameters or f'"{value}"' in parameters]
    assert quoted == []  # the model holds no record value (as a literal or a JSON string)


GIVEN_VARIANTS = [("Mohammed", "Muhammad"), ("Ahmad", "Ahmed"), ("Yousef", "Yusuf"), ("Hussein", "Husayn")]
GIVEN_VARIANTS += [("Abdulrahman", "Abd al-Rahman"), ("Khaled", "Khalid"), ("Omar", "Umar"), ("Mahmoud", "Mahmud")]
FAMILY_VARIANTS = [("Al-Hassan", "Alhasan"), ("Haddad", "Hadad"), ("Al-Khatib", "El Khateeb"), ("Darwish", "Darweesh")]
FAMILY_VARIANTS += [("Al-Masri", "Elmasry"), ("Shaikh", "Sheikh"), ("Qasim", "Kassem"), ("Al-Ali", "Alali")]


def transliterated_people(count: int, seed: int) -> list[dict[str, str]]:
    """People with common names; every third registered twice, the second time transliterated otherwise."""
    chance = random.Random(seed)
    rows: list[dict[str, str]] = []
    for n in range(count):
        given, family = chance.choice(GIVEN_VARIANTS), chance.choice(FAMILY_VARIANTS)
        born = (date(1940, 1, 1) + timedelta(days=chance.randrange(65 * 365))).isoformat()
        rows.append({"id": f"{n}-a", "given": given[0], "family": family[0], "born": born})
        if n % 3 == 0:
            rows.append({"id": f"{n}-b", "given": given[1], "family": family[1], "born": born})
    return rows


@pytest.mark.slow
def test_the_same_people_transliterated_otherwise_are_found() -> None:
    rows = transliterated_people(900, seed=4)
    fields = parse_fields("given_name=given,family_name=family,birth_date=born")
    found: dict[str, tuple[int, int]] = {}
    for kind in ("awda", "plain"):
        result = link_records(rows, fields, id_column="id", model=kind)  # type: ignore[arg-type]
        ids, cluster_ids = (
            result.clusters.column("unique_id").to_pylist(),
            result.clusters.column("cluster_id").to_pylist(),
        )
        clusters = dict(zip(ids, cluster_ids, strict=True))
        pairs = sum(clusters[f"{n}-a"] == clusters[f"{n}-b"] for n in range(0, 900, 3))
        found[kind] = (pairs, len(rows) - len(set(cluster_ids)))
    pairs, merged = found["awda"]
    assert pairs >= 0.95 * 300, found
    assert merged <= pairs + 3, found  # hardly anyone else merged
    assert pairs >= found["plain"][0], found


def test_a_sparse_record_does_not_chain_two_different_people() -> None:
    """A (a name and a year) looks like both B and C; B and C were compared and differ: A joins B only."""
    edges = [("a", "b", 0.97), ("a", "c", 0.95), ("c", "d", 0.92), ("b", "c", 0.001)]
    groups = _regroup(edges, threshold=0.9)
    assert groups == {"a": "a", "b": "a", "c": "c", "d": "c"}
    assert _regroup([("a", "b", 0.97), ("a", "c", 0.95), ("b", "c", 0.2)], threshold=0.9) == dict.fromkeys("abc", "a")
