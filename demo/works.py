"""The works of the demo review and the exports of the sources that hold them.

A review shaped like Cassidy et al. 2021 (../shared/reference/review-workflow.md): four
databases searched on 24 June 2020 (MEDLINE via Ovid, Embase via Elsevier, CINAHL and PsycINFO
via EBSCO) holding 3,237 records, and 23 records from other sources; 365 of the records are a
second or third copy of a work another database holds, written the way that database writes it
(full names or initials, the journal's name or its abbreviation, a DOI as a link, in capitals or
missing), so that 2,895 works remain. Each work has a *fate*: what the demo's reviewers decide
about it at title and abstract and at full text, and whether that work is still open in the
demo that `make run` seeds (see FATES).

Every record is synthetic and written here. A random.Random with a fixed seed draws titles,
abstracts, authors, journals and identifiers from the phrase lists below (the journals,
universities and organisations are made up; DOIs use the example prefix 10.5555). No
third-party record is shipped.
"""

import random
from dataclasses import dataclass, field
from datetime import date

from references.models import Source

SEED = 20200624
SEARCH_DATE = date(2020, 6, 24)
DOI_PREFIX = "10.5555"  # an example prefix: no real work has these DOIs

# The four databases in the order they are imported, and how many records each export holds
# (3,237 in all, as in the paper).
DATABASES = ["MEDLINE (Ovid)", "Embase (Elsevier)", "CINAHL (EBSCO)", "PsycINFO (EBSCO)"]
DATABASE_SIZES = [1012, 1178, 642, 405]
OTHER_NAME = "Other sources (grey literature, Google, experts, reference chaining)"
OTHER_SIZE = 23
# Works held by more than one database: {sources (indexes of DATABASES): how many works}.
# 305 works in two databases and 30 in three: 305 + 2 * 30 = 365 duplicate records.
SHARED = {
    (0, 1): 150, (0, 2): 60, (1, 3): 40, (0, 3): 25, (1, 2): 30,
    (0, 1, 2): 20, (0, 1, 3): 10,
}

# What happens to each work, by count (2,895 works). At title and abstract ada and ben vote
# on every work; at full text on every work that passed. `*_open`: the step the lead (or a
# reviewer) has not taken yet in the open demo; `--complete` takes it.
FATES = {
    # Both exclude at title and abstract (2,467) ...
    "ta_exclude": 2327,
    "ta_exclude_ada_open": 50,  # ben has voted, ada has not yet
    "ta_exclude_ben_open": 50,  # ada has voted, ben has not yet
    "ta_exclude_both_open": 40,  # nobody has voted yet
    # ... they disagree and the lead excludes (85) ...
    "ta_conflict_out": 77,
    "ta_conflict_out_open": 8,  # a conflict waiting for the lead
    # ... or both include (or say maybe), or they disagree and the lead includes (343):
    # full text. There both exclude with the same reason (255), or disagree and the lead
    # excludes (14), or both include (68), or disagree and the lead includes (6).
    "ft_exclude": 255,
    "ft_conflict_out": 11,
    "ft_conflict_out_open": 3,  # a full-text conflict waiting for the lead
    "ft_include": 68,
    "ft_conflict_in": 6,
}
# Of the 343 works that reach full text, how many got there through a conflict the lead
# settled (the rest: both reviewers said include or maybe).
TA_CONFLICT_IN = 35
FULL_TEXT_FATES = ("ft_exclude", "ft_conflict_out", "ft_conflict_out_open", "ft_include",
                   "ft_conflict_in")
INCLUDED_FATES = ("ft_include", "ft_conflict_in")

# A work's "truth": relevant, or what excludes it; the full-text reason that goes with it
# (the project's default exclusion reasons), and how many of the 269 full-text exclusions
# each reason has.
REASONS = {
    "wrong_design": "Wrong design",
    "not_trainee": "Author not a trainee",
    "no_partnership": "Partnership approach not described",
    "not_health": "Not health research",
    "wrong_pubtype": "Wrong publication type",
}
FULL_TEXT_REASONS = {"wrong_design": 98, "not_trainee": 84, "no_partnership": 61,
                     "not_health": 14, "wrong_pubtype": 12}

# The 74 included reports by kind (the paper's paper types): 34 articles, 28 theses (22 from
# PsycINFO, which indexes dissertations, 6 from other sources), 9 web-based sources and 3
# other grey literature (from other sources). Two studies have two reports: a thesis and the
# article written from it.
INCLUDED_PSYCINFO_THESES = 6 + 16
INCLUDED_OTHER = ["THES"] * 6 + ["ELEC"] * 9 + ["RPRT"] * 3
EXCLUDED_OTHER = ["THES", "THES", "RPRT", "RPRT", "ELEC"]
EXCLUDED_PSYCINFO_THESES = 40

# Exclusions at title and abstract a work of each kind can have.
_CLEAR = {
    "JOUR": ["off_topic"] * 4 + ["not_trainee"] * 2 + ["no_partnership"] * 2
    + ["not_health", "wrong_design", "wrong_design"],
    "THES": ["no_partnership", "no_partnership", "not_health"],
    "RPRT": ["off_topic", "not_trainee", "wrong_design"],
    "ELEC": ["off_topic", "not_trainee", "wrong_design"],
}
# Exclusions that look relevant until the full text is read (and, at title and abstract, a
# reason for the reviewers to disagree).
_SUBTLE = ["not_trainee", "no_partnership", "not_health"]


