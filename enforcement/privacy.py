"""Personal numbers hidden inside free text (Personal Information Protection Law, Art. 4 and 51:
a phone number or an ID-card number identifies a person, so text shown to whoever does not need
them carries them masked). The fields made for them (a reporter's phone) are masked where they
are read; this module is for what people type into descriptions and addresses."""

from __future__ import annotations

import re

from grids.selectors import phone_mask

# Full-width digits and signs (typed by Chinese input methods) read as their ASCII forms: one
# character for one, so a match in the translated text is the same span in the original.
_FULL_WIDTH = str.maketrans("０１２３４５６７８９＋－（）　", "0123456789+-() ")
_SEP = r"[ -]?"  # one space or hyphen between groups: 138 1234 5678, 025-84421234
_COUNTRY = r"\(?(?:\+|00)86\)?" + _SEP  # +86, (+86), 0086
_DAY = r"(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])"  # MMDD
# GB 11643-1999, 居民身份证号码: 6-digit area code, birth date, 3-digit order, check digit (0-9
# or X); the first generation's 15 digits had a 2-digit year and no check digit. The check digit
# is not verified: a mistyped number is still someone's.
_ID_18 = rf"[1-9][0-9]{{5}}{_SEP}(?:18|19|20)[0-9]{{2}}{_DAY}{_SEP}[0-9]{{3}}[0-9Xx]"
_ID_15 = rf"[1-9][0-9]{{5}}{_SEP}[0-9]{{2}}{_DAY}{_SEP}[0-9]{{3}}"
# Mainland mobile numbers: 1, then 3-9, then nine digits (MIIT numbering plan), grouped 3-4-4.
_MOBILE = rf"(?:{_COUNTRY})?1[3-9][0-9](?:{_SEP}[0-9]{{4}}){{2}}"
# Landlines: area code 0 + 2 or 3 digits (010, 025, 0571), then a local number of 7 or 8 digits
# that never starts with 0 or 1; from abroad the area code's 0 is dropped (+86 25 8442 1234).
_LOCAL = rf"[2-9][0-9]{{2,3}}{_SEP}[0-9]{{4}}"
_LANDLINE = rf"(?:\(0[1-9][0-9]{{1,2}}\)|0[1-9][0-9]{{1,2}}){_SEP}{_LOCAL}"
_LANDLINE_ABROAD = rf"{_COUNTRY}(?:\(0\))?[1-9][0-9]{{1,2}}{_SEP}{_LOCAL}"
# Longest forms first, and never part of a longer run of digits (an order number, an amount).
_PERSONAL_NUMBER = re.compile(
    rf"(?<![0-9])(?:(?P<id>{_ID_18}|{_ID_15})|{_MOBILE}|{_LANDLINE_ABROAD}|{_LANDLINE})(?![0-9])",
    re.ASCII,
)


def id_number_mask(number: str) -> str:
    """1101**********1234: the first four characters (province and city) and the last four."""
    return f"{number[:4]}{'*' * (len(number) - 8)}{number[-4:]}"


def personal_numbers_mask(text: str) -> str:
    """``text`` with every phone number (mainland mobile, landline with its area code, with or
    without +86 and separators) masked as grids.selectors.phone_mask does (138****5678), and
    every ID-card number (18 digits or 17 and X; the old 15) as id_number_mask (1101…1234).
    Everything else is left as it is; a text without such numbers comes back unchanged."""
    if not text:
        return text
    pieces, start = [], 0
    for found in _PERSONAL_NUMBER.finditer(text.translate(_FULL_WIDTH)):
        number = text[found.start() : found.end()]
        pieces += [
            text[start : found.start()],
            id_number_mask(number) if found["id"] else phone_mask(number),
        ]
        start = found.end()
    return "".join(pieces) + text[start:]
