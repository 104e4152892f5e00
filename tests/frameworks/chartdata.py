"""Data the charting tests share: a project's own frameworks written as rows (copied from the
catalogue's shape, not through the catalogue services, which are tested elsewhere), and
codes written as rows (the coding services are tested elsewhere)."""

from __future__ import annotations

from dataclasses import dataclass, field

from frameworks.models import Category, Excerpt, Framework, StudyCode, Theme


@dataclass
class Frameworks:
    kta: Framework
    iap2: Framework
    wider: Framework
    comb: Framework
    mcleroy: Framework
    outcomes: Framework
    cat: dict[str, Category] = field(default_factory=dict)  # "<framework key>/<category key>"


SPECS = [
    ("kta", "KTA action phases", "multiple", [("identify", "Identify problem", []),
                                              ("adapt", "Adapt knowledge", []),
                                              ("assess", "Assess barriers", []),
                                              ("sustain", "Sustain knowledge use", [])]),
    ("iap2", "IAP2 spectrum", "single", [("inform", "Inform", []), ("consult", "Consult", []),
                                         ("collaborate", "Collaborate", []),
                                         ("not-reported", "Not reported", [])]),
    ("wider", "WIDER checklist", "text", [("content", "Content", []),
                                          ("mode", "Mode of delivery",
                                           [("meetings", "Meetings"), ("email", "Email")])]),
    ("com-b-tdf", "COM-B / TDF", "excerpt", [
        ("cap-psy", "Capability, psychological", [("knowledge", "Knowledge"),
                                                  ("skills", "Skills")]),
        ("opp-phys", "Opportunity, physical", [("environment", "Environmental context")]),
        ("mot-refl", "Motivation, reflective", [("role", "Role and identity")])]),
    ("mcleroy", "McLeroy levels", "excerpt", [("individual", "Individual", []),
                                              ("interpersonal", "Interpersonal", []),
                                              ("organizational", "Organizational", [])]),
    ("outcomes", "Outcome categories", "excerpt", [("immediate", "Immediate", []),
                                                   ("intermediate", "Intermediate", []),
                                                   ("long-term", "Long-term", [])]),
]


def make_frameworks(project) -> Frameworks:
    made, cats = {}, {}
    for position, (key, name, rule, categories) in enumerate(SPECS):
        framework = Framework.objects.create(project=project, key=key, source_key=key,
                                             name=name, rule=rule, position=position)
        made[key] = framework
        for i, (ckey, cname, children) in enumerate(categories):
            parent = Category.objects.create(framework=framework, key=ckey, name=cname,
                                             position=i)
            cats[f"{key}/{ckey}"] = parent
            for j, (dkey, dname) in enumerate(children):
                cats[f"{key}/{dkey}"] = Category.objects.create(
                    framework=framework, key=dkey, name=dname, position=j, parent=parent)
    return Frameworks(kta=made["kta"], iap2=made["iap2"], wider=made["wider"],
                      comb=made["com-b-tdf"], mcleroy=made["mcleroy"],
                      outcomes=made["outcomes"], cat=cats)


def code(project, study, category, coder, **kwargs) -> StudyCode:
    return StudyCode.objects.create(project=project, study=study, category=category,
                                    coder=coder, **kwargs)


def excerpt(project, study, kind, coder, categories, theme=None, text="A quote.",
            page="") -> Excerpt:
    made = Excerpt.objects.create(project=project, study=study, kind=kind, coder=coder,
                                  theme=theme, text=text, page=page)
    made.categories.set(categories)
    return made


def theme(project, name, merged_into=None) -> Theme:
    return Theme.objects.create(project=project, name=name, merged_into=merged_into)
