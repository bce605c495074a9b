"""Pure checks of the forms domain: マイナンバー check digits, definitions, encryption."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import InvalidToken

from cityos.core.errors import ValidationProblem
from cityos.forms import service
from cityos.forms.catalog import form_rows
from cityos.settings import Settings


@pytest.mark.parametrize("number", ["123456789018", "000000000000"])
def test_valid_my_numbers(number: str) -> None:
    assert service.my_number_is_valid(number)


@pytest.mark.parametrize(
    "number",
    ["123456789010", "12345678901", "1234567890188", "12345678901a", "１２３４５６７８９０１８"],
)
def test_wrong_my_numbers_are_refused(number: str) -> None:
    assert not service.my_number_is_valid(number)


def test_my_numbers_are_shown_masked() -> None:
    assert service.masked("123456789018") == "●●●●●●●●9018"


def test_the_shipped_forms_are_valid_definitions() -> None:
    rows = form_rows()
    assert {r["id"] for r in rows} >= {"tennyu-pre", "jido-teate-nintei", "juminhyo-request"}
    for row in rows:
        service.check_definition(row)


def test_a_bad_definition_lists_every_problem() -> None:
    bad = {
        "title_ja": "",
        "title_en": "x",
        "department_ja": "市民課",
        "department_en": "x",
        "fields": [
            {"name": "a", "type": "colour", "label_ja": "a", "label_en": "a"},
            {"name": "a", "type": "choice", "label_ja": "b", "label_en": "b", "choices": []},
            {
                "name": "f",
                "type": "file",
                "label_ja": "f",
                "label_en": "f",
                "accept": ["text/x-sh"],
            },
        ],
    }
    with pytest.raises(ValidationProblem) as caught:
        service.check_definition(bad)
    problems = " ".join(caught.value.errors["definition"])
    for expected in ("title_ja", "fields[0]: type", "duplicate name a", "choices", "accept"):
        assert expected in problems


def test_my_numbers_are_encrypted_with_the_settings_key(tmp_path: Path) -> None:
    one = service.cipher(Settings(data_dir=tmp_path, secret_key="k" * 40))
    other = service.cipher(Settings(data_dir=tmp_path, secret_key="z" * 40))
    token = one.encrypt(b"123456789018")
    assert b"123456789018" not in token
    assert one.decrypt(token) == b"123456789018"
    with pytest.raises(InvalidToken):
        other.decrypt(token)


def test_postcodes_name_their_town() -> None:
    found = service.postcode_lookup("〒181-8555")
    assert found is not None
    assert found["city"] == "三鷹市"
    assert service.postcode_lookup("000-0000") is None