@dataclass
class Work:
    """One synthetic work, as it is before any source writes it out."""

    number: int
    fate: str
    truth: str  # "relevant", "off_topic" or a key of REASONS: why it is excluded
    kind: str  # RIS type: JOUR, CONF, THES, RPRT, ELEC
    ta_conflict: bool = False  # reached full text through a conflict the lead settled
    title: str = ""
    abstract: str = ""
    authors: list[tuple[str, str]] = field(default_factory=list)  # (surname, given names)
    year: int = 2020
    journal: tuple[str, str, str, int] | None = None
    volume: str = ""
    issue: str = ""
    pages: tuple[int, int] | None = None
    doi: str = ""
    keywords: list[str] = field(default_factory=list)
    publisher: str = ""
    degree: str = ""  # what a thesis was written for
    url: str = ""
    # Where it is: (source index, 1-based position); the first place is its primary record.
    places: list[tuple[int, int]] = field(default_factory=list)
    # The details the extraction and coding of an included work draw on (its partnership).
    writer: "object | None" = None

    @property
    def reason(self) -> str:
        """The full-text exclusion reason (the lead's, in a conflict)."""
        return REASONS.get(self.truth, "")

    @property
    def subtle(self) -> bool:
        return self.fate in FULL_TEXT_FATES or self.fate.startswith("ta_conflict")


@dataclass
class DemoSource:
    name: str
    kind: str
    filename: str
    search_strategy: str
    text: str  # the RIS export
    size: int


@dataclass
class Demo:
    sources: list[DemoSource]
    works: list[Work]  # in the order of their primary records

    @property
    def included(self) -> list[Work]:
        return [w for w in self.works if w.fate in INCLUDED_FATES]

# ---------------------------------------------------------------------------------------------
# Phrase lists (all invented for the demo)
# ---------------------------------------------------------------------------------------------

