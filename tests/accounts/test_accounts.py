import re

from django.core import mail
from django.urls import reverse

from accounts.models import User
from tests.factories import UserFactory


def test_sign_in_and_out(db, client):
    UserFactory(username="ada", password="correct-horse-42")

    response = client.post(reverse("accounts:login"),
                           {"username": "ada", "password": "correct-horse-42"})
    assert response.status_code == 302 and response["Location"] == reverse("projects:home")
    assert client.get(reverse("projects:home")).status_code == 200

    client.post(reverse("accounts:logout"))
    after = client.get(reverse("projects:home"))
    assert after.status_code == 302 and after["Location"].startswith(reverse("accounts:login"))


def test_wrong_password_is_refused(db, client):
    UserFactory(username="ada", password="correct-horse-42")

    response = client.post(reverse("accounts:login"), {"username": "ada", "password": "nope"})

    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.text


def test_change_password(db, client):
    user = UserFactory(username="ada", password="correct-horse-42")
    client.force_login(user)

    response = client.post(reverse("accounts:password_change"), {
        "old_password": "correct-horse-42",
        "new_password1": "a-new-pass-phrase-7", "new_password2": "a-new-pass-phrase-7",
    })

    assert response["Location"] == reverse("accounts:password_change_done")
    user.refresh_from_db()
    assert user.check_password("a-new-pass-phrase-7")


def test_reset_password_by_email(db, client):
    user = UserFactory(username="ada", email="ada@example.org", password="forgotten-1")

    client.post(reverse("accounts:password_reset"), {"email": "ada@example.org"})
    [message] = mail.outbox
    link = re.search(r"http://testserver(/accounts/password/reset/\S+/)", message.body).group(1)
    form_url = client.get(link)["Location"]  # Django swaps the token for a session key
    response = client.post(form_url, {"new_password1": "brand-new-phrase-9",
                                      "new_password2": "brand-new-phrase-9"})

    assert message.to == ["ada@example.org"] and message.subject == "Reset your Tandem password"
    assert response["Location"] == reverse("accounts:password_reset_complete")
    user.refresh_from_db()
    assert user.check_password("brand-new-phrase-9")


def test_signup_is_closed_by_default(db, client):
    response = client.get(reverse("accounts:signup"))

    assert response.status_code == 404
    assert "Create an account" not in client.get(reverse("accounts:login")).text


def test_signup_when_allowed(db, client, settings):
    settings.ALLOW_SIGNUP = True

    response = client.post(reverse("accounts:signup"), {
        "username": "kim", "display_name": "Kim Lee", "email": "kim@example.org",
        "password1": "a-long-pass-phrase-42", "password2": "a-long-pass-phrase-42",
    })

    assert response["Location"] == reverse("projects:home")
    user = User.objects.get(username="kim")
    assert (str(user), user.email) == ("Kim Lee", "kim@example.org")


def test_signup_refuses_a_taken_email(db, client, settings):
    settings.ALLOW_SIGNUP = True
    UserFactory(username="ada", email="ada@example.org")

    response = client.post(reverse("accounts:signup"), {
        "username": "ada2", "display_name": "", "email": "ADA@example.org",
        "password1": "a-long-pass-phrase-42", "password2": "a-long-pass-phrase-42",
    })

    assert response.status_code == 200
    assert response.context["form"].errors["email"] == [
        "An account with this email address exists already: sign in instead."]
    assert not User.objects.filter(username="ada2").exists()


def test_profile_sets_display_name(db, client):
    user = UserFactory(username="ada", display_name="")
    client.force_login(user)

    client.post(reverse("accounts:profile"), {"display_name": "Ada L.", "email": "a@example.org"})

    user.refresh_from_db()
    assert (str(user), user.email) == ("Ada L.", "a@example.org")
