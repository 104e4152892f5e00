from django import forms

from .models import ExclusionReason, StageSettings


class StageSettingsForm(forms.ModelForm):
    """A stage's rules. Its exclusion reasons are rows, edited one by one beside it
    (`ExclusionReasonForm`), so that a rename keeps the votes that use a reason."""

    class Meta:
        model = StageSettings
        fields = ("reviewers_needed", "allow_maybe", "resolver", "include_terms",
                  "exclude_terms", "order", "order_seed")
        widgets = {
            "reviewers_needed": forms.Select(choices=[(1, "1"), (2, "2"), (3, "3")]),
            "include_terms": forms.Textarea(attrs={"rows": 3}),
            "exclude_terms": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {"reviewers_needed": "Reviewers needed per record",
                  "allow_maybe": "Offer “maybe”", "resolver": "Who resolves conflicts"}
        help_texts = {"order": "Relevance learns from this stage's decisions (leads can see a "
                               "record's score; reviewers never do). Records someone has "
                               "voted on always come first, so each gets all its votes."}


class ExclusionReasonForm(forms.Form):
    """One change to a stage's exclusion reasons: add one, rename one, retire one (no longer
    offered, still counted) or offer a retired one again."""

    action = forms.ChoiceField(choices=[("add", "Add"), ("rename", "Rename"),
                                        ("retire", "Retire"), ("restore", "Offer again")])
    reason = forms.ModelChoiceField(queryset=ExclusionReason.objects.none(), required=False)
    label = forms.CharField(label="Reason", max_length=200, required=False)

    def __init__(self, *args, reasons, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].queryset = reasons

    def clean(self):
        data = super().clean()
        action = data.get("action")
        if action in ("add", "rename") and not data.get("label"):
            self.add_error("label", "Give the reason a few words.")
        if (action in ("rename", "retire", "restore") and data.get("reason") is None
                and "reason" not in self.errors):
            self.add_error("reason", "Choose one of this stage's reasons.")
        return data


class FullTextForm(forms.Form):
    pdf = forms.FileField(label="PDF", required=False)
    url = forms.URLField(label="Link", required=False, assume_scheme="https")
    not_retrieved = forms.BooleanField(label="The full text could not be obtained",
                                       required=False)
    note = forms.CharField(label="Note", required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))