# noun, plural, what they were working on
TRAINEES = [
    ("doctoral student", "doctoral students", "doctoral thesis"),
    ("PhD candidate", "PhD candidates", "doctoral dissertation"),
    ("master's student", "master's students", "master's thesis"),
    ("postdoctoral fellow", "postdoctoral fellows", "postdoctoral fellowship"),
    ("graduate student", "graduate students", "graduate research project"),
]
THESIS_TRAINEES = TRAINEES[:3]
DISCIPLINES = [
    "nursing", "public health", "occupational therapy", "physiotherapy", "social work",
    "dietetics", "speech-language pathology", "rehabilitation science", "health services research",
    "kinesiology", "medicine", "pharmacy", "population health",
]
APPROACHES = [
    "integrated knowledge translation", "co-design", "community-based participatory research",
    "participatory action research", "patient-oriented research", "co-production",
    "engaged scholarship",
]
# Fields of health research: topics, the knowledge users who work on them, the people
# they serve (so that a title never pairs, say, HIV prevention with school nurses).
DOMAINS = [
    (
        ["falls prevention", "dementia care", "palliative care at home", "delirium prevention",
         "frailty screening", "hearing care", "social isolation in later life",
         "oral health in care homes", "hip fracture recovery", "physical activity in later life",
         "pressure injury prevention", "wound care", "hospital-to-home transitions",
         "medication safety"],
        ["home care nurses", "long-term care staff", "older adults and their families",
         "family caregivers", "hospital unit managers", "pharmacists", "occupational therapists",
         "patient advisors", "regional health authority decision-makers", "paramedics"],
        ["older adults living at home", "long-term care residents", "adults after hip fracture",
         "family caregivers of people with dementia"],
    ),
    (
        ["youth mental health services", "early childhood nutrition", "breastfeeding support",
         "concussion management in school sport", "childhood vaccine uptake",
         "paediatric asthma care", "autism services", "eating disorder care",
         "sexual health education", "mental health literacy", "rural maternity care",
         "prenatal care for newcomers"],
        ["youth advisors", "school nurses", "parents of children with disabilities", "midwives",
         "newcomer families", "public health managers", "community dietitians",
         "primary care clinicians"],
        ["adolescents", "new mothers", "rural families", "school-aged children"],
    ),
    (
        ["harm reduction services", "HIV prevention", "suicide prevention",
         "household food security", "opioid prescribing", "smoking cessation",
         "hypertension control", "diabetes self-management", "chronic pain self-management",
         "cardiac rehabilitation", "stroke rehabilitation", "workplace mental health",
         "infection prevention", "hand hygiene", "heat-related illness", "injury prevention",
         "cancer survivorship care"],
        ["community partners", "peer support workers",
         "people with lived experience of mental illness", "First Nations community members",
         "public health managers", "primary care clinicians", "pharmacists", "patient advisors",
         "hospital unit managers", "physiotherapists"],
        ["adults with type 2 diabetes", "people living with HIV", "adults with chronic pain",
         "people experiencing homelessness", "adults after stroke"],
    ),
]
SETTINGS = [
    "rural Saskatchewan", "northern Ontario", "Toronto", "a Norwegian municipality",
    "remote Australian communities", "Oregon", "Nova Scotia", "Montreal", "Manitoba",
    "British Columbia", "Alberta", "Iceland", "Quebec", "Michigan", "Slovenia",
    "inner-city London", "Wales", "northern Manitoba", "Calgary", "New Brunswick",
    "rural Queensland", "eastern Norway",
]
DESIGNS = [
    "a participatory action research study", "a mixed-methods study",
    "a qualitative descriptive study", "a co-design study", "a case study",
    "an interpretive description", "a realist evaluation", "a photovoice study",
    "a pilot implementation study", "a process evaluation", "a focused ethnography",
    "a participatory scoping review", "a multi-methods study",
]
PLAIN_DESIGNS = [
    "a cross-sectional survey", "a retrospective cohort study",
    "a secondary analysis of administrative data", "a chart review",
    "a qualitative interview study", "a survey of clinicians",
]
STAGES = [
    "shape the research question", "write the research proposal", "plan recruitment",
    "collect data", "interpret the findings", "plan dissemination", "adapt the intervention",
]
ACTIVITIES = [
    "monthly meetings", "an advisory committee", "email updates", "telephone check-ins",
    "joint workshops", "co-written plain-language summaries", "site visits",
]
OUTCOMES = [
    "greater mutual understanding", "research questions that mattered in practice",
    "findings that were used in local policy", "new partnered-research skills for the trainee",
    "a lasting working relationship", "a toolkit now used by the partner organisation",
    "more relevant data collection tools",
]
BARRIERS = [
    "the fixed timeline of a degree", "turnover among partner staff", "short-term funding",
    "power differences between academics and community members", "a long ethics review",
    "the competing clinical duties of partners",
]
FACILITATORS = [
    "a supervisor experienced in partnered research",
    "an existing relationship with the partner organisation", "flexible meeting times",
    "paid time for partners", "goals agreed at the start", "a shared project charter",
]
# intervention, what it should change, in whom
TRIALS = [
    ("a nurse-led telephone follow-up", "hospital readmission", "adults with heart failure"),
    ("a group exercise programme", "falls", "older adults living at home"),
    ("text-message reminders", "medication adherence", "adults with type 2 diabetes"),
    ("a pharmacist-led medication review", "potentially inappropriate prescribing",
     "long-term care residents"),
    ("a school-based nutrition curriculum", "fruit and vegetable intake", "school-aged children"),
    ("motivational interviewing", "smoking abstinence", "adults who smoke"),
    ("a peer mentoring programme", "viral suppression", "people living with HIV"),
    ("an online self-management course", "pain interference", "adults with chronic pain"),
    ("a home visiting programme", "breastfeeding duration", "new mothers"),
    ("audit and feedback", "antibiotic prescribing", "family physicians"),
    ("a community paramedic programme", "emergency department use", "older adults living alone"),
    ("a task-sharing blood pressure programme", "blood pressure control",
     "adults with hypertension"),
]
MEASURES = [
    "depressive symptoms", "quality of life", "physical function", "self-rated health",
    "unmet care needs",
]
OTHER_FIELDS = [
    # topic, partners
    ("urban transit planning", "municipal planners"),
    ("watershed management", "conservation groups"),
    ("public library programming", "librarians"),
    ("small-business succession", "business owners"),
    ("agricultural extension services", "farmers' associations"),
    ("heritage conservation", "museum curators"),
    ("municipal waste collection", "city councillors"),
    ("forest management", "forestry cooperatives"),
    ("rural broadband access", "internet providers"),
    ("tourism development", "tourism operators"),
]
SOCIAL_FIELDS = [
    ("youth employment programmes", "youth workers"),
    ("neighbourhood safety", "tenant associations"),
    ("newcomer settlement services", "settlement workers"),
    ("school attendance", "teachers"),
    ("community gardening", "community garden volunteers"),
    ("affordable housing", "housing advocates"),
    ("adult literacy programmes", "literacy tutors"),
    ("after-school recreation", "recreation coordinators"),
    ("income support navigation", "community legal workers"),
]
REGIONS = [
    "rural Saskatchewan", "northern Ontario", "a Norwegian municipality",
    "coastal British Columbia", "southern Iceland", "a mid-sized Canadian city", "rural Oregon",
    "the Welsh valleys", "a Slovenian region", "rural Queensland",
]
GIVEN = [
    "Grace", "Amir", "Sofia", "Liam", "Priya", "Mateo", "Hannah", "Kwame", "Mei", "Olivia",
    "Noah", "Aisha", "Lucas", "Ingrid", "Tomas", "Yuki", "Fatima", "Ethan", "Leila", "Daniel",
    "Chloe", "Rafael", "Anika", "Samuel", "Nadia", "Owen", "Elif", "Jonas", "Maya", "Tariq",
    "Rosa", "Felix", "Zara", "Henrik", "Camille", "Diego", "Freya", "Omar", "Ruth", "Kenji",
    "Alma", "Victor", "Sara", "Arjun", "Paula", "Magnus", "Lea", "Marcus", "Ines", "Jia",
]
SURNAMES = [
    "Okafor", "Lindqvist", "Tremblay", "Nguyen", "Haddad", "Moreau", "Kowalski", "Patel",
    "Osei", "Fitzgerald", "Bergstrom", "Castillo", "Demir", "Eriksen", "Gallagher", "Hoang",
    "Ibrahim", "Jansen", "Kaur", "Laroche", "Mbeki", "Novak", "O'Brien", "Petrov", "Quinlan",
    "Rasmussen", "Sato", "Thibault", "Umar", "Varga", "Whitfield", "Xu", "Yilmaz", "Zhou",
    "Abara", "Bouchard", "Chen", "Dubois", "Eze", "Ferreira", "Gunnarsdottir", "Halvorsen",
    "Iqbal", "Jovanovic", "Kim", "Lefebvre", "Mensah", "Nakamura", "Oliveira", "Park",
    "Rossi", "Sandoval", "Tanaka", "Usman", "Virtanen", "Wojcik", "Yamada", "Zajac", "Arsenault",
    "Brennan", "Cote", "Dlamini", "Ekstrom", "Fraser", "Gagnon", "Horvat", "Ivanova", "Jorgensen",
    "Kovac", "Larsen", "MacLeod", "Nordin", "Pelletier", "Rahman", "Singh", "Tran", "Walsh",
]
# full name, abbreviation, DOI code, first year (volume 1)
JOURNALS = [
    ("Nursing Inquiry and Practice", "Nurs Inq Pract", "nip", 1998),
    ("Journal of Community Health Partnerships", "J Community Health Partnersh", "jchp", 2004),
    ("Partnered Health Research", "Partnered Health Res", "phr", 2001),
    ("Public Health Practice Review", "Public Health Pract Rev", "phpr", 1995),
    ("International Journal of Participatory Health Research",
     "Int J Particip Health Res", "ijphr", 2003),
    ("Implementation and Knowledge Use", "Implement Knowl Use", "iku", 2006),
    ("Graduate Research in Health Sciences", "Grad Res Health Sci", "grhs", 2002),
    ("Journal of Rehabilitation Partnerships", "J Rehabil Partnersh", "jrp", 1999),
    ("Child and Youth Health Research", "Child Youth Health Res", "cyhr", 1997),
    ("Health Services and Policy Studies", "Health Serv Policy Stud", "hsps", 1993),
    ("Clinical Nursing Trials", "Clin Nurs Trials", "cnt", 2000),
    ("Rural and Remote Health Practice", "Rural Remote Health Pract", "rrhp", 2005),
]
UNIVERSITIES = [
    "Lakeshore University", "University of the Northern Prairies", "Northbridge University",
    "Coastal University of Health Sciences", "Riverbend University", "Fjordside University",
]
ORGANISATIONS = [
    "Prairie Centre for Partnered Health Research", "Northern Health Collaborative",
    "Coastal Community Health Network", "Trainee Partnership Research Network",
    "Knowledge Users' Forum", "Regional Health Research Unit",
]
CONFERENCE = "Partnered Health Research Conference"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


