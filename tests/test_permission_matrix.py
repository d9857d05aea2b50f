"""Who may do what where: every role x action x target node, with the status the server must answer.

Targets are named relative to the acting account: its own node, a child, a grandchild, a node in a sibling
subtree (or another region, for the region office), and its parent. Outside the user's subtree the answer is 404
(the object's existence is not revealed); visible but not allowed is 403.
"""

import pytest
from django.urls import reverse

from accounts.models import User
from institutions.models import Office
from tests.world import make_account

TARGETS = {
    "region": (
        "region_user",
        {"own": "hubei_office", "child": "wuhan", "grandchild": "wuchang", "sibling": "hunan_office"},
    ),
    "prefecture": (
        "wuhan_user",
        {
            "own": "wuhan",
            "child": "wuchang",
            "grandchild": "wuchang_hospital",
            "sibling": "yichang",
            "parent": "hubei_office",
        },
    ),
    "county": (
        "wuchang_user",
        {"own": "wuchang", "child": "wuchang_hospital", "sibling": "hongshan", "parent": "wuhan"},
    ),
    "master": ("master", {"own": "wuchang_hospital", "sibling": "hongshan_centre", "parent": "wuchang"}),
    "staff": ("staff", {"own": "wuchang_hospital", "sibling": "hongshan_centre", "parent": "wuchang"}),
    "anonymous": (None, {"office": "wuchang", "institution": "wuchang_hospital"}),
}
ACTIONS = ("view", "create_child", "edit", "issue_account", "disable", "reset_password")

OFFICE_ROLE = {
    "own": {
        "view": 200,
        "create_child": 302,
        "edit": 403,
        "issue_account": 403,
        "disable": 404,
        "reset_password": 404,
    },
    "child": {
        "view": 200,
        "create_child": 302,
        "edit": 302,
        "issue_account": 200,
        "disable": 302,
        "reset_password": 200,
    },
}
OFFICE_ROLE["grandchild"] = OFFICE_ROLE["child"]
NOT_FOUND = dict.fromkeys(ACTIONS, 404)
EXPECTED = {
    "region": {**OFFICE_ROLE, "sibling": NOT_FOUND},
    "prefecture": {**OFFICE_ROLE, "sibling": NOT_FOUND, "parent": NOT_FOUND},
    "county": {**OFFICE_ROLE, "sibling": NOT_FOUND, "parent": NOT_FOUND},
    "master": {
        "own": {"view": 200, "edit": 403, "issue_account": 200, "disable": 302, "reset_password": 200},
        "sibling": NOT_FOUND,
        "parent": NOT_FOUND,
    },
    "staff": {
        "own": {"view": 200, "edit": 403, "issue_account": 403, "disable": 404, "reset_password": 404},
        "sibling": NOT_FOUND,
        "parent": NOT_FOUND,
    },
    "anonymous": {"office": dict.fromkeys(ACTIONS, 302), "institution": dict.fromkeys(ACTIONS, 302)},
}


INSTITUTION_TARGETS = {"wuchang_hospital", "hongshan_centre"}


def cases():
    for role, (_user, targets) in TARGETS.items():
        for relation, target in targets.items():
            for action, status in EXPECTED[role][relation].items():
                if action == "create_child" and target in INSTITUTION_TARGETS:
                    continue  # institutions have no children
                yield pytest.param(role, relation, action, status, id=f"{role}-{action}-{relation}-{status}")


def target_account(world, role, node) -> User:
    """The account acted upon at ``node``: for the node's own staff, a colleague (a master acts on his staff)."""
    if role == "master" and node == world.wuchang_hospital:
        return world.staff
    if role == "staff" and node == world.wuchang_hospital:
        return world.master
    existing = node.accounts.filter(is_master=True).first() if not isinstance(node, Office) else None
    return existing or make_account(f"colleague-{node.pk}-{node._meta.model_name}", node)


def request_for(world, role, node, action):
    kind = "office" if isinstance(node, Office) else "institution"
    if action == "view":
        return "get", node.get_absolute_url(), None
    if action == "create_child":
        data = {"name": "新考点", "kind": "exam_site", "division_code": ""}
        return "post", reverse("institutions:office_create", args=[node.public_id]), data
    if action == "edit":
        if kind == "office":
            data = {"name": node.name + "（更名）", "kind": node.kind, "division_code": node.division_code}
            return "post", reverse("institutions:office_edit", args=[node.public_id]), data
        data = {"name": node.name + "（更名）", "office": node.office_id}
        return "post", reverse("institutions:institution_edit", args=[node.public_id]), data
    if action == "issue_account":
        return "post", reverse(f"accounts:issue_{kind}", args=[node.public_id]), {"username": "fresh_account"}
    account = target_account(world, role, node)
    name = {"disable": "accounts:disable", "reset_password": "accounts:reset_password"}[action]
    return "post", reverse(name, args=[account.public_id]), {}


@pytest.mark.parametrize("role,relation,action,expected", list(cases()))
def test_permission_matrix(world, role, relation, action, expected):
    username, targets = TARGETS[role]
    user = getattr(world, username) if username else None
    node = getattr(world, targets[relation])
    method, url, data = request_for(world, role, node, action)
    response = getattr(world.client_for(user), method)(url, data or {})
    assert response.status_code == expected, response.content.decode()[:500]
    if role == "anonymous":
        assert response["Location"].startswith(reverse("accounts:login"))
