import datetime
import os

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from hbwsrc.identifiers import (
    EARLIEST_BIRTH_DATE,
    PROVINCE_CODES,
    USCC_ALPHABET,
    USCC_AUTHORITIES,
    normalize_identifier,
    organisation_code_check_character,
    resident_id_birth_date,
    resident_id_check_character,
    resident_id_sex,
    uscc_check_character,
    validate_id_number,
    validate_other_id,
    validate_resident_id,
    validate_uscc,
)

# These tests need no database; let them run without the project's settings too (e.g. -p no:django).
if "DJANGO_SETTINGS_MODULE" not in os.environ and not settings.configured:
    settings.configure(USE_I18N=False)

RESIDENT_CHECK_CHARACTERS = "0123456789X"


def error_of(validator, *args) -> ValidationError:
    with pytest.raises(ValidationError) as excinfo:
        validator(*args)
    return excinfo.value


def english_message(error: ValidationError) -> str:
    with translation.override("en"):
        return error.messages[0]


def with_resident_check(first17: str) -> str:
    return first17 + resident_id_check_character(first17)


def reference_mod11_2(first17: str) -> str:
    """MOD 11-2 written out from domain.md, to check the implementation against."""
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(char) * weight for char, weight in zip(first17, weights, strict=True))
    return "10X98765432"[total % 11]


def reference_mod31_3(first17: str) -> str:
    """MOD 31-3 written out from domain.md, to check the implementation against."""
    total = sum(USCC_ALPHABET.index(char) * 3**i % 31 for i, char in enumerate(first17))
    return USCC_ALPHABET[(31 - total % 31) % 31]


# normalize_identifier


def test_normalize_converts_full_width_removes_spaces_and_uppercases():
    assert normalize_identifier(" １１０１０５ １９４９１２３１\u3000００２ｘ\n") == "11010519491231002X"
    assert normalize_identifier("11010519491231002x") == "11010519491231002X"
    assert normalize_identifier("９１１１ ００００６０００３７３４１ｌ") == "91110000600037341L"


def test_normalize_leaves_chinese_characters_alone():
    assert normalize_identifier("南字第２０１９００１号") == "南字第2019001号"


# Resident ID


@pytest.mark.parametrize("value", ["11010519491231002X", "440524188001010014"])
def test_standard_examples_are_valid(value):
    validate_resident_id(value)


def test_lowercase_x_is_accepted():
    validate_resident_id("11010519491231002x")


@pytest.mark.parametrize("value", ["11010519491231002X", "440524188001010014"])
def test_every_wrong_check_character_is_rejected(value):
    for char in RESIDENT_CHECK_CHARACTERS.replace(value[-1], ""):
        error = error_of(validate_resident_id, value[:17] + char)
        assert error.code == "check"


def test_check_message_does_not_reveal_the_right_character():
    error = error_of(validate_resident_id, "110105194912310020")
    message = english_message(error)
    assert "check character" in message
    assert "X" not in message
    assert not any(char.isdigit() for char in message)


def test_impossible_date_is_rejected():
    error = error_of(validate_resident_id, with_resident_check("11010519990230001"))
    assert error.code == "date"
    assert "1999-02-30" in english_message(error)


def test_29_february_of_a_leap_year_is_a_real_date():
    validate_resident_id(with_resident_check("42010620000229001"))


@pytest.mark.parametrize("days_ahead", [2, 400])
def test_future_birth_date_is_rejected(days_ahead):
    birth = datetime.date.today() + datetime.timedelta(days=days_ahead)
    error = error_of(validate_resident_id, with_resident_check(f"420106{birth:%Y%m%d}001"))
    assert error.code == "date"
    assert "future" in english_message(error)


def test_birth_date_before_1800_is_rejected():
    error = error_of(validate_resident_id, with_resident_check("42010617991231001"))
    assert error.code == "date"


def test_full_width_digits_are_rejected_raw_but_accepted_after_normalizing():
    raw = "１１０１０５１９４９１２３１００２Ｘ"
    assert error_of(validate_resident_id, raw).code == "character"
    validate_resident_id(normalize_identifier(raw))


def test_other_unicode_digits_are_rejected():
    # Arabic-Indic digits pass str.isdigit() and int().
    assert error_of(validate_resident_id, "١١٠١٠٥١٩٤٩١٢٣١٠٠٢X").code == "character"


def test_15_digit_first_generation_number_is_rejected_with_its_own_message():
    error = error_of(validate_resident_id, "110105491231002")
    assert error.code == "length"
    assert "first-generation" in english_message(error)


