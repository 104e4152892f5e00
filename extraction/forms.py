from django import forms

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
