"""The institution's own profile: validation, who may edit it, what the offices above see, audit and cost."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone, translation
from guardian.shortcuts import assign_perm

from accounts.models import AuditEvent
from hbwsrc import identifiers
from institutions import actions
from institutions.models import Institution

VALID_USCC = "91110000600037341L"  # domain.md section 6


def make_uscc(first8: str, organisation8: str) -> str:
    """A valid unified social credit code from an authority/type/division prefix and an organisation code."""
    first17 = first8 + organisation8 + identifiers.organisation_code_check_character(organisation8)
    return first17 + identifiers.uscc_check_character(first17)


OTHER_USCC = make_uscc("12420106", "42000011")
LICENCE_NUMBER = "4201060012345678A10011"  # 22 characters

FULL_PROFILE = {
    "uscc": VALID_USCC,
    "licence_number": LICENCE_NUMBER,
    "licence_valid_until": "2030-12-31",
    "category": "A",
    "category_code": "A100",
    "level": "2",
    "grade": "A",
    "ownership": "public",
    "profit_status": "non_profit",
    "address": "湖北省武汉市武昌区解放路 1 号",
    "head_name": "张三",
    "contact_person": "李四",
    "contact_phone": "027-88886666",
    "departments": "内科\n外科\n妇产科",
}


def profile_url(institution) -> str:
    return reverse("institutions:institution_profile", args=[institution.public_id])


def post_profile(client, institution, follow=False, **changes):
    return client.post(profile_url(institution), {**FULL_PROFILE, **changes}, follow=follow)


def form_error_codes(response, field) -> set[str]:
    return {error.code for error in response.context["form"].errors.as_data().get(field, [])}


def page_messages(response) -> dict[str, list[str]]:
    found = {}
    for message in response.context["messages"]:
        found.setdefault(message.level_tag, []).append(str(message))
    return found


def reload(institution) -> Institution:
    return Institution.objects.get(pk=institution.pk)


def assert_nothing_saved(institution):
    stored = reload(institution)
    assert (stored.uscc, stored.licence_number, stored.address, stored.departments) == ("", "", "", [])


# --- saving ------------------------------------------------------------------------------------------------------


def test_a_new_institution_has_an_incomplete_profile_and_the_page_says_what_is_missing(world):
    response = world.client_for(world.master).get(profile_url(world.wuchang_hospital))
    assert response.status_code == 200
    assert not world.wuchang_hospital.profile_complete
    content = response.content.decode()
    for name in ("uscc", "licence_number", "departments"):
        assert str(Institution._meta.get_field(name).verbose_name) in content
    assert 'class="notice profile-status"' in content


def test_master_saves_a_full_profile_and_it_is_complete(world):
    response = post_profile(world.client_for(world.master), world.wuchang_hospital, follow=True)
    assert response.redirect_chain[-1][0] == world.wuchang_hospital.get_absolute_url()
    stored = reload(world.wuchang_hospital)
    assert stored.profile_complete
    assert stored.missing_profile_fields == []
    assert Institution.objects.profile_complete().filter(pk=stored.pk).exists()
    assert stored.uscc == VALID_USCC
    assert stored.licence_valid_until == datetime.date(2030, 12, 31)
    assert stored.departments == ["内科", "外科", "妇产科"]
    assert "warning" not in page_messages(response)
    assert 'class="muted profile-status"' in response.content.decode()


def test_a_partial_profile_may_be_saved_and_lists_what_is_missing(world):
    data = dict.fromkeys(FULL_PROFILE, "")
    data.update(address="武昌区解放路 1 号", head_name="张三")
    client = world.client_for(world.master)
    response = client.post(profile_url(world.wuchang_hospital), data)
    assert response.status_code == 302
    stored = reload(world.wuchang_hospital)
    assert (stored.address, stored.head_name, stored.uscc) == ("武昌区解放路 1 号", "张三", "")
    assert not stored.profile_complete
    missing = [str(name) for name in stored.missing_profile_fields]
    assert str(Institution._meta.get_field("uscc").verbose_name) in missing
    assert str(Institution._meta.get_field("address").verbose_name) not in missing
    page = client.get(world.wuchang_hospital.get_absolute_url()).content.decode()
    assert 'class="notice profile-status"' in page
    assert all(name in page for name in missing)


def test_the_form_shows_the_stored_departments_one_per_line(world):
    post_profile(world.client_for(world.master), world.wuchang_hospital)
    response = world.client_for(world.master).get(profile_url(world.wuchang_hospital))
    assert "内科\n外科\n妇产科</textarea>" in response.content.decode()


# --- unified social credit code ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "９１１１００００６０００３７３４１Ｌ",  # full width
        "91110000600037341l",  # lowercase
        " 9111 0000 6000 3734 1L ",  # spaces between groups
        "９１１１\u3000００００ ６０００３７３４１ｌ",  # full width, ideographic space, lowercase
    ],
)
def test_uscc_is_normalized_before_it_is_validated_and_stored(world, typed):
    response = post_profile(world.client_for(world.master), world.wuchang_hospital, uscc=typed)
    assert response.status_code == 302, response.context["form"].errors
    assert reload(world.wuchang_hospital).uscc == VALID_USCC


@pytest.mark.parametrize(
    "uscc, code",
    [
        ("91110000600037341M", "check"),  # wrong last character
        ("91350100M000100Y53", "organisation_code"),  # the valid 91350100M000100Y43 with a wrong 17th character
        ("9111000060003734", "length"),
        ("91110000600O37341L", "character"),
    ],
)
def test_an_invalid_uscc_gets_a_field_error_and_nothing_is_saved(world, uscc, code):
    response = post_profile(world.client_for(world.master), world.wuchang_hospital, uscc=uscc)
    assert response.status_code == 200
    assert code in form_error_codes(response, "uscc")
    assert_nothing_saved(world.wuchang_hospital)


def test_a_uscc_already_used_by_another_institution_is_a_clear_field_error(world):
    Institution.objects.filter(pk=world.hunan_hospital.pk).update(uscc=VALID_USCC)
    response = post_profile(world.client_for(world.master), world.wuchang_hospital, uscc="91110000600037341l")
    assert response.status_code == 200
    assert "unique" in form_error_codes(response, "uscc")
    constraint = next(c for c in Institution._meta.constraints if c.name == "institution_unique_uscc")
    with translation.override("zh-hans"):
        assert str(constraint.violation_error_message) in response.content.decode()
    assert_nothing_saved(world.wuchang_hospital)


def test_saving_again_with_ones_own_uscc_is_not_a_duplicate(world):
    client = world.client_for(world.master)
    assert post_profile(client, world.wuchang_hospital).status_code == 302
    assert post_profile(client, world.wuchang_hospital, address="新地址").status_code == 302
    assert reload(world.wuchang_hospital).address == "新地址"


def test_the_action_refuses_a_duplicate_uscc_with_a_validation_error_too(world):
    Institution.objects.filter(pk=world.hunan_hospital.pk).update(uscc=VALID_USCC)
    with pytest.raises(ValidationError):
        actions.update_profile(world.wuchang_hospital, acting_user=world.master, uscc=VALID_USCC)
    assert reload(world.wuchang_hospital).uscc == ""


def test_a_duplicate_uscc_that_slips_past_the_checks_is_still_a_validation_error_not_a_500(world, monkeypatch):
    # Another transaction takes the code between the action's check and its save.
    Institution.objects.filter(pk=world.hunan_hospital.pk).update(uscc=VALID_USCC)
    monkeypatch.setattr(Institution, "validate_constraints", lambda self, *args, **kwargs: None)
    with pytest.raises(ValidationError) as raised:
        actions.update_profile(world.wuchang_hospital, acting_user=world.master, uscc=VALID_USCC, address="新地址")
    assert "uscc" in raised.value.error_dict
    assert reload(world.wuchang_hospital).address == ""
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.INSTITUTION_UPDATE).exists()


def test_the_action_normalizes_and_validates_the_uscc_itself(world):
    full_width = "９１１１００００６０００３７３４１ｌ"
    actions.update_profile(world.wuchang_hospital, acting_user=world.master, uscc=full_width)
    assert reload(world.wuchang_hospital).uscc == VALID_USCC
    with pytest.raises(ValidationError) as raised:
        actions.update_profile(world.wuchang_hospital, acting_user=world.master, uscc="91110000600037341M")
    assert "uscc" in raised.value.error_dict
    assert reload(world.wuchang_hospital).uscc == VALID_USCC


def test_two_institutions_may_both_leave_the_uscc_blank(world):
    data = {**FULL_PROFILE, "uscc": ""}
    assert world.client_for(world.master).post(profile_url(world.wuchang_hospital), data).status_code == 302
    hongshan = world.client_for(world.hongshan_master)
    assert hongshan.post(profile_url(world.hongshan_centre), {**data, "uscc": ""}).status_code == 302


# --- licence -----------------------------------------------------------------------------------------------------


def test_a_licence_number_that_is_not_22_characters_is_saved_as_typed_with_a_warning(world):
    number = "PDY12345742010611A100"[:20]
    response = post_profile(
        world.client_for(world.master), world.wuchang_hospital, follow=True, licence_number=f"  {number} "
    )
    assert reload(world.wuchang_hospital).licence_number == number
    warnings = page_messages(response)["warning"]
    assert len(warnings) == 1 and number in warnings[0] and "20" in warnings[0]
    assert page_messages(response)["success"]


def test_a_licence_already_expired_is_saved_with_a_warning(world):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    response = post_profile(
        world.client_for(world.master), world.wuchang_hospital, follow=True, licence_valid_until=yesterday.isoformat()
    )
    assert reload(world.wuchang_hospital).licence_valid_until == yesterday
    assert any(yesterday.isoformat() in warning for warning in page_messages(response)["warning"])


def test_a_licence_date_that_is_not_a_date_is_an_error(world):
    response = post_profile(world.client_for(world.master), world.wuchang_hospital, licence_valid_until="2030-02-30")
    assert "invalid" in form_error_codes(response, "licence_valid_until")
    assert_nothing_saved(world.wuchang_hospital)


# --- category ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("typed, stored", [("A100", "A100"), ("a210", "A210"), ("Ａ３００", "A300"), ("", "")])
def test_a_category_code_of_the_chosen_category_is_accepted(world, typed, stored):
    response = post_profile(world.client_for(world.master), world.wuchang_hospital, category_code=typed)
    assert response.status_code == 302
    assert reload(world.wuchang_hospital).category_code == stored


@pytest.mark.parametrize(
    "category, category_code, code",
    [
        ("A", "B100", "category_code_mismatch"),
        ("A", "A10", "category_code_format"),
        ("A", "100A", "category_code_format"),
        ("A", "A１0", "category_code_format"),
        ("", "A100", "category_code_without_category"),
    ],
)
def test_a_category_code_that_does_not_fit_is_an_error(world, category, category_code, code):
    response = post_profile(
        world.client_for(world.master), world.wuchang_hospital, category=category, category_code=category_code
    )
    assert response.status_code == 200
    assert code in form_error_codes(response, "category_code")


def test_a_forged_choice_is_refused(world):
    response = post_profile(world.client_for(world.master), world.wuchang_hospital, category="Z", level="9")
    assert "invalid_choice" in form_error_codes(response, "category")
    assert "invalid_choice" in form_error_codes(response, "level")


# --- departments -------------------------------------------------------------------------------------------------


def test_departments_are_split_on_commas_enumeration_commas_semicolons_and_lines_without_blanks_or_repeats(world):
    typed = "内科, 外科，儿科、妇产科;眼科；\r\n 口腔科 \n\n内科\n、、\n耳鼻咽喉科"
    response = post_profile(world.client_for(world.master), world.wuchang_hospital, departments=typed)
    assert response.status_code == 302
    expected = ["内科", "外科", "儿科", "妇产科", "眼科", "口腔科", "耳鼻咽喉科"]
    assert reload(world.wuchang_hospital).departments == expected


def test_departments_made_only_of_separators_are_empty(world):
    post_profile(world.client_for(world.master), world.wuchang_hospital, departments=" ,、;\n\n ")
    stored = reload(world.wuchang_hospital)
    assert stored.departments == []
    assert not stored.profile_complete


def test_a_department_longer_than_50_characters_is_named_in_the_error(world):
    long_name = "超" * 51
    response = post_profile(world.client_for(world.master), world.wuchang_hospital, departments=f"内科\n{long_name}")
    assert "department_too_long" in form_error_codes(response, "departments")
    message = response.context["form"].errors["departments"][0]
    assert "超" * 10 in message and "51" in message
    assert_nothing_saved(world.wuchang_hospital)


def test_at_most_100_departments(world):
    client = world.client_for(world.master)
    response = post_profile(client, world.wuchang_hospital, departments="\n".join(f"科{n}" for n in range(101)))
    assert "too_many_departments" in form_error_codes(response, "departments")
    response = post_profile(client, world.wuchang_hospital, departments="\n".join(f"科{n}" for n in range(100)))
    assert response.status_code == 302
    assert len(reload(world.wuchang_hospital).departments) == 100


# --- hostile input -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["address", "head_name", "contact_person", "contact_phone", "licence_number"])
def test_a_10000_character_text_is_refused_not_a_500(world, field):
    response = post_profile(world.client_for(world.master), world.wuchang_hospital, **{field: "路" * 10_000})
    assert response.status_code == 200
    assert "max_length" in form_error_codes(response, field)
    assert_nothing_saved(world.wuchang_hospital)


def test_a_huge_departments_text_is_refused_not_a_500(world):
    response = post_profile(world.client_for(world.master), world.wuchang_hospital, departments="科" * 10_000)
    assert response.status_code == 200
    assert "department_too_long" in form_error_codes(response, "departments")
    assert "科" * 10_000 not in str(response.context["form"].errors)


@pytest.mark.parametrize(
    "field, value",
    [
        ("address", "武昌区\x00解放路"),
        ("head_name", "张\x00三"),
        ("departments", "内科\n外\x00科"),
        ("licence_number", "4201060012345678A1001\x00"),
        ("uscc", "91110000600037341\x00"),
        ("category_code", "A1\x000"),
        ("contact_phone", "027\x1b[2J88886666"),
        ("address", "武昌区\u2028解放路"),
    ],
)
def test_control_characters_are_refused_with_a_clear_error(world, field, value):
    response = post_profile(world.client_for(world.master), world.wuchang_hospital, **{field: value})
    assert response.status_code == 200
    assert form_error_codes(response, field) == {"control_character"}
    assert_nothing_saved(world.wuchang_hospital)


def test_html_in_text_fields_is_stored_as_text_and_shown_escaped(world):
    script = "<script>alert(1)</script>"
    client = world.client_for(world.master)
    response = post_profile(
        client, world.wuchang_hospital, head_name=script, address=f"<b>{script}</b>", departments=f"内科\n{script}"
    )
    assert response.status_code == 302
    stored = reload(world.wuchang_hospital)
    assert stored.head_name == script and script in stored.departments
    for page in (client.get(world.wuchang_hospital.get_absolute_url()), client.get(profile_url(stored))):
        content = page.content.decode()
        assert "<script>alert(1)" not in content
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content


def test_an_invalid_form_shows_the_typed_values_escaped(world):
    response = post_profile(world.client_for(world.master), world.wuchang_hospital, uscc="<img src=x onerror=alert(1)>")
    assert response.status_code == 200
    assert "<img src=x" not in response.content.decode()


# --- who may edit, who may see -----------------------------------------------------------------------------------


def test_staff_without_change_institution_may_not_edit_the_profile(world):
    client = world.client_for(world.staff)
    assert client.get(profile_url(world.wuchang_hospital)).status_code == 403
    assert post_profile(client, world.wuchang_hospital).status_code == 403
    assert_nothing_saved(world.wuchang_hospital)
    detail = client.get(world.wuchang_hospital.get_absolute_url())
    assert detail.status_code == 200
    assert profile_url(world.wuchang_hospital) not in detail.content.decode()


def test_staff_granted_change_institution_may_edit_the_profile(world):
    assign_perm("change_institution", world.staff, world.wuchang_hospital)
    assert post_profile(world.client_for(world.staff), world.wuchang_hospital).status_code == 302
    assert reload(world.wuchang_hospital).profile_complete


@pytest.mark.parametrize("user", ["wuchang_user", "wuhan_user", "region_user"])
def test_offices_above_see_the_profile_on_the_institution_page_but_may_not_edit_it(world, user):
    post_profile(world.client_for(world.master), world.wuchang_hospital)
    client = world.client_for(getattr(world, user))
    assert client.get(profile_url(world.wuchang_hospital)).status_code == 403
    assert post_profile(client, world.wuchang_hospital, address="改掉").status_code == 403
    assert reload(world.wuchang_hospital).address == FULL_PROFILE["address"]
    detail = client.get(world.wuchang_hospital.get_absolute_url())
    assert detail.status_code == 200
    content = detail.content.decode()
    assert VALID_USCC in content and LICENCE_NUMBER in content and "内科、外科、妇产科" in content
    assert "2030-12-31" in content
    assert 'class="muted profile-status"' in content
    assert profile_url(world.wuchang_hospital) not in content


def test_the_action_refuses_an_office_account(world):
    with pytest.raises(PermissionDenied):
        actions.update_profile(world.wuchang_hospital, acting_user=world.wuchang_user, address="改掉")
    assert reload(world.wuchang_hospital).address == ""


def test_the_action_refuses_fields_outside_the_profile(world):
    with pytest.raises(TypeError):
        actions.update_profile(world.wuchang_hospital, acting_user=world.master, name="改名")


@pytest.mark.parametrize(
    "user, institution",
    [
        ("master", "hongshan_centre"),
        ("master", "hunan_hospital"),
        ("hongshan_user", "wuchang_hospital"),
        ("yichang_master", "wuchang_hospital"),
    ],
)
def test_a_profile_outside_ones_scope_is_not_found(world, user, institution):
    client = world.client_for(getattr(world, user))
    target = getattr(world, institution)
    assert client.get(profile_url(target)).status_code == 404
    assert post_profile(client, target).status_code == 404
    assert_nothing_saved(target)


def test_anonymous_is_sent_to_log_in(world):
    response = world.client_for(None).get(profile_url(world.wuchang_hospital))
    assert response.status_code == 302 and "login" in response["Location"]


def test_the_master_sees_the_edit_profile_link_and_the_missing_fields_on_the_institution_page(world):
    content = world.client_for(world.master).get(world.wuchang_hospital.get_absolute_url()).content.decode()
    assert profile_url(world.wuchang_hospital) in content
    assert 'class="notice profile-status"' in content


# --- audit -------------------------------------------------------------------------------------------------------


def test_saving_the_profile_is_audited_with_old_and_new_values(world):
    client = world.client_for(world.master)
    post_profile(client, world.wuchang_hospital)
    post_profile(client, world.wuchang_hospital, address="新地址", departments="内科\n口腔科")
    events = list(
        AuditEvent.objects.filter(
            kind=AuditEvent.Kind.INSTITUTION_UPDATE, target_id=str(world.wuchang_hospital.public_id)
        ).order_by("pk")
    )
    assert len(events) == 2
    first, second = events
    assert first.actor == world.master and first.target_type == "institution"
    assert first.changes["uscc"] == ["", VALID_USCC]
    assert first.changes["licence_valid_until"] == [None, "2030-12-31"]
    assert first.changes["departments"] == [[], ["内科", "外科", "妇产科"]]
    assert second.changes == {
        "address": [FULL_PROFILE["address"], "新地址"],
        "departments": [["内科", "外科", "妇产科"], ["内科", "口腔科"]],
    }
    assert second.region_id == world.hubei.pk


def test_saving_an_unchanged_profile_writes_no_audit_event(world):
    client = world.client_for(world.master)
    post_profile(client, world.wuchang_hospital)
    post_profile(client, world.wuchang_hospital)
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.INSTITUTION_UPDATE).count() == 1


def test_a_refused_save_writes_no_audit_event(world):
    post_profile(world.client_for(world.master), world.wuchang_hospital, uscc="91110000600037341M")
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.INSTITUTION_UPDATE).exists()


# --- cost --------------------------------------------------------------------------------------------------------


def test_the_profile_page_costs_a_fixed_small_number_of_queries(world, django_assert_max_num_queries):
    # session, user, the session registry (accounts.sessions), the two grant queries, the institution, and the
    # user's own node for the page header.
    client = world.client_for(world.master)
    post_profile(client, world.wuchang_hospital)
    with django_assert_max_num_queries(7):
        assert client.get(profile_url(world.wuchang_hospital)).status_code == 200


def test_the_institution_page_with_the_profile_costs_no_extra_queries(world, django_assert_max_num_queries):
    # The profile summary reads the institution row already loaded: the page costs what it did without it.
    client = world.client_for(world.wuchang_user)
    post_profile(world.client_for(world.master), world.wuchang_hospital)
    with django_assert_max_num_queries(8):  # 7 before the session registry's one
        assert client.get(world.wuchang_hospital.get_absolute_url()).status_code == 200
