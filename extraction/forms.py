from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator

from accounts.models import User
from projects.models import Role

from .models import ExtractionSettings
from .queries import NO_ANSWER, ExtractionTable, Frequency


class TableFilterForm(forms.Form):
    """The extraction table's filters: words, and one answer per choice, yes/no or country
    field (`a_<field key>`: a category key, or NO_ANSWER)."""

    q = forms.CharField(required=False, label="Search",
                        widget=forms.TextInput(attrs={"type": "search", "class": "form-control",
                                                      "placeholder": "Study, title or answer"}))

    def __init__(self, data, *, table: ExtractionTable, summaries: list[Frequency]):
        super().__init__(data)
        self.table = table
        for summary in summaries:
            choices = [("", "Any")] + [(c.key, c.label + (" (no longer on the form)"
                                                          if c.stale else ""))
                                       for c in summary.categories if c.key != NO_ANSWER]
            choices.append((NO_ANSWER, "No answer"))
            self.fields[self.name_of(summary.field)] = forms.ChoiceField(
                required=False, label=summary.field.label, choices=choices,
                widget=forms.Select(attrs={"class": "form-select form-select-sm"}))

    @staticmethod
    def name_of(fld) -> str:
        return f"a_{fld.key}"

    def filters(self) -> tuple[str, dict[int, str]]:
        """(words, {field id: category}) from the valid filters; an invalid one is ignored."""
        if not self.is_bound:
            return "", {}
        self.is_valid()
        data = self.cleaned_data
        answers = {fld.pk: data[self.name_of(fld)] for fld in self.table.fields
                   if data.get(self.name_of(fld))}
        return data.get("q", "").strip(), answers


class ExtractionSettingsForm(forms.ModelForm):
    """How the project extracts (a lead's page); extraction.services.update_settings saves
    it and enforces the rules (the mode fixed once extraction has started, ...)."""

    class Meta:
        model = ExtractionSettings
        fields = ["mode", "consensus_by", "third_reviewer", "pilot_threshold"]
        widgets = {"mode": forms.RadioSelect, "consensus_by": forms.RadioSelect}
        labels = {"consensus_by": "Who makes consensus",
                  "pilot_threshold": "Pilot agreement threshold"}
        help_texts = {
            "third_reviewer": "Settles consensus beside the leads (needed for the second "
                              "rule). Extractors never settle a study they extracted unless "
                              "the third rule allows it.",
            "pilot_threshold": "Optional: the share of identical answers (0 to 1, e.g. 0.8) "
                               "every field must reach in the pilot before the main round "
                               "can start.",
        }

    def __init__(self, *args, project, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["third_reviewer"].queryset = User.objects.filter(
            memberships__project=project,
            memberships__role__in=[Role.REVIEWER, Role.LEAD]).order_by("username")
        self.fields["third_reviewer"].required = False
        threshold = self.fields["pilot_threshold"]
        threshold.min_value, threshold.max_value = 0, 1
        threshold.widget.attrs.update({"min": 0, "max": 1, "step": "0.05"})
        threshold.validators += [MinValueValidator(0), MaxValueValidator(1)]