@pytest.mark.parametrize("value", ["", "1101051949123100", "11010519491231002X1"])
def test_wrong_length_is_rejected(value):
    error = error_of(validate_resident_id, value)
    assert error.code == "length"
    assert f"got {len(value)}" in english_message(error)


@pytest.mark.parametrize("prefix", ["00", "10", "16", "20", "24", "38", "47", "55", "66", "70", "72", "84", "99"])
def test_unknown_province_prefix_is_rejected(prefix):
    error = error_of(validate_resident_id, with_resident_check(prefix + "010519491231002"))
    assert error.code == "region"


@pytest.mark.parametrize("prefix", ["42", "71", "81", "82", "83"])
def test_province_and_residence_permit_prefixes_are_accepted(prefix):
    validate_resident_id(with_resident_check(prefix + "010519491231002"))


@pytest.mark.parametrize(
    ("value", "position"),
    [
        ("1101051949A231002X", 11),
        ("11010519491231002Y", 18),
        ("X10105194912310021", 1),
        ("1101051949 231002X", 11),
    ],
)
def test_letters_or_spaces_inside_are_rejected_and_located(value, position):
    error = error_of(validate_resident_id, value)
    assert error.code == "character"
    assert error.params["position"] == position


def test_birth_date_and_sex():
    assert resident_id_birth_date("11010519491231002X") == datetime.date(1949, 12, 31)
    assert resident_id_sex("11010519491231002X") == "F"
    assert resident_id_birth_date("440524188001010014") == datetime.date(1880, 1, 1)
    assert resident_id_sex("440524188001010014") == "M"


def test_stdnum_ric_rejects_abolished_county_but_we_accept():
    from stdnum.cn import ric
    from stdnum.exceptions import InvalidComponent

    # 440524 (潮阳县) is dated 1983-1993 in stdnum's table and stdnum compares that with the birth year,
    # but the address code is where the number was first issued and stays valid after the county goes.
    for value in ["440524188001010014", "440524196001010014"]:
        with pytest.raises(InvalidComponent):
            ric.validate(value)
        validate_resident_id(value)


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_resident_check_character_matches_the_published_weights(first17):
    assert resident_id_check_character(first17) == reference_mod11_2(first17)


def test_resident_check_character_refuses_non_ascii_digits():
    with pytest.raises(ValueError):
        resident_id_check_character("１１０１０５１９４９１２３１００２")


@given(
    province=st.sampled_from(sorted(PROVINCE_CODES)),
    county=st.text(alphabet="0123456789", min_size=4, max_size=4),
    birth=st.dates(min_value=EARLIEST_BIRTH_DATE, max_value=datetime.date.today() - datetime.timedelta(days=1)),
    sequence=st.text(alphabet="0123456789", min_size=3, max_size=3),
)
def test_resident_id_property_only_the_computed_check_character_is_valid(province, county, birth, sequence):
    first17 = f"{province}{county}{birth:%Y%m%d}{sequence}"
    check = resident_id_check_character(first17)
    validate_resident_id(first17 + check)
    assert resident_id_birth_date(first17 + check) == birth
    for wrong in RESIDENT_CHECK_CHARACTERS.replace(check, ""):
        assert error_of(validate_resident_id, first17 + wrong).code == "check"


# Unified social credit code


@pytest.mark.parametrize(
    "value",
    [
        "91110000600037341L",
        "91350100M000100Y43",
        # Real codes quoted in public bug reports: a 事业单位 (type 12, like public hospitals) and a
        # 个体工商户 with an MA organisation code.
        "12440600MB2C07549J",
        "92141127MA0KD1Y64A",
    ],
)
def test_valid_uscc(value):
    validate_uscc(value)


def test_standard_worked_example_is_invalid_and_its_correct_ending_is_43():
    # Z is not in the alphabet at all; the correct check character for the first 17 is 3.
    assert error_of(validate_uscc, "91350100M000100Y4Z").code == "character"
    assert uscc_check_character("91350100M000100Y4") == "3"


def test_uscc_every_wrong_check_character_is_rejected():
    for char in USCC_ALPHABET.replace("L", ""):
        assert error_of(validate_uscc, "91110000600037341" + char).code == "check"


@pytest.mark.parametrize("value", ["", "91110000600037341", "91110000600037341L0"])
def test_uscc_wrong_length_is_rejected(value):
    assert error_of(validate_uscc, value).code == "length"