class _Writer:
    """Draws the words of one work from the phrase lists."""

    def __init__(self, rng: random.Random, kind: str):
        self.rng = rng
        self.kind = kind
        pick = rng.choice
        self.trainee, self.trainees, self.degree = pick(
            THESIS_TRAINEES if kind == "THES" else TRAINEES)
        self.discipline = pick(DISCIPLINES)
        self.approach = pick(APPROACHES)
        topics, partners, populations = pick(DOMAINS)
        self.topic = pick(topics)
        self.partners = pick(partners)
        self.population = pick(populations)
        self.setting = pick(SETTINGS)
        self.design = pick(DESIGNS)
        self.plain_design = pick(PLAIN_DESIGNS)
        self.university = pick(UNIVERSITIES)
        # The keywords of the record: what its text is about.
        self.keywords = [self.approach, self.discipline, self.topic]

    def some(self, items: list[str], k: int) -> list[str]:
        return self.rng.sample(items, k)

    def partnership(self) -> str:
        """The sentences of an abstract that describe a trainee-led partnership."""
        stage1, stage2 = self.some(STAGES, 2)
        act1, act2 = self.some(ACTIVITIES, 2)
        out1, out2 = self.some(OUTCOMES, 2)
        months = self.rng.randrange(8, 37)
        people = self.rng.randrange(4, 25)
        return (
            f"Methods: As part of a {self.degree} in {self.discipline}, a {self.trainee} led "
            f"{self.design} in partnership with {self.partners} in {self.setting}. Knowledge "
            f"users helped to {stage1} and to {stage2}, through {act1} and {act2}. "
            f"Results: {people} knowledge users took part over {months} months. Partners "
            f"reported {out1} and {out2}. The main barrier was {self.rng.choice(BARRIERS)}; "
            f"{self.rng.choice(FACILITATORS)} helped. "
        )

    def background(self) -> str:
        return self.rng.choice([
            f"Background: {_cap(self.topic)} is a priority for {self.partners} in "
            f"{self.setting}, but research on it rarely starts from their questions. ",
            f"Background: Evidence on {self.topic} is often hard to use in {self.setting}. "
            "Integrated knowledge translation (IKT) engages knowledge users as partners "
            "throughout the research process. ",
            f"Background: Little is known about how {self.trainees} partner with knowledge "
            f"users, or about {self.topic} in {self.setting}. ",
        ])

    def relevant(self) -> tuple[str, str]:
        trainee, partners, topic, setting = self.trainee, self.partners, self.topic, self.setting
        title = self.rng.choice([
            f"{_cap(trainee)}-led {self.approach} with {partners} to improve {topic} in "
            f"{setting}: {self.design}",
            f"Partnering with {partners} on {topic}: lessons from a {trainee}-led "
            f"{self.approach} project in {setting}",
            f"Engaging {partners} as research partners in a {trainee}'s study of {topic} in "
            f"{setting}",
            f"{_cap(self.approach)} in a {self.degree}: {self.design} of {topic} with "
            f"{partners}",
            f"Co-producing {topic} resources with {partners} in {setting}: a {trainee}-led "
            f"{self.approach} study",
        ])
        abstract = self.background() + self.partnership() + self.rng.choice([
            "Conclusions: Trainee-led partnered research is feasible within a graduate "
            "programme when supervisors and partners plan for its timeline.",
            f"Conclusions: {_cap(self.trainees)} can lead {self.approach} that knowledge users "
            "value, with support from their supervisors and programmes.",
            f"Conclusions: Partnering with {partners} shaped the study from its question to "
            "the use of its findings.",
        ])
        return title, abstract

    def subtle(self, truth: str) -> tuple[str, str]:
        partners, topic, setting = self.partners, self.topic, self.setting
        if truth == "not_trainee":
            title = self.rng.choice([
                f"Engaging {partners} in research on {topic} in {setting}: {self.design} "
                f"with {self.trainees}",
                f"{_cap(self.approach)} with {partners} and {self.trainees}: {topic} in "
                f"{setting}",
            ])
            abstract = (
                self.background()
                + f"Methods: A research team of faculty members at {self.university}, with "
                f"{self.trainees} in {self.discipline}, worked with {partners} in "
                f"{self.design}. Knowledge users took part in {self.rng.choice(ACTIVITIES)}. "
                f"Results: The team and its partners reported {self.rng.choice(OUTCOMES)}. "
                f"Conclusions: Partnerships can train the next generation of researchers."
            )
        elif truth == "no_partnership":
            title = (f"{_cap(topic)} in {setting}: a {self.trainee}'s {self.plain_design[2:]} "
                     f"informed by {partners}")
            abstract = (
                f"Background: {_cap(topic)} matters to {partners} in {setting}. "
                f"Methods: As part of a {self.degree} in {self.discipline}, a {self.trainee} "
                f"conducted {self.plain_design}, informed by conversations with {partners}. "
                f"Results: The study describes {topic} among {self.population}. "
                "Conclusions: The findings were shared with the partners at the end of the "
                "study."
            )
        else:  # not_health: a partnership on a social question, not health research
            topic, partners = self.rng.choice(SOCIAL_FIELDS)
            region = self.rng.choice(REGIONS)
            self.keywords = ["participatory action research", topic]
            title = (f"{_cap(self.trainee)}-led participatory action research with {partners} "
                     f"on {topic} in {region}")
            abstract = (
                f"Background: {_cap(topic)} shapes the wellbeing of communities in {region}. "
                f"Methods: As part of a {self.degree}, a {self.trainee} worked with {partners} "
                f"through {self.rng.choice(ACTIVITIES)} to {self.rng.choice(STAGES)}. "
                f"Results: Partners reported {self.rng.choice(OUTCOMES)}. "
                "Conclusions: Participatory research builds community capacity."
            )
        return title, abstract

    def excluded(self, truth: str) -> tuple[str, str]:
        rng, partners, topic, setting = self.rng, self.partners, self.topic, self.setting
        if truth == "off_topic":
            n, months = rng.randrange(40, 900), rng.choice([3, 6, 12, 18, 24])
            if rng.random() < 0.5:
                intervention, measure, population = rng.choice(TRIALS)
                self.keywords = [measure, population]
                title = rng.choice([
                    f"Effect of {intervention} on {measure} in {population}: a randomised "
                    "controlled trial",
                    f"{_cap(intervention)} for {population} in {setting}: a randomised "
                    "controlled trial",
                    f"{_cap(intervention)} and {measure} in {population}: a cohort study in "
                    f"{setting}",
                ])
                abstract = (
                    f"Background: We tested whether {intervention} changes {measure} in "
                    f"{population}. Methods: In {setting}, {n} participants received "
                    f"{intervention} or usual care and were followed for {months} months. "
                    f"Results: The intervention group did better on {measure} than the "
                    f"usual-care group. Conclusions: {_cap(intervention)} may help "
                    f"{population}; larger studies are needed."
                )
            elif rng.random() < 0.5:
                self.keywords = ["knowledge translation", topic]
                title = rng.choice([
                    f"Knowledge translation strategies for {topic}: a systematic review",
                    f"Knowledge translation strategies for {topic} among {self.population}: "
                    "a systematic review",
                    f"Interventions to improve {topic} in {setting}: a systematic review",
                ])
                abstract = (
                    f"Background: Many strategies aim to bring evidence on {topic} into "
                    f"practice. Methods: We searched five databases and included "
                    f"{rng.randrange(12, 90)} studies. Results: Educational meetings and audit "
                    "and feedback were the most common strategies; few studies measured "
                    f"patient outcomes. Conclusions: Better evidence on {topic} is needed."
                )
            else:
                self.keywords = [self.discipline, "research training"]
                title = rng.choice([
                    f"Mentorship experiences of {self.discipline} {self.trainees} in "
                    f"{setting}: a qualitative study",
                    f"Research training environments in {self.discipline}: a survey of "
                    f"{self.trainees} in {setting}",
                ])
                abstract = (
                    f"Background: {_cap(self.trainees)} in {self.discipline} face growing "
                    f"expectations to publish and to obtain funding. Methods: We surveyed "
                    f"{n} {self.trainees} and interviewed {rng.randrange(8, 30)} of them. "
                    "Results: Supportive supervision and protected time were valued most. "
                    "Conclusions: Programmes should invest in mentorship."
                )
        elif truth == "not_trainee":
            self.keywords = [self.approach, topic]
            title = (f"{_cap(self.approach)} with {partners} to improve {topic} in {setting}: "
                     f"{self.design}")
            abstract = (
                self.background()
                + f"Methods: Senior researchers at {self.university} and {partners} formed a "
                f"steering group and carried out {self.design}. Results: The partnership "
                f"produced {rng.choice(OUTCOMES)}. Conclusions: Established research teams "
                "can sustain partnerships over several funding cycles."
            )
        elif truth == "no_partnership":
            self.keywords = [self.discipline, topic]
            title = f"{_cap(topic)} among {self.population} in {setting}: {self.plain_design}"
            abstract = (
                f"Background: {_cap(topic)} is poorly understood among {self.population}. "
                f"Methods: For a {self.degree} in {self.discipline}, we conducted "
                f"{self.plain_design} of {rng.randrange(60, 2000)} people. Results: "
                f"{_cap(rng.choice(MEASURES))} was associated with age and income. "
                f"Conclusions: Services for {topic} should reach those most at risk."
            )
        elif truth == "not_health":
            topic, partners = rng.choice(OTHER_FIELDS)
            region = rng.choice(REGIONS)
            self.keywords = ["co-design", topic]
            title = (f"{_cap(self.trainee)}-led co-design with {partners} on {topic} in "
                     f"{region}: {self.design}")
            abstract = (
                f"Background: Decisions about {topic} in {region} seldom draw on local "
                f"knowledge. Methods: A {self.trainee} worked with {partners} through "
                f"{rng.choice(ACTIVITIES)}. Results: Partners reported "
                f"{rng.choice(OUTCOMES)}. Conclusions: Co-design suits {topic}."
            )
        elif truth == "wrong_design":
            kind = rng.choice(["a commentary", "an editorial", "a position paper"])
            self.keywords = [self.approach, self.discipline, "graduate education"]
            title = rng.choice([
                f"Why {self.trainees} should learn {self.approach}: {kind} on {topic}",
                f"{_cap(self.approach)} in {self.discipline} graduate programmes: a call to "
                f"action for {topic}",
                f"Preparing {self.trainees} in {self.discipline} for partnered research on "
                f"{topic}: {kind}",
            ])
            abstract = (
                f"In this {kind.split(' ', 1)[1]}, we argue that {self.trainees} in "
                f"{self.discipline} need training and time to partner with knowledge users "
                f"such as {partners}. "
                f"We draw on our experience of supervising {self.approach} and propose "
                f"{rng.randrange(3, 9)} recommendations for programmes, supervisors and "
                "funders."
            )
        else:  # wrong_pubtype: a conference abstract
            title = (f"{_cap(self.trainee)}-led {self.approach} with {partners}: early lessons "
                     f"on {topic}")
            abstract = (
                f"Introduction: A {self.trainee} in {self.discipline} is working with "
                f"{partners} on {topic}. Methods: {_cap(self.design)}. Results: Preliminary "
                f"findings suggest {rng.choice(OUTCOMES)}. Conclusions: Work is ongoing."
            )
        return title, abstract


