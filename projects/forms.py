from django import forms

from .models import Project, Role


class ProjectForm(forms.ModelForm):
    class Meta:
        model = Project
        fields = ("name", "description", "review_type", "inclusion_criteria", "exclusion_criteria")
        labels = {"description": "Short description"}
        widgets = {
            "description": forms.Textarea(attrs={"rows": 2}),
            "inclusion_criteria": forms.Textarea(attrs={"rows": 5}),
            "exclusion_criteria": forms.Textarea(attrs={"rows": 5}),
        }


class InvitationForm(forms.Form):
    email = forms.EmailField(label="Email address")
    role = forms.ChoiceField(choices=Role.choices, initial=Role.REVIEWER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class ActivityFilterForm(forms.Form):
    actor = forms.ChoiceField(label="Person", required=False)
    action = forms.ChoiceField(label="Action", required=False)

    def __init__(self, *args, actors, actions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["actor"].choices = [("", "Everyone")] + [(str(u.pk), str(u)) for u in actors]
        self.fields["action"].choices = [("", "All actions")] + [(a, a) for a in actions]
