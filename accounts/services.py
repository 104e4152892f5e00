from django.db import transaction

from .models import User


@transaction.atomic
def create_account(*, username: str, email: str, password: str, display_name: str = "") -> User:
    """Create an active user account with a hashed password."""
    return User.objects.create_user(
        username=username, email=email, password=password, display_name=display_name
    )
