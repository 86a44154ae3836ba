"""personal_numbers_mask: phone and ID-card numbers inside free text, masked; nothing else."""

import pytest

from enforcement.privacy import id_number_mask, personal_numbers_mask


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        # mainland mobiles, as people write them
        ("电话13812345678联系", "电话138****5678联系"),
        ("138 1234 5678", "138******5678"),
        ("138-1234-5678", "138******5678"),
        ("+8613812345678", "+86*******5678"),
        ("+86 138 1234 5678", "+86**********5678"),
        ("008613812345678", "008********5678"),
        ("１３８１２３４５６７８", "１３８****５６７８"),  # full-width digits from an input method
        ("13812345678/13912345678", "138****5678/139****5678"),
        # landlines with their area code
        ("025-84421234", "025*****1234"),
        ("(025)84421234", "(02******1234"),
        ("（025）84421234", "（02******1234"),
        ("0571 8888 6666", "057*******6666"),
        ("010-6552 1234", "010******1234"),
        ("+86 25 8442 1234", "+86*********1234"),
        ("+86-10-65521234", "+86********1234"),
        # ID cards: 18 digits (or 17 and X), the first generation's 15
        ("身份证110101199003071234", "身份证1101**********1234"),
        ("11010119900307123X", "1101**********123X"),
        ("11010119900307123x号", "1101**********123x号"),
        ("110101 19900307 1234", "1101************1234"),
        ("110101900307123", "1101*******7123"),
    ],
)
def test_phone_and_id_numbers_are_masked_where_they_stand(text, masked):
    assert personal_numbers_mask(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "",
        "人行道上摆摊，影响通行",
        "订单号202503101234567890",  # a longer run of digits is no phone
        "138123456789",  # twelve digits
        "1381234567",  # ten digits
        "金额12000元，12345热线转办",
        "案号320104001000-2025-000123",
        "2025-03-10 09:00 到场",
        "0001234567",  # no area code starts 00
        "11010119901307123X",  # month 13: no birth date
        "应天大街88号2栋301室",
        "400-123-4567",  # a company's hotline, not a landline with an area code
    ],
)
def test_text_without_personal_numbers_comes_back_unchanged(text):
    assert personal_numbers_mask(text) == text


def test_an_id_number_keeps_its_first_and_last_four():
    assert id_number_mask("110101199003071234") == "1101**********1234"
    assert id_number_mask("110101900307123") == "1101*******7123"
