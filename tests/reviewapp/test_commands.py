import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from projects.models import Project
from tests.factories import UserFactory


def test_create_project_command(db, capsys):
    UserFactory(username="maria")

    call_command("create_project", "ikt-review", "--name", "IKT review", "--lead", "maria")

    project = Project.objects.get(slug="ikt-review")
    assert project.name == "IKT review"
    assert list(project.memberships.values_list("user__username", "role")) == [("maria", "lead")]
    assert capsys.readouterr().out == (
        "Created project 'IKT review' at /p/ikt-review/ with maria as lead.\n")


def test_create_project_command_needs_an_existing_user(db):
    with pytest.raises(CommandError, match="No user named 'ghost'"):
        call_command("create_project", "x", "--name", "X", "--lead", "ghost")
    assert Project.objects.count() == 0


def test_create_project_command_refuses_a_taken_slug(cast):
    with pytest.raises(CommandError, match="'ikt' exists already"):
        call_command("create_project", "ikt", "--name", "X", "--lead", "ada")


def test_seed_demo_refuses_outside_demo_mode(db, settings):
    settings.DEMO_MODE = False

    with pytest.raises(CommandError, match="only seeded in demo mode"):
        call_command("seed_demo")
    assert User.objects.count() == 0