def _fold(title: str) -> str:
    return " ".join("".join(c for c in title.lower() if c.isalnum() or c == " ").split())



def _fill(rng: random.Random, work: Work, titles: set[str]) -> None:
    """Draw the text and the citation of `work` (a title no other work has)."""
    for _attempt in range(1000):
        writer = _Writer(rng, work.kind)
        if work.truth == "relevant":
            title, abstract = writer.relevant()
        elif work.subtle and work.truth in _SUBTLE:
            title, abstract = writer.subtle(work.truth)
        else:
            title, abstract = writer.excluded(work.truth)
        if _fold(title) not in titles:
            titles.add(_fold(title))
            break
    else:
        raise ValueError(f"No new title for a work excluded as {work.truth}.")
    work.title, work.abstract, work.writer = title, abstract, writer
    work.year = rng.choices(range(2005, 2021), weights=range(2, 18))[0]
    work.keywords = writer.keywords
    if work.truth == "relevant" or work.subtle:
        work.keywords.append("knowledge users")
    if work.kind == "THES":
        count = 1
    elif work.kind == "ELEC":
        count = rng.randrange(1, 3)
    else:
        count = rng.randrange(2, 7)
    work.authors = []
    for _ in range(count):
        given = rng.choice(GIVEN)
        if rng.random() < 0.5:
            given += f" {rng.choice('ABCDEFGHJKLMNPRSTW')}."
        work.authors.append((rng.choice(SURNAMES), given))
    if work.kind in ("JOUR", "CONF"):
        journal = rng.choice(JOURNALS)
        work.journal = journal
        work.volume = str(work.year - journal[3] + 1)
        work.issue = "Suppl 1" if work.kind == "CONF" else str(rng.randrange(1, 7))
        first = rng.randrange(1, 900)
        work.pages = (first, first + (0 if work.kind == "CONF" else rng.randrange(6, 17)))
        if work.kind == "JOUR":
            work.doi = f"{DOI_PREFIX}/{journal[2]}.{work.year}.{work.number:04d}"
    elif work.kind == "THES":
        work.publisher, work.degree = writer.university, writer.degree
        work.url = f"https://theses.example.org/{work.number:04d}"
    else:
        work.publisher = rng.choice(ORGANISATIONS)
        work.url = f"https://grey.example.org/{work.kind.lower()}/{work.number:04d}"


