from django import forms
from django.conf import settings

from .models import Source
from .parsers.base import FORMATS, MAPPABLE_FIELDS
from .services import ServiceError, check_source_method

FIELD_LABELS = {
    "title": "Title", "abstract": "Abstract", "authors": "Authors", "year": "Year",
    "journal": "Journal", "volume": "Volume", "issue": "Issue", "pages": "Pages", "doi": "DOI",
    "pmid": "PMID", "keywords": "Keywords", "url": "URL", "publication_type": "Type",
    "source_record_id": "Record id",
}


class SourceForm(forms.ModelForm):
    class Meta:
        model = Source
        fields = ("name", "kind", "method", "starts_at_full_text", "date_searched",
                  "search_strategy")
        labels = {"name": "Source name", "kind": "Kind of source",
                  "method": "Other method (PRISMA)",
                  "starts_at_full_text": "Starts at full text"}
        widgets = {
            "date_searched": forms.DateInput(attrs={"type": "date"}),
            "search_strategy": forms.Textarea(attrs={"rows": 3}),
        }


    def clean(self):
        data = super().clean()
        try:
            data["method"] = check_source_method(data.get("kind", ""), data.get("method", ""),
                                           data.get("starts_at_full_text", False))
        except ServiceError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return data


class ImportForm(SourceForm):
    file = forms.FileField(label="Export file",
                           help_text="RIS, PubMed/MEDLINE (.nbib/.txt), BibTeX, EndNote XML, "
                                     "Web of Science, CSV, TSV or Excel (.xlsx).")
    file_format = forms.ChoiceField(
        label="Format", initial="auto",
        choices=[("auto", "Detect from the content")] + list(FORMATS.items()),
    )

    class Meta(SourceForm.Meta):
        fields = ("file", "name", "kind", "method", "starts_at_full_text", "date_searched",
                  "search_strategy", "file_format")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.MAX_UPLOAD_MB * 1024 * 1024
        if upload.size > limit:
            raise forms.ValidationError(
                f"{upload.name} is {upload.size / 1024 / 1024:.0f} MB: the limit is "
                f"{settings.MAX_UPLOAD_MB} MB. Split the export into smaller files.")
        if upload.size == 0:
            raise forms.ValidationError(f"{upload.name} is empty.")
        return upload


class MappingForm(forms.Form):
    """Which column holds which field of a CSV, TSV or Excel file."""

    def __init__(self, *args, columns: list[str], initial_mapping: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", "(not in this file)")] + [(c, c) for c in columns]
        for name in MAPPABLE_FIELDS:
            self.fields[name] = forms.ChoiceField(
                label=FIELD_LABELS[name], choices=choices, required=False,
                initial=initial_mapping.get(name, ""),
            )

    def clean(self):
        data = super().clean()
        used: dict[str, str] = {}
        for name in MAPPABLE_FIELDS:
            column = data.get(name)
            if not column:
                continue
            if column in used:
                raise forms.ValidationError(
                    f"The column “{column}” is mapped to both {FIELD_LABELS[used[column]]} "
                    f"and {FIELD_LABELS[name]}.")
            used[column] = name
        if not data.get("title") and not data.get("abstract"):
            raise forms.ValidationError("Map at least the title or the abstract column.")
        return data

    def mapping(self) -> dict[str, str]:
        return {name: self.cleaned_data[name] for name in MAPPABLE_FIELDS
                if self.cleaned_data.get(name)}


class LinkStudyForm(forms.Form):
    record = forms.IntegerField(label="Record number of the other report", min_value=1)


class RecordFilterForm(forms.Form):
    q = forms.CharField(label="Search", required=False, widget=forms.TextInput(
        attrs={"placeholder": "Title, abstract, author or DOI", "class": "form-control"}))
    source = forms.ModelChoiceField(label="Source", required=False, queryset=Source.objects.none(),
                                    empty_label="All sources",
                                    widget=forms.Select(attrs={"class": "form-select"}))
    status = forms.ChoiceField(label="Duplicates", required=False,
                               widget=forms.Select(attrs={"class": "form-select"}), choices=[
        ("", "All records"), ("unique", "Unique"), ("primary", "Primary of duplicates"),
        ("duplicate", "Duplicates"), ("possible", "Possible duplicates"),
    ])

    def __init__(self, *args, project, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].queryset = Source.objects.filter(project=project)
