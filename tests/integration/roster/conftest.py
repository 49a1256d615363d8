"""The roster tests' administrator, logged in to their district."""

from types import SimpleNamespace

import pytest


@pytest.fixture
def admin(client, auth, create_district_admin):
    person = create_district_admin(name="Helen Osei")
    auth.login(person)
    return SimpleNamespace(client=client, user=person,
                           district_id=person.memberships[0].district_id)