# ---------------------------------------------------------------------------------------------
# RIS, as each source writes it
# ---------------------------------------------------------------------------------------------

def _lines(pairs: list[tuple[str, str]]) -> str:
    return "".join(f"{tag}  - {value}\n" for tag, value in pairs if value) + "ER  - \n\n"


def _medline(work: Work, position: int, rng: random.Random) -> str:
    """Ovid MEDLINE: full names, the journal's abbreviation, a doi.org link."""
    journal = work.journal
    return _lines([
        ("TY", work.kind), ("ID", str(position)), ("T1", work.title + "."),
        *[("A1", f"{surname}, {given}") for surname, given in work.authors],
        ("Y1", str(work.year)), ("N2", work.abstract),
        *[("KW", _cap(k)) for k in work.keywords],
        ("JO", journal[1]), ("VL", work.volume), ("IS", work.issue),
        ("SP", str(work.pages[0])), ("EP", str(work.pages[1])),
        ("DO", f"https://dx.doi.org/{work.doi}" if work.doi else ""), ("LA", "English"),
    ])


def _initials(given: str) -> str:
    return "".join(part[0] + "." for part in given.split())


def _embase(work: Work, position: int, rng: random.Random) -> str:
    """Embase: initials, the journal's full name, the DOI in capitals."""
    journal = work.journal
    abstract = work.abstract
    if rng.random() < 0.5:
        abstract += f" Copyright (C) {work.year} The Author(s)."
    pages = work.pages
    return _lines([
        ("TY", work.kind), ("ID", f"E{position:05d}"), ("T1", work.title),
        *[("AU", f"{surname} {_initials(given)}") for surname, given in work.authors],
        ("JF", journal[0]),
        ("Y1", str(work.year)), ("VL", work.volume), ("IS", work.issue),
        ("SP", str(pages[0])), ("EP", str(pages[1]) if pages[1] != pages[0] else ""),
        ("N2", abstract), *[("KW", k) for k in work.keywords], ("LA", "English"),
        ("M3", "Conference Abstract" if work.kind == "CONF" else "Article"),
        ("N1", f"Conference: {CONFERENCE} {work.year}" if work.kind == "CONF" else ""),
        ("DO", work.doi.upper()),
    ])


