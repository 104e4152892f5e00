from django import forms
from django.contrib.auth.forms import UserCreationForm

from .models import User


class SignupForm(UserCreationForm):
    """A new account: username, display name, email and password (twice)."""

    class Meta:
        model = User
        fields = ("username", "display_name", "email")

    def __init__(self, *args, email: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].required = True
        self.fields["display_name"].help_text = "The name your teammates see, e.g. Ada Lovelace."
        if email:
            # An invitation fixes the address it was sent to.
            self.fields["email"].initial = email
            self.fields["email"].disabled = True

    def clean_email(self):
        email = self.cleaned_data["email"].strip()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(
                "An account with this email address exists already: sign in instead."
            )
        return email


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ("display_name", "email")
        help_texts = {"display_name": "The name your teammates see beside your decisions."}
