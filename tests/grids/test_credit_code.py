"""Unified social credit codes (GB 32100-2015) and their two check characters."""

import random
import re

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from grids.credit_code import (
    ALPHABET,
    credit_code_check_char,
    credit_code_make,
    credit_code_validate,
)

PUBLISHED = ["91350100M000100Y43", "91110000600037341L"]


@pytest.fixture(autouse=True)
def english():
    """Messages are asserted as their English msgids, whatever translations are compiled."""
    with translation.override("en"):
        yield


def _rejection(code):
    with pytest.raises(ValidationError) as error:
        credit_code_validate(code)
    return error.value


@pytest.mark.parametrize("code", PUBLISHED)
def test_published_codes_are_valid(code):
    assert credit_code_validate(code) == code


@pytest.mark.parametrize(
    ("parts", "code"),
    [
        (("9", "1", "350100", "M000100Y"), "91350100M000100Y43"),
        (("9", "1", "110000", "60003734"), "91110000600037341L"),
    ],
)
def test_making_a_code_from_its_parts_reproduces_the_published_codes(parts, code):
    assert credit_code_make(*parts) == code


def test_a_made_code_is_valid():
    code = credit_code_make(registration="5", org_type="2", division="320104", org_body="MJ4NX7Q8")

    assert credit_code_validate(code) == code
    assert code[:16] == "52320104MJ4NX7Q8"


def test_the_check_character_of_the_published_code():
    assert credit_code_check_char("91350100M000100Y4") == "3"
    assert credit_code_check_char("91110000600037341") == "L"


def test_a_weighted_sum_divisible_by_31_gives_check_character_zero():
    # 31 - 0 would be 31, one past the alphabet; the standard maps it to "0".
    code = credit_code_make("9", "1", "320104", "00000012")

    assert code == "913201040000001230"
    assert credit_code_validate(code) == code


@pytest.mark.parametrize(("body", "org_check"), [("10000018", "X"), ("10000004", "0")])
def test_the_organisation_code_check_can_be_x_or_zero(body, org_check):
    code = credit_code_make("9", "1", "320104", body)

    assert code[16] == org_check
    assert credit_code_validate(code) == code


def test_input_is_stripped_and_upper_cased():
    assert credit_code_validate("  91350100m000100y43\n") == "91350100M000100Y43"


def test_a_non_ascii_letter_is_named_rather_than_upper_cased_away():
    error = _rejection("91350100M000100Yß3")

    assert error.code == "character"
    assert error.messages == [
        "Character 17 “ß” cannot appear in a unified social credit code "
        "(only digits and capital letters except I, O, S, V and Z)."
    ]


@pytest.mark.parametrize(
    ("code", "n"), [("", 0), ("9135010M000100Y43", 17), ("91350100M000100Y430", 19)]
)
def test_a_code_of_the_wrong_length_is_rejected(code, n):
    error = _rejection(code)

    assert error.code == "length"
    assert error.messages == [f"A unified social credit code has 18 characters, not {n}."]


@pytest.mark.parametrize(
    ("code", "position", "char"),
    [
        ("91350100M000100I43", 16, "I"),
        ("91350100MO00100Y43", 10, "O"),
        ("9135010OM000100Y4I", 8, "O"),  # the first bad character is named
        ("91350100M000100Y4-", 18, "-"),
    ],
)
def test_a_character_outside_the_alphabet_is_rejected_by_position(code, position, char):
    error = _rejection(code)

    assert error.code == "character"
    assert error.messages == [
        f"Character {position} “{char}” cannot appear in a unified social credit code "
        "(only digits and capital letters except I, O, S, V and Z)."
    ]


@pytest.mark.parametrize("first", ["0", "B", "X"])
def test_an_unknown_registration_authority_is_rejected(first):
    error = _rejection(first + "1350100M000100Y43")

    assert error.code == "registration"
    assert error.messages == [
        f"The first character “{first}” is not a registration authority code (1-9, A, N or Y)."
    ]


@pytest.mark.parametrize("first", ["1", "5", "9", "Y", "A", "N"])
def test_every_registration_authority_of_the_standard_is_accepted(first):
    code = credit_code_make(first, "1", "350100", "M000100Y")

    assert credit_code_validate(code) == code


def test_a_division_code_with_a_letter_is_rejected():
    error = _rejection("91350A00M000100Y43")

    assert error.code == "division"
    assert error.messages == ["Characters 3 to 8 must be the 6-digit administrative division code."]


def test_a_wrong_organisation_code_check_character_is_rejected():
    error = _rejection("91350100M000100Y53")

    assert error.code == "org_code_check"
    assert error.messages == [
        "The organisation code check character (character 17) should be “4”, not “5”."
    ]


def test_a_wrong_final_check_character_names_the_expected_one():
    error = _rejection("91350100M000100Y44")

    assert error.code == "check"
    assert error.messages == ["The check character (character 18) should be “3”, not “4”."]


def test_the_final_check_catches_what_the_mod_11_organisation_check_misses():
    # given a typo "0" → "B" in the organisation code: B is worth 11, invisible modulo 11
    code = "91350100MB00100Y43"

    # then the organisation code check still passes, and the final MOD 31 check catches it
    error = _rejection(code)
    assert error.code == "check"
    assert error.messages == ["The check character (character 18) should be “R”, not “3”."]


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        (("B", "1", "320104", "MJ4NX7Q8"), "registration authority"),
        (("9", "I", "320104", "MJ4NX7Q8"), "Organisation type"),
        (("9", "1", "32010", "MJ4NX7Q8"), "6-digit"),
        (("9", "1", "32010A", "MJ4NX7Q8"), "6-digit"),
        (("9", "1", "320104", "MJ4NX7Q"), "Organisation code body"),
        (("9", "1", "320104", "mj4nx7q8"), "Organisation code body"),
    ],
)
def test_making_a_code_from_bad_parts_is_a_programming_error(parts, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        credit_code_make(*parts)


@pytest.mark.parametrize("first17", ["91350100M000100Y", "91350100M000100Y4Z", "91350100M000100I4"])
def test_the_check_character_needs_17_characters_of_the_alphabet(first17):
    with pytest.raises(ValueError, match="17 characters"):
        credit_code_check_char(first17)


def _random_codes(count=500, seed=32100):
    rng = random.Random(seed)
    return [
        credit_code_make(
            registration=rng.choice("123456789ANY"),
            org_type=rng.choice(ALPHABET),
            division="".join(rng.choices("0123456789", k=6)),
            org_body="".join(rng.choices(ALPHABET, k=8)),
        )
        for _ in range(count)
    ]


def test_every_single_character_substitution_is_rejected():
    # given 500 valid codes
    codes = _random_codes()
    assert all(credit_code_validate(code) == code for code in codes)

    # when any one character is replaced by any other character of the alphabet
    typos = 0
    accepted = []
    missed_by_final_check = []
    for code in codes:
        for i, original in enumerate(code):
            for char in ALPHABET.replace(original, ""):
                typo = code[:i] + char + code[i + 1 :]
                typos += 1
                try:
                    credit_code_validate(typo)
                except ValidationError:
                    pass
                else:
                    accepted.append(typo)
                if credit_code_check_char(typo[:17]) == typo[17]:
                    missed_by_final_check.append(typo)

    # then none of the 500 × 18 × 30 typos is accepted
    assert typos == 270_000
    assert accepted == []
    # and the MOD 31 check character alone catches every one of them, in whichever position
    # (registration authority, type, division, organisation code or the check itself): each
    # weight is non-zero modulo the prime 31, so changing one value always changes the sum.
    assert missed_by_final_check == []
