"""The extraction form of the paper the project started from (Cassidy et al. 2021, a scoping
review of trainee-led integrated knowledge translation), as a form document: one click loads
it as a template. Categories as in ../shared/reference/review-workflow.md."""

STAGES = ["Research question", "Research proposal", "Pre-study launch administration",
          "Recruitment and data collection", "Data analysis",
          "Dissemination and implementation"]

PAPER_FORM = {
    "tandem_form": 1,
    "name": "Data extraction form",
    "sections": [
        {"key": "study", "title": "Study characteristics", "fields": [
            {"key": "paper_type", "label": "Paper type", "type": "single_choice",
             "required": True, "choices": [
                 "Peer-reviewed study", "Thesis", "Web-based source",
                 "Other grey literature"]},
            {"key": "study_design", "label": "Study design", "type": "single_choice",
             "required": True, "other_specify": True, "choices": [
                 "Participatory action research", "Mixed or multi-methods", "Codesign",
                 "Scoping or systematic review", "Other qualitative"]},
            {"key": "country", "label": "Country", "type": "country", "required": True,
             "help_text": "Where the study took place."},
        ]},
        {"key": "trainees", "title": "Trainees", "fields": [
            {"key": "trainee_discipline", "label": "Trainee discipline",
             "type": "multi_choice", "other_specify": True, "choices": [
                 "Nursing", "Education", "Public/population health", "Medicine",
                 "Social work", "Occupational health", "Physiotherapy", "Dietetics",
                 "Speech language pathology"]},
            {"key": "training_level", "label": "Training level", "type": "single_choice",
             "display": "list", "choices": ["Master's", "Doctoral", "Postdoctoral"]},
        ]},
        {"key": "partnership", "title": "The partnership", "fields": [
            {"key": "knowledge_users", "label": "Knowledge users", "type": "table",
             "help_text": "One row per group of knowledge users involved.",
             "columns": [
                 {"key": "ku_type", "label": "Type", "type": "short_text", "required": True,
                  "help_text": "E.g. clinicians, patients, community organisation."},
                 {"key": "ku_role", "label": "Role", "type": "short_text"},
                 {"key": "ku_stages", "label": "Stages engaged", "type": "multi_choice",
                  "choices": STAGES},
             ]},
            {"key": "partnership_activities", "label": "Partnership (IKT) activities",
             "type": "long_text",
             "help_text": "What the trainee and the knowledge users did together."},
        ]},
        {"key": "findings", "title": "Barriers, facilitators and outcomes", "fields": [
            {"key": "barriers", "label": "Barriers", "type": "long_text",
             "help_text": "Text excerpts; quote the report and give the page."},
            {"key": "facilitators", "label": "Facilitators", "type": "long_text",
             "help_text": "Text excerpts; quote the report and give the page."},
            {"key": "outcomes", "label": "Outcomes", "type": "long_text",
             "help_text": "Text excerpts of the partnership's reported outcomes."},
        ]},
    ],
}
