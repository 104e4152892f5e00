from django import forms

from .export_jobs import EXPORTS


class ExportForm(forms.Form):
    """One export's small form on the exports page: its format and, for the references, which
    records. Prefixed with the export's key (the page holds one form per export); the POST
    names the export in a plain `export` field beside it."""

    format = forms.ChoiceField(label="Format", widget=forms.RadioSelect)
    which = forms.ChoiceField(label="Records", required=False)

    def __init__(self, *args, export: str, **kwargs):
        spec = EXPORTS[export]
        kwargs.setdefault("prefix", export)
        kwargs.setdefault("initial", {"format": next(iter(spec.formats)),
                                      "which": next(iter(spec.filters), "")})
        super().__init__(*args, **kwargs)
        self.spec = spec
        self.fields["format"].choices = list(spec.formats.items())
        if spec.filters:
            self.fields["which"].choices = list(spec.filters.items())
            self.fields["which"].required = True
        else:
            del self.fields["which"]
