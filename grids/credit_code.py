"""The unified social credit code (统一社会信用代码) of an organisation, GB 32100-2015.

Every enterprise, public institution, social organisation and individual business in China has
one 18-character code, printed on its business licence:

    position 1       registration management authority (登记管理部门代码)
    position 2       organisation type under that authority (机构类别代码)
    positions 3-8    administrative division code of the registering authority (GB/T 2260)
    positions 9-17   organisation code (组织机构代码, GB 11714-1997): an 8-character body and its
                     own check character (MOD 11)
    position 18      check character of the whole code (MOD 31)

Both check characters are verified so that a mistyped code is rejected when it is entered rather
than surfacing later as an organisation nobody can find.
"""

import string

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# The standard's character set: digits and capital letters except I, O, S, V and Z.
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
# str.isdigit() would also accept other scripts' digits.
DIGITS = "0123456789"
# str.upper() would turn "ß" into "SS" and change the length the user is told about.
_ASCII_UPPER = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)
_VALUE = {char: value for value, char in enumerate(ALPHABET)}
# Weight of position i (1-based) is 3**(i-1) mod 31.
_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

# Registration management authorities from the standard's table: 1 机构编制, 5 民政,
# 9 工商/市场监管, Y 其他, plus the other departments listed there (2-4, 6-8, A, N).
REGISTRATION_AUTHORITIES = "123456789ANY"

_ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

LENGTH = 18


def _org_code_value(char: str) -> int:
    # GB 11714 values letters A-Z as 10-35, independently of the credit code's reduced alphabet.
    return int(char) if char in DIGITS else ord(char) - ord("A") + 10


def _org_code_check_char(body: str) -> str:
    total = sum(_org_code_value(c) * w for c, w in zip(body, _ORG_CODE_WEIGHTS, strict=True))
    check = 11 - total % 11
    if check == 10:
        return "X"
    if check == 11:
        return "0"
    return str(check)


def credit_code_check_char(first17: str) -> str:
    """The 18th (check) character of a credit code, from its first 17 characters."""
    if len(first17) != LENGTH - 1 or any(c not in _VALUE for c in first17):
        raise ValueError(f"Expected 17 characters from {ALPHABET!r}, got {first17!r}.")
    total = sum(_VALUE[c] * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def credit_code_validate(code: str) -> str:
    """Return `code` stripped and upper-cased, or raise ValidationError saying what is wrong."""
    code = code.strip().translate(_ASCII_UPPER)
    if len(code) != LENGTH:
        raise ValidationError(
            _("A unified social credit code has 18 characters, not %(n)d."),
            code="length",
            params={"n": len(code)},
        )
    for position, char in enumerate(code, start=1):
        if char not in _VALUE:
            raise ValidationError(
                _(
                    "Character %(position)d “%(char)s” cannot appear in a unified social credit "
                    "code (only digits and capital letters except I, O, S, V and Z)."
                ),
                code="character",
                params={"position": position, "char": char},
            )
    if code[0] not in REGISTRATION_AUTHORITIES:
        raise ValidationError(
            _(
                "The first character “%(char)s” is not a registration authority code "
                "(1-9, A, N or Y)."
            ),
            code="registration",
            params={"char": code[0]},
        )
    if any(c not in DIGITS for c in code[2:8]):
        raise ValidationError(
            _("Characters 3 to 8 must be the 6-digit administrative division code."),
            code="division",
        )
    expected_org_check = _org_code_check_char(code[8:16])
    if code[16] != expected_org_check:
        raise ValidationError(
            _(
                "The organisation code check character (character 17) should be "
                "“%(expected)s”, not “%(char)s”."
            ),
            code="org_code_check",
            params={"expected": expected_org_check, "char": code[16]},
        )
    expected_check = credit_code_check_char(code[:17])
    if code[17] != expected_check:
        raise ValidationError(
            _("The check character (character 18) should be “%(expected)s”, not “%(char)s”."),
            code="check",
            params={"expected": expected_check, "char": code[17]},
        )
    return code


def credit_code_make(registration: str, org_type: str, division: str, org_body: str) -> str:
    """A valid credit code from its parts, with both check characters computed (for demo data).

    `org_body` is the 8-character organisation code body, without its check character.
    """
    if len(registration) != 1 or registration not in REGISTRATION_AUTHORITIES:
        raise ValueError(f"Unknown registration authority {registration!r}.")
    if len(org_type) != 1 or org_type not in _VALUE:
        raise ValueError(f"Organisation type {org_type!r} is not one character of {ALPHABET!r}.")
    if len(division) != 6 or any(c not in DIGITS for c in division):
        raise ValueError(f"Division {division!r} is not a 6-digit code.")
    if len(org_body) != 8 or any(c not in _VALUE for c in org_body):
        raise ValueError(
            f"Organisation code body {org_body!r} is not 8 characters of {ALPHABET!r}."
        )
    first17 = registration + org_type + division + org_body + _org_code_check_char(org_body)
    return first17 + credit_code_check_char(first17)