def _ebsco(database: str, work: Work, position: int, rng: random.Random) -> str:
    """CINAHL and PsycINFO (EBSCO): surname and initials without stops, the journal's full
    name, a page range in one field, often no DOI; PsycINFO also holds dissertations."""
    code = "ccm" if database.startswith("CINAHL") else "psyh"
    authors = [("AU", f"{surname}, {_initials(given).replace('.', '')}")
               for surname, given in work.authors]
    common = [("TY", work.kind), ("ID", f"{code}-{position:05d}"), ("TI", work.title),
              *authors, ("PY", str(work.year)), ("AB", work.abstract),
              *[("KW", k) for k in work.keywords], ("DB", database),
              ("UR", f"https://search.example.org/{code}/{position:05d}")]
    if work.kind == "THES":
        return _lines(common + [("PB", work.publisher), ("M3", "Dissertation")])
    return _lines(common + [
        ("JO", work.journal[0]), ("VL", work.volume), ("IS", work.issue),
        ("SP", f"{work.pages[0]}-{work.pages[1]}"),
        ("DO", work.doi if rng.random() < 0.6 else ""),  # EBSCO records often lack it
    ])


def _grey(work: Work, position: int, rng: random.Random) -> str:
    kind = {"THES": "Doctoral thesis" if "doctoral" in work.degree else "Master's thesis",
            "RPRT": "Report", "ELEC": "Web page"}[work.kind]
    return _lines([
        ("TY", work.kind), ("ID", f"G{position:03d}"), ("TI", work.title),
        *[("AU", f"{surname}, {given}") for surname, given in work.authors],
        ("PY", str(work.year)), ("AB", work.abstract), ("PB", work.publisher),
        ("M3", kind), ("UR", work.url), *[("KW", k) for k in work.keywords],
    ])


_CONCEPTS = (
    "(graduate student* or doctoral student* or PhD student* or master* student* or "
    "postdoc* or post-doc* or trainee* or dissertation* or thesis)",
    "(\"integrated knowledge translation\" or iKT or co-produc* or coproduc* or co-design* or "
    "codesign* or \"research partnership*\" or \"participatory research\" or \"participatory "
    "action research\" or \"community-based participatory research\" or \"engaged "
    "scholarship\" or \"patient-oriented research\" or \"knowledge user*\")",
)
STRATEGIES = [
    f"""\
Ovid MEDLINE(R) ALL <1946 to June 23, 2020>, searched 24 June 2020
1. exp Students, Health Occupations/ or {_CONCEPTS[0]}.ti,ab.
2. {_CONCEPTS[1]}.ti,ab,kf.
3. Community-Based Participatory Research/ or Stakeholder Participation/ or Translational \
Research, Biomedical/
4. 2 or 3
5. 1 and 4
6. limit 5 to english language""",
    f"""\
Embase (Elsevier, Embase.com), searched 24 June 2020
#1 'graduate student'/exp OR 'student'/exp OR {_CONCEPTS[0]}:ti,ab
#2 'participatory research'/exp OR 'knowledge translation'/exp OR {_CONCEPTS[1]}:ti,ab
#3 #1 AND #2
#4 #3 AND [english]/lim""",
    f"""\
CINAHL with Full Text (EBSCO), searched 24 June 2020
S1 (MH "Students, Graduate+") OR (MH "Students, Nursing, Graduate") OR TI {_CONCEPTS[0]} OR \
AB {_CONCEPTS[0]}
S2 (MH "Action Research") OR (MH "Knowledge Translation") OR TI {_CONCEPTS[1]} OR \
AB {_CONCEPTS[1]}
S3 S1 AND S2
S4 S3, limiters: English Language""",
    f"""\
APA PsycInfo (EBSCO), searched 24 June 2020
S1 DE "Graduate Students" OR DE "Postdoctoral Students" OR TI {_CONCEPTS[0]} OR \
AB {_CONCEPTS[0]}
S2 DE "Action Research" OR DE "Knowledge Transfer" OR TI {_CONCEPTS[1]} OR \
AB {_CONCEPTS[1]}
S3 S1 AND S2
S4 S3, limiters: English; dissertations included""",
]
OTHER_STRATEGY = """\
Other sources, searched 24 June 2020 and after
Google: "integrated knowledge translation" trainee OR "graduate student" OR "doctoral \
student", first 100 results; websites of the IKT Research Network, CLAHRCs and KT Canada; \
theses repositories; emails to content experts and the networks' members; reference \
chaining of every included paper."""
_FILENAMES = ["medline-ovid-2020-06-24.ris", "embase-2020-06-24.ris",
              "cinahl-ebsco-2020-06-24.ris", "psycinfo-ebsco-2020-06-24.ris"]


