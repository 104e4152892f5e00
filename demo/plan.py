"""What the demo's extraction and coding say about each included study: pure, deterministic,
no database. `demo.charting` writes it through the services.

The counts come first (the paper's, Cassidy et al. 2021, see
../shared/reference/review-workflow.md); within them a study gets the value its work suggests
(a thesis's trainee level, the setting's country, the design and discipline its abstract
names) wherever the quota of that value still has room, and the rest fill the quotas in study
order. Without works (tests), the values follow study order alone.

Extraction is per study (72) where the paper counted paper types per report (74): the two
studies with two reports (a thesis and the article written from it) are "Peer-reviewed
study", so the peer-reviewed count is the paper's 34 and theses are 26 (28 reports). The
paper's countries add up to 73 (one study in two countries); the form takes one country, so
Canada has 35.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

SEED = 2021

# ---------------------------------------------------------------------------------------------
# Extraction: the paper's counts per form field (labels of demo's paper form)

PAPER_TYPES = {"JOUR": "Peer-reviewed study", "THES": "Thesis", "ELEC": "Web-based source",
               "RPRT": "Other grey literature"}
PAPER_TYPE_COUNTS = {"Peer-reviewed study": 34, "Thesis": 26, "Web-based source": 9,
                     "Other grey literature": 3}
OTHER = "__other__"  # extraction.values.OTHER: "other, specify"
DESIGN_COUNTS = {"Participatory action research": 41, "Mixed or multi-methods": 12,
                 "Codesign": 1, "Scoping or systematic review": 2, "Other qualitative": 12}
OTHER_DESIGNS = ["Realist evaluation", "Process evaluation", "Pilot implementation study",
                 "Case study"]
COUNTRY_COUNTS = {"CA": 35, "US": 23, "GB": 6, "AU": 5, "NO": 1, "SI": 1, "IS": 1}
DISCIPLINE_COUNTS = {"Nursing": 14, "Education": 12, "Public/population health": 8,
                     "Medicine": 5, "Social work": 5, "Occupational health": 3,
                     "Physiotherapy": 2, "Dietetics": 1, "Speech language pathology": 1}
OTHER_DISCIPLINES = ["Rehabilitation science", "Kinesiology", "Health services research",
                     "Pharmacy"]
DISCIPLINE_OTHER = 15  # of the 21 studies outside the paper's disciplines; 6 not reported
LEVEL_COUNTS = {"Master's": 12, "Doctoral": 52, "Postdoctoral": 6}  # 2 not reported

# What the works' words (demo.works) suggest.
DESIGN_OF = {
    "a participatory action research study": "Participatory action research",
    "a photovoice study": "Participatory action research",
    "a mixed-methods study": "Mixed or multi-methods",
    "a multi-methods study": "Mixed or multi-methods",
    "a co-design study": "Codesign",
    "a participatory scoping review": "Scoping or systematic review",
    "a qualitative descriptive study": "Other qualitative",
    "an interpretive description": "Other qualitative",
    "a focused ethnography": "Other qualitative",
    "a case study": "Case study",
    "a realist evaluation": "Realist evaluation",
    "a process evaluation": "Process evaluation",
    "a pilot implementation study": "Pilot implementation study",
}
COUNTRY_OF = {
    "rural Saskatchewan": "CA", "northern Ontario": "CA", "Toronto": "CA", "Nova Scotia": "CA",
    "Montreal": "CA", "Manitoba": "CA", "British Columbia": "CA", "Alberta": "CA",
    "Quebec": "CA", "northern Manitoba": "CA", "Calgary": "CA", "New Brunswick": "CA",
    "Oregon": "US", "Michigan": "US", "inner-city London": "GB", "Wales": "GB",
    "remote Australian communities": "AU", "rural Queensland": "AU",
    "a Norwegian municipality": "NO", "eastern Norway": "NO", "Iceland": "IS",
    "Slovenia": "SI",
}
DISCIPLINE_OF = {
    "nursing": "Nursing", "public health": "Public/population health",
    "population health": "Public/population health", "medicine": "Medicine",
    "social work": "Social work", "occupational therapy": "Occupational health",
    "physiotherapy": "Physiotherapy", "dietetics": "Dietetics",
    "speech-language pathology": "Speech language pathology",
    "rehabilitation science": "Rehabilitation science", "kinesiology": "Kinesiology",
    "health services research": "Health services research", "pharmacy": "Pharmacy",
}
LEVEL_OF = {"doctoral student": "Doctoral", "PhD candidate": "Doctoral",
            "master's student": "Master's", "postdoctoral fellow": "Postdoctoral"}

STAGES = ["Research question", "Research proposal", "Pre-study launch administration",
          "Recruitment and data collection", "Data analysis", "Dissemination and implementation"]

# ---------------------------------------------------------------------------------------------
# Coding: the paper's headline counts, the rest plausible

KTA_COUNTS = {"identify-problem": 30, "adapt-knowledge": 34, "assess-barriers": 14,
              "select-interventions": 20, "monitor-use": 6, "evaluate-outcomes": 18,
              "sustain-use": 4}
IAP2_COUNTS = {"collaborate": 43, "involve": 12, "consult": 8, "empower": 3, "inform": 2,
               "not-reported": 4}
STAGE_COUNTS = {"research-question": 31, "research-proposal": 12,
                "pre-study-administration": 9, "recruitment-data-collection": 47,
                "data-analysis": 33, "dissemination-implementation": 40}
MODE_COUNTS = {"meetings": 27, "written-communication": 11, "email": 7, "phone": 6}
OUTCOME_COUNTS = {"immediate": 38, "intermediate": 40, "long-term": 15}
NO_OUTCOMES = 20

# theme, McLeroy levels, COM-B/TDF categories (TDF domain keys), how the excerpt reads
BARRIER_THEMES = [
    ("Time limits of a graduate programme", ["individual", "organizational"],
     ["environmental-context"],
     "The fixed timeline of the {degree} left little room for the slower pace that working "
     "with {partners} required."),
    ("Limited experience of partnered research", ["individual"],
     ["skills-cognitive", "beliefs-capabilities"],
     "As a new researcher I did not feel prepared to negotiate roles and expectations with "
     "{partners}."),
    ("Partners' competing workloads", ["organizational"], ["environmental-context"],
     "The competing duties of {partners} meant that meetings were often postponed or "
     "poorly attended."),
    ("Power imbalances and unclear roles", ["interpersonal"],
     ["social-influences", "role-identity"],
     "Differences in power between the university team and {partners} made some partners "
     "hesitant to voice disagreement."),
    ("Staff turnover in partner organizations", ["organizational", "interpersonal"],
     ["environmental-context"],
     "Turnover among partner staff meant that relationships had to be rebuilt part way "
     "through the study."),
    ("Academic rules that do not fit partnered research", ["organizational"],
     ["environmental-context", "reinforcement"],
     "A long ethics review and thesis rules written for solo work delayed the start of the "
     "partnership."),
]
FACILITATOR_THEMES = [
    ("Supportive supervisors and mentors", ["interpersonal"], ["social-influences"],
     "A supervisor experienced in partnered research coached me through each stage of "
     "working with {partners}."),
    ("Trusting relationships built over time", ["interpersonal"],
     ["social-influences", "emotion"],
     "Trust built over months of informal contact made {partners} comfortable to shape the "
     "study with us."),
    ("Shared goals agreed at the start", ["interpersonal", "organizational"], ["goals"],
     "Goals agreed with {partners} at the first meeting kept everyone working toward the "
     "same ends."),
    ("Trainee's prior connection to the setting", ["individual"],
     ["knowledge", "role-identity"],
     "Having worked in {setting} before, I knew the people and the context, which opened "
     "doors with {partners}."),
    ("Dedicated funding and flexible timelines", ["organizational"],
     ["environmental-context"],
     "Paid time for partners and a flexible programme timeline made sustained engagement "
     "possible."),
    ("Regular, structured communication", ["interpersonal"], ["behavioural-regulation"],
     "Regular meetings with a shared agenda and written summaries kept {partners} informed "
     "and involved."),
]
OUTCOME_TEXTS = {
    "immediate": "Partners described a growing mutual understanding and valued the "
                 "collaborative process with the trainee.",
    "intermediate": "Working with {partners} made the research questions and data "
                    "collection tools more relevant to practice.",
    "long-term": "After the study, the partner organization used the findings to change "
                 "local practice and policy.",
}
NO_OUTCOME_TEXT = "The report describes no outcome of the partnership."


@dataclass
class Hint:
    """What a study's work says (all optional): the kinds of its reports, and the words
    demo.works drew for it."""

    kinds: list[str] = field(default_factory=list)
    trainee: str = ""
    discipline: str = ""
    setting: str = ""
    design: str = ""
    partners: str = ""
    degree: str = ""
    topic: str = ""


@dataclass
class Excerpt:
    kind: str  # barrier, facilitator, outcome
    text: str
    theme: str = ""
    levels: list[str] = field(default_factory=list)  # McLeroy keys
    comb: list[str] = field(default_factory=list)  # TDF domain keys
    outcomes: list[str] = field(default_factory=list)  # outcome category keys


@dataclass
class StudyPlan:
    """One study's settled data (the consensus) and codes; `differs` the fields on which one
    extractor gave another answer ({field key: (which extractor: 0 or 1, raw, other)})."""

    index: int
    hint: Hint
    paper_type: str = ""
    design: str = ""  # a choice label, or OTHER with design_other
    design_other: str = ""
    country: str = ""
    disciplines: list[str] = field(default_factory=list)
    discipline_other: str = ""
    level: str = ""
    stages: list[str] = field(default_factory=list)  # extraction labels (knowledge users)
    kta: list[str] = field(default_factory=list)
    iap2: str = ""
    research_stages: list[str] = field(default_factory=list)
    modes: list[str] = field(default_factory=list)
    excerpts: list[Excerpt] = field(default_factory=list)
    differs: dict[str, tuple] = field(default_factory=dict)

    @property
    def partners(self) -> str:
        return self.hint.partners or "the knowledge users"


def allocate(n: int, counts: dict[str, int], wished: list[str | None],
             rest: list[str] | None = None) -> list[str | None]:
    """One category per study (None: none), `counts[c]` studies each: first every study its
    wished category while that category has room, then the others in study order. Studies
    beyond the counts get None, or `rest` in turn."""
    left = dict(counts)
    out: list[str | None] = [None] * n
    for i, wish in enumerate(wished):
        if wish in left and left[wish] > 0:
            out[i] = wish
            left[wish] -= 1
    open_ = [i for i in range(n) if out[i] is None]
    for category, k in left.items():
        for _ in range(k):
            if open_:
                out[open_.pop(0)] = category
    for j, i in enumerate(open_):
        out[i] = rest[j % len(rest)] if rest else None
    return out


def chosen(rng: random.Random, n: int, k: int, among: list[int] | None = None) -> set[int]:
    pool = list(range(n)) if among is None else list(among)
    return set(rng.sample(pool, k))


def covered_sets(rng: random.Random, n: int, counts: dict[str, int]) -> dict[str, set[int]]:
    """Studies per category of a multiple-choice framework, every study in at least one: the
    two largest categories split the studies (with some overlap), the third takes the rest,
    the others are drawn."""
    order = list(range(n))
    rng.shuffle(order)
    keys = sorted(counts, key=lambda k: -counts[k])
    first, second, third = keys[:3]
    a, b = counts[first], counts[second]
    sets = {first: set(order[:a])}
    start = max(0, min(a, n - b) - max(0, a + b - n) - 2)  # a little overlap where room allows
    start = min(start, n - b)
    sets[second] = set(order[start:start + b])
    uncovered = [i for i in order if i not in sets[first] | sets[second]]
    need = counts[third]
    extra = [i for i in order if i not in uncovered]
    sets[third] = set(uncovered[:need]) | set(extra[:max(0, need - len(uncovered))])
    for key in keys[3:]:
        sets[key] = chosen(rng, n, counts[key])
    return sets


def plan_studies(hints: list[Hint]) -> list[StudyPlan]:
    """The plan of every included study, in study order (`hints[i]` of study i)."""
    n = len(hints)
    rng = random.Random(SEED)
    plans = [StudyPlan(index=i, hint=h) for i, h in enumerate(hints)]

    def wish_type(h: Hint) -> str | None:
        if "JOUR" in h.kinds:
            return PAPER_TYPES["JOUR"]  # a thesis and its article: the article's type
        return PAPER_TYPES.get(h.kinds[0]) if h.kinds else None

    types = allocate(n, PAPER_TYPE_COUNTS, [wish_type(h) for h in hints])
    designs = allocate(n, DESIGN_COUNTS, [DESIGN_OF.get(h.design) for h in hints],
                       rest=OTHER_DESIGNS)
    countries = allocate(n, COUNTRY_COUNTS, [COUNTRY_OF.get(h.setting) for h in hints])
    disciplines = allocate(n, DISCIPLINE_COUNTS, [DISCIPLINE_OF.get(h.discipline)
                                                  for h in hints])

    def wish_level(p: StudyPlan, t: str | None) -> str | None:
        level = LEVEL_OF.get(p.hint.trainee)
        if t == "Thesis" and level == "Postdoctoral":
            return "Doctoral"
        return level

    # Theses first: their level is what they were written for, never postdoctoral.
    thesis_first = sorted(range(n), key=lambda i: (types[i] != "Thesis", i))
    wished = [wish_level(plans[i], types[i]) for i in thesis_first]
    left = dict(LEVEL_COUNTS)
    levels: dict[int, str | None] = {}
    for i, wish in zip(thesis_first, wished, strict=True):
        if wish in left and left[wish] > 0 and not (types[i] == "Thesis"
                                                    and wish == "Postdoctoral"):
            levels[i] = wish
            left[wish] -= 1
    for category in ("Doctoral", "Master's", "Postdoctoral"):
        for i in thesis_first:
            if left[category] == 0:
                break
            if i not in levels and not (types[i] == "Thesis" and category == "Postdoctoral"):
                levels[i] = category
                left[category] -= 1

    others = 0
    for p in plans:
        i = p.index
        p.paper_type = types[i]
        if designs[i] in DESIGN_COUNTS:
            p.design = designs[i]
        else:
            p.design, p.design_other = OTHER, designs[i]
        p.country = countries[i]
        if disciplines[i] is not None:
            p.disciplines = [disciplines[i]]
        elif others < DISCIPLINE_OTHER:
            wish = DISCIPLINE_OF.get(p.hint.discipline)
            p.disciplines = [OTHER]
            p.discipline_other = (wish if wish in OTHER_DISCIPLINES
                                  else OTHER_DISCIPLINES[others % len(OTHER_DISCIPLINES)])
            others += 1
        p.level = levels.get(i) or ""

    kta = covered_sets(rng, n, KTA_COUNTS)
    stages = covered_sets(rng, n, STAGE_COUNTS)
    iap2 = allocate(n, IAP2_COUNTS, [None] * n)
    rng.shuffle(iap2)
    modes = {key: chosen(rng, n, k) for key, k in MODE_COUNTS.items()}
    quiet = sorted(chosen(rng, n, NO_OUTCOMES))
    reported = [i for i in range(n) if i not in set(quiet)]
    rng.shuffle(reported)
    outcome_sets = {"immediate": set(reported[:38]), "intermediate": set(reported[12:52]),
                    "long-term": chosen(rng, n, OUTCOME_COUNTS["long-term"], reported)}
    for p in plans:
        i = p.index
        p.kta = [k for k in KTA_COUNTS if i in kta[k]]
        p.research_stages = [k for k in STAGE_COUNTS if i in stages[k]]
        p.stages = [label for key, label in zip(STAGE_COUNTS, STAGES, strict=True)
                    if i in stages[key]]
        p.iap2 = iap2[i]
        p.modes = [k for k in MODE_COUNTS if i in modes[k]]
        words = {"partners": p.partners, "degree": p.hint.degree or "degree",
                 "setting": p.hint.setting or "the setting"}
        # Barriers: most studies report one, some two, a few none; facilitators alike.
        nb = 0 if i % 9 == 4 else (2 if i % 7 == 1 else 1)
        nf = 0 if i % 11 == 7 else (2 if i % 6 == 0 else 1)
        for j in range(nb):
            theme, levels_, comb, text = BARRIER_THEMES[(i * 5 + j * 2) % len(BARRIER_THEMES)]
            p.excerpts.append(Excerpt("barrier", text.format(**words), theme, levels_, comb))
        for j in range(nf):
            theme, levels_, comb, text = FACILITATOR_THEMES[(i * 7 + j * 3)
                                                            % len(FACILITATOR_THEMES)]
            p.excerpts.append(Excerpt("facilitator", text.format(**words), theme, levels_,
                                      comb))
        # One outcome excerpt per study: the report's sentences on its outcomes, coded to
        # each time they span (or "no outcomes reported").
        if i in set(quiet):
            p.excerpts.append(Excerpt("outcome", NO_OUTCOME_TEXT, outcomes=["none-reported"]))
        else:
            keys = [key for key in OUTCOME_COUNTS if i in outcome_sets[key]]
            p.excerpts.append(Excerpt("outcome", " ".join(OUTCOME_TEXTS[key].format(**words)
                                                          for key in keys), outcomes=keys))
    _disagreements(plans)
    return plans


def _disagreements(plans: list[StudyPlan]) -> None:
    """A few studies where one extractor read the report differently: a design, a training
    level, a country or a discipline; consensus takes the other extractor's answer."""
    n = len(plans)
    for i in range(3, n, 8):
        p = plans[i]
        who = (i // 8) % 2
        turn = (i // 8) % 4
        if turn == 0:
            alt = "Other qualitative" if p.design != "Other qualitative" else \
                "Participatory action research"
            p.differs["study_design"] = (who, alt, "")
        elif turn == 1 and p.level:
            alt = "Master's" if p.level != "Master's" else "Doctoral"
            p.differs["training_level"] = (who, alt, "")
        elif turn == 2:
            p.differs["country"] = (who, "US" if p.country != "US" else "CA", "")
        else:
            alt = "Public/population health" if p.disciplines != ["Public/population health"] \
                else "Nursing"
            p.differs["trainee_discipline"] = (who, [alt], "")