@pytest.mark.parametrize(
    ("value", "position"),
    [
        ("91110000600037341l", 18),
        ("9111000060003734IL", 17),
        ("91110000６00037341L", 9),
        ("9111 000600037341L", 5),
    ],
)
def test_uscc_bad_characters_are_rejected_and_located(value, position):
    error = error_of(validate_uscc, value)
    assert error.code == "character"
    assert error.params["position"] == position


def test_uscc_full_width_accepted_after_normalizing():
    validate_uscc(normalize_identifier("９１１１００００６０００３７３４１ｌ"))


@pytest.mark.parametrize("authority", ["0", "B", "M", "X"])
def test_uscc_unknown_registration_authority_is_rejected(authority):
    first17 = authority + "1110000600037341"
    error = error_of(validate_uscc, first17 + uscc_check_character(first17))
    assert error.code == "authority"


def test_uscc_wrong_organisation_check_character_is_rejected():
    # 91110000600037341L with the organisation check character 1 changed to 2.
    first17 = "91110000600037342"
    error = error_of(validate_uscc, first17 + uscc_check_character(first17))
    assert error.code == "organisation_code"


def test_organisation_check_character_ten_is_x_and_eleven_is_0():
    assert organisation_code_check_character("00000006") == "X"  # sum 12, 11 - 1 = 10
    assert organisation_code_check_character("00000000") == "0"  # sum 0, 11 - 0 = 11


def test_stdnum_uscc_rejects_letter_authority_but_we_accept():
    from stdnum.cn import uscc
    first16 = "N2420106" + "A1234567"
    first17 = first16 + organisation_code_check_character(first16[8:])
    value = first17 + uscc_check_character(first17)
    assert not uscc.is_valid(value)
    validate_uscc(value)


@given(st.text(alphabet=USCC_ALPHABET, min_size=17, max_size=17))
def test_uscc_check_character_matches_the_published_weights(first17):
    assert uscc_check_character(first17) == reference_mod31_3(first17)


@given(
    authority=st.sampled_from(USCC_AUTHORITIES),
    kind=st.sampled_from(USCC_ALPHABET),
    division=st.text(alphabet="0123456789", min_size=6, max_size=6),
    organisation=st.text(alphabet=USCC_ALPHABET, min_size=8, max_size=8),
)
def test_uscc_property_only_the_computed_check_character_is_valid(authority, kind, division, organisation):
    first17 = authority + kind + division + organisation + organisation_code_check_character(organisation)
    check = uscc_check_character(first17)
    validate_uscc(first17 + check)
    for wrong in USCC_ALPHABET.replace(check, ""):
        assert error_of(validate_uscc, first17 + wrong).code == "check"


# Other identity documents


@pytest.mark.parametrize(
    ("id_type", "value"),
    [
        ("passport", "E12345678"),
        ("passport", "G1234"),
        ("passport", "A" * 20),
        ("hk_macao_taiwan", "H12345678"),
        ("hk_macao_taiwan", "0123456789"),
        ("hk_macao_taiwan", "M1234567890"),
        ("military", "南字第2019001号"),
        ("military", "军A1234"),
        ("military", "1234"),
        ("resident", "11010519491231002X"),
        ("temporary", "11010519491231002X"),
    ],
)
def test_other_documents_accept(id_type, value):
    validate_id_number(id_type, value)
    validate_other_id(id_type, value)


@pytest.mark.parametrize(
    ("id_type", "value", "code"),
    [
        ("passport", "E123", "length"),
        ("passport", "A" * 21, "length"),
        ("passport", "e12345678", "character"),
        ("passport", "E1234-5678", "character"),
        ("passport", "Ｅ12345678", "character"),
        ("hk_macao_taiwan", "H123456", "length"),
        ("hk_macao_taiwan", "H12345678901", "length"),
        ("hk_macao_taiwan", "H 12345678", "character"),
        ("military", "南字1", "length"),
        ("military", "南" * 31, "length"),
        ("military", "南字第2019-001号", "character"),
        ("military", "南字第２０１９００１号", "character"),
        ("resident", "110105491231002", "length"),
        ("temporary", "110105194912310020", "check"),
        ("driving_licence", "E12345678", "id_type"),
    ],
)
def test_other_documents_reject(id_type, value, code):
    assert error_of(validate_id_number, id_type, value).code == code
    assert error_of(validate_other_id, id_type, value).code == code


def test_other_document_length_message_names_the_limits():
    message = english_message(error_of(validate_id_number, "hk_macao_taiwan", "H123456"))
    assert message == "Mainland travel permit number must be 8 to 11 characters, got 7."