def build_demo(seed: int = SEED) -> Demo:
    """The demo's works and the five RIS exports that hold them: the same every time."""
    rng = random.Random(seed)
    # Which sources hold each work: the shared works first, then each database's own.
    holders: list[tuple[int, ...]] = [sources for sources, n in SHARED.items()
                                      for _ in range(n)]
    for index, size in enumerate(DATABASE_SIZES):
        shared = sum(n for sources, n in SHARED.items() if index in sources)
        holders += [(index,)] * (size - shared)
    other = len(DATABASES)
    holders += [(other,)] * OTHER_SIZE
    works = [Work(number=0, fate="", truth="", kind="JOUR") for _ in holders]
    by_holders: dict[tuple[int, ...], list[int]] = {}
    for i, sources in enumerate(holders):
        by_holders.setdefault(sources, []).append(i)

    def take(ids: list[int], n: int) -> list[int]:
        picked = rng.sample(ids, n)
        for i in picked:
            ids.remove(i)
        return picked

    psycinfo, embase = by_holders[(3,)], by_holders[(1,)]
    others = by_holders[(other,)]
    rng.shuffle(others)
    included = take(psycinfo, INCLUDED_PSYCINFO_THESES)
    for i in included:
        works[i].kind = "THES"
    for i, kind in zip(others[:len(INCLUDED_OTHER)], INCLUDED_OTHER, strict=True):
        works[i].kind = kind
        included.append(i)
    for i, kind in zip(others[len(INCLUDED_OTHER):], EXCLUDED_OTHER, strict=True):
        works[i].kind, works[i].fate = kind, "ta_exclude"
        works[i].truth = rng.choice(_CLEAR[kind])
    for i in take(psycinfo, EXCLUDED_PSYCINFO_THESES):
        works[i].kind, works[i].fate = "THES", "ta_exclude"
        works[i].truth = rng.choice(_CLEAR["THES"])
    for i in take(embase, FULL_TEXT_REASONS["wrong_pubtype"]):
        works[i].kind, works[i].fate, works[i].truth = "CONF", "ft_exclude", "wrong_pubtype"
    journal_works = [i for i, w in enumerate(works) if not w.fate and i not in included]
    included += take(journal_works, 34)
    fates = ["ft_include"] * FATES["ft_include"] + ["ft_conflict_in"] * FATES["ft_conflict_in"]
    rng.shuffle(fates)
    for i, fate in zip(included, fates, strict=True):
        works[i].fate, works[i].truth = fate, "relevant"
    # The rest are journal articles: every other fate, in the planned numbers.
    left = {fate: n for fate, n in FATES.items() if fate not in INCLUDED_FATES}
    left["ta_exclude"] -= len(EXCLUDED_OTHER) + EXCLUDED_PSYCINFO_THESES
    left["ft_exclude"] -= FULL_TEXT_REASONS["wrong_pubtype"]
    fates = [fate for fate, n in left.items() for _ in range(n)]
    if len(fates) != len(journal_works):
        raise ValueError("FATES must give each work one fate.")
    rng.shuffle(fates)
    reasons = [r for r, n in FULL_TEXT_REASONS.items() if r != "wrong_pubtype"
               for _ in range(n)]
    rng.shuffle(reasons)
    for i, fate in zip(journal_works, fates, strict=True):
        work = works[i]
        work.fate = fate
        if fate in FULL_TEXT_FATES:
            work.truth = reasons.pop()
        elif fate.startswith("ta_conflict"):
            work.truth = rng.choice(_SUBTLE)
        else:
            work.truth = rng.choice(_CLEAR["JOUR"])
    full_text = [w for w in works if w.fate in FULL_TEXT_FATES]
    for work in rng.sample(full_text, TA_CONFLICT_IN):
        work.ta_conflict = True

    # Each source's export lists its works in its own order.
    orders = [[i for i, sources in enumerate(holders) if index in sources]
              for index in range(len(DATABASES) + 1)]
    for order in orders:
        rng.shuffle(order)
    for index, order in enumerate(orders):
        for position, i in enumerate(order, 1):
            works[i].places.append((index, position))
    for work in works:
        work.places.sort()
    works.sort(key=lambda w: w.places[0])
    titles: set[str] = set()
    for number, work in enumerate(works, 1):
        work.number = number
        _fill(rng, work, titles)
    by_place = {place: w for w in works for place in w.places}
    sources = []
    for index, name in enumerate(DATABASES):
        if index < 2:
            write = _medline if index == 0 else _embase
        else:
            def write(w, p, r, name=name):
                return _ebsco(name, w, p, r)
        text = "".join(write(by_place[index, p], p, rng)
                       for p in range(1, DATABASE_SIZES[index] + 1))
        sources.append(DemoSource(name, Source.Kind.DATABASE, _FILENAMES[index],
                                  STRATEGIES[index], text, DATABASE_SIZES[index]))
    text = "".join(_grey(by_place[other, p], p, rng) for p in range(1, OTHER_SIZE + 1))
    sources.append(DemoSource(OTHER_NAME, Source.Kind.OTHER, "other-sources-2020.ris",
                              OTHER_STRATEGY, text, OTHER_SIZE))
    return Demo(sources=sources, works=works)
