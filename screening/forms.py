from django import forms

from .models import StageSettings


class StageSettingsForm(forms.ModelForm):
    exclusion_reasons_text = forms.CharField(
        label="Exclusion reasons", required=False, widget=forms.Textarea(attrs={"rows": 6}),
        help_text="One per line, in the order reviewers see them.")

    class Meta:
        model = StageSettings
        fields = ("reviewers_needed", "allow_maybe", "resolver", "include_terms",
                  "exclude_terms")
        widgets = {
            "reviewers_needed": forms.Select(choices=[(1, "1"), (2, "2"), (3, "3")]),
            "include_terms": forms.Textarea(attrs={"rows": 3}),
            "exclude_terms": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {"reviewers_needed": "Reviewers needed per record",
                  "allow_maybe": "Offer “maybe”", "resolver": "Who resolves conflicts"}

    def __init__(self, *args, full_text: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if full_text:
            self.fields["exclusion_reasons_text"].initial = "\n".join(
                self.instance.exclusion_reasons)
        else:
            del self.fields["exclusion_reasons_text"]

    def clean_exclusion_reasons_text(self):
        reasons = [line.strip() for line in self.cleaned_data["exclusion_reasons_text"]
                   .splitlines() if line.strip()]
        if not reasons:
            raise forms.ValidationError("Full-text exclusions need at least one reason.")
        if len(set(reasons)) != len(reasons):
            raise forms.ValidationError("Each reason may appear once.")
        return reasons


class FullTextForm(forms.Form):
    pdf = forms.FileField(label="PDF", required=False)
    url = forms.URLField(label="Link", required=False, assume_scheme="https")
    not_retrieved = forms.BooleanField(label="The full text could not be obtained",
                                       required=False)
    note = forms.CharField(label="Note", required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))
