"""The demo review that `make run` seeds: its team (projects.demo), a few hundred records
and the votes on them, so that a new user can try every role at once.

Every record is synthetic and written here. A random.Random with a fixed seed draws titles,
abstracts, authors, journals and identifiers from the phrase lists below (the journals,
universities and organisations are made up; DOIs use the example prefix 10.5555) and writes
them out as the RIS exports of three sources, searched on 24 June 2020 as in the review of
../shared/reference: two databases that overlap (the same work written the way each database
writes it) and grey literature. They go through the services a team uses: `import_file`,
`deduplicate`, then `record_vote` for `ada` and `ben`, following a plan that leaves records
waiting for each of them, conflicts for `lead` and records at full text. No third-party
record is shipped.

This lives in the project package because it uses every app; projects must not import
references or screening.
"""

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from django.db import transaction

from accounts.models import User
from projects import demo as project_demo
from projects.models import Project
from references.deduplication import deduplicate
from references.models import Record, Source
from references.services import import_file
from screening.models import Decision, Screening, Stage, Vote
from screening.queries import eligible, needing_vote_of, stage_counts
from screening.services import record_vote, set_full_text

SEED = 20200624
SEARCH_DATE = date(2020, 6, 24)
DOI_PREFIX = "10.5555"  # an example prefix: no real work has these DOIs

# How many works each source holds: SHARED works are in both databases (true duplicates).
MEDLINE_ONLY, SHARED, EMBASE_ONLY, OTHER = 100, 40, 90, 25

# What happens to each work (one per record left after deduplication), by count.
# ta_*: ada and ben both vote at title and abstract; ft_*: both include it there, then at
# full text both vote (ft_waiting: nobody has yet); *_only: one vote, waiting for the other.
FATES = {
    "ta_exclude": 82,
    "ta_conflict": 8,
    "ft_include": 7,
    "ft_exclude": 5,
    "ft_conflict": 3,
    "ft_waiting": 15,
    "ada_only": 30,
    "ben_only": 30,
    "untouched": 75,
}
FULL_TEXT_FATES = ("ft_include", "ft_exclude", "ft_conflict", "ft_waiting")
# Of the ft_waiting works, how many full texts nobody could obtain (marked not retrieved).
NOT_RETRIEVED = 1

# A work's "truth": relevant, or what excludes it; the full-text reason that goes with it.
REASONS = {
    "not_trainee": "Author not a trainee",
    "no_partnership": "Partnership approach not described",
    "not_health": "Not health research",
    "wrong_design": "Wrong design",
    "wrong_pubtype": "Wrong publication type",
}

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

# ---------------------------------------------------------------------------------------------
# The synthetic works
# ---------------------------------------------------------------------------------------------


@dataclass
class Work:
    """One synthetic work, as it is before any source writes it out."""

    number: int
    fate: str
    truth: str  # "relevant", "off_topic" or a key of REASONS: why it is excluded
    subtle: bool  # looks relevant at title and abstract, excluded at full text
    kind: str  # RIS type: JOUR, CONF, THES, RPRT, ELEC
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

    @property
    def reasons(self) -> tuple[str, str]:
        """The full-text exclusion reasons of ada and ben (different in a conflict)."""
        mine = REASONS[self.truth]
        if self.fate != "ft_conflict":
            return mine, mine
        other = next(r for k, r in REASONS.items() if k in _SUBTLE[self.kind] and r != mine)
        return mine, other


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


# Exclusions a work of each kind can have: clear ones (excluded at title and abstract) and
# subtle ones (a work that looks relevant until its full text is read).
_CLEAR = {
    "JOUR": ["off_topic"] * 4 + ["not_trainee"] * 2 + ["no_partnership"] * 2
    + ["not_health", "wrong_design", "wrong_design"],
    "CONF": ["wrong_pubtype"],
    "THES": ["no_partnership", "no_partnership", "not_health"],
    "RPRT": ["off_topic", "not_trainee", "wrong_design"],
    "ELEC": ["off_topic", "not_trainee", "wrong_design"],
}
_SUBTLE = {
    "JOUR": ["not_trainee", "no_partnership", "not_health"],
    "THES": ["no_partnership", "not_health"],
    "RPRT": ["not_trainee", "no_partnership"],
    "ELEC": ["not_trainee", "no_partnership"],
}
_OTHER_KINDS = ["THES"] * 8 + ["RPRT"] * 9 + ["ELEC"] * 8


def _truth(rng: random.Random, fate: str, kind: str, embase_only: bool) -> tuple[str, bool, str]:
    """(truth, subtle, kind): what the work is about, given what happens to it."""
    subtle = rng.choice(_SUBTLE[kind])
    if fate == "ft_include":
        return "relevant", False, kind
    if fate in ("ft_exclude", "ft_conflict", "ta_conflict"):
        return subtle, True, kind
    if fate == "ft_waiting":
        return ("relevant", False, kind) if rng.random() < 0.6 else (subtle, True, kind)
    if fate != "ta_exclude":  # a single vote or none yet
        draw = rng.random()
        if draw < 0.15:
            return "relevant", False, kind
        if draw < 0.25:
            return subtle, True, kind
    if embase_only and rng.random() < 0.12:  # Embase holds conference abstracts
        return "wrong_pubtype", False, "CONF"
    return rng.choice(_CLEAR[kind]), False, kind


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
                title = f"Knowledge translation strategies for {topic}: a systematic review"
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
                    f"Mentorship experiences of {self.discipline} {self.trainees}: a "
                    "qualitative study",
                    f"Research training environments in {self.discipline}: a survey of "
                    f"{self.trainees}",
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
                f"Why {self.trainees} should learn {self.approach}: {kind}",
                f"{_cap(self.approach)} in {self.discipline} graduate programmes: a call to "
                "action",
                f"Preparing {self.trainees} in {self.discipline} for partnered research: "
                f"{kind}",
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
    while True:
        writer = _Writer(rng, work.kind)
        if work.truth == "relevant":
            title, abstract = writer.relevant()
        elif work.subtle:
            title, abstract = writer.subtle(work.truth)
        else:
            title, abstract = writer.excluded(work.truth)
        if _fold(title) not in titles:
            titles.add(_fold(title))
            break
    work.title, work.abstract = title, abstract
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


def _medline(work: Work, position: int) -> str:
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


def _embase(work: Work, position: int, copyright_line: bool) -> str:
    """Embase: initials, the journal's full name, the DOI in capitals."""
    journal = work.journal
    abstract = work.abstract
    if copyright_line:
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


def _grey(work: Work, position: int) -> str:
    kind = {"THES": "Doctoral thesis" if "doctoral" in work.degree else "Master's thesis",
            "RPRT": "Report", "ELEC": "Web page"}[work.kind]
    return _lines([
        ("TY", work.kind), ("ID", f"G{position:03d}"), ("TI", work.title),
        *[("AU", f"{surname}, {given}") for surname, given in work.authors],
        ("PY", str(work.year)), ("AB", work.abstract), ("PB", work.publisher),
        ("M3", kind), ("UR", work.url), *[("KW", k) for k in work.keywords],
    ])


MEDLINE_STRATEGY = """\
Ovid MEDLINE(R) ALL <1946 to June 23, 2020>, searched 24 June 2020
1. exp Students, Health Occupations/ or (graduate student* or doctoral student* or PhD \
student* or master* student* or postdoc* or post-doc* or trainee*).ti,ab.
2. ("integrated knowledge translation" or iKT or co-produc* or co-design* or "research \
partnership*" or "participatory research" or "participatory action research").ti,ab.
3. Community-Based Participatory Research/ or Stakeholder Participation/
4. 2 or 3
5. 1 and 4
6. limit 5 to english language"""

EMBASE_STRATEGY = """\
Embase (Elsevier), searched 24 June 2020
#1 'graduate student'/exp OR 'doctoral student*':ti,ab OR 'phd student*':ti,ab OR \
'postdoctoral fellow*':ti,ab OR trainee*:ti,ab
#2 'integrated knowledge translation':ti,ab OR 'co-production':ti,ab OR 'co-design':ti,ab \
OR 'research partnership*':ti,ab OR 'participatory research'/exp
#3 #1 AND #2
#4 #3 AND [english]/lim"""

OTHER_STRATEGY = """\
Google Scholar and grey literature, searched 24 June 2020
Google Scholar: "integrated knowledge translation" AND (trainee OR "graduate student" OR \
"doctoral student"), first 100 results screened for theses and reports.
Websites of knowledge translation networks and graduate programmes; theses repositories."""


def build_demo(seed: int = SEED) -> Demo:
    """The demo's works and the three RIS exports that hold them: the same every time."""
    rng = random.Random(seed)
    # Where each work is: MEDLINE holds the first MEDLINE_ONLY + SHARED works (the shared
    # ones scattered), Embase the shared ones again with its own, in its own order.
    medline_numbers = list(range(MEDLINE_ONLY + SHARED))
    shared = sorted(rng.sample(medline_numbers, SHARED))
    embase_only = list(range(len(medline_numbers), len(medline_numbers) + EMBASE_ONLY))
    embase_numbers = shared + embase_only
    rng.shuffle(embase_numbers)
    first_other = len(medline_numbers) + EMBASE_ONLY
    other_numbers = list(range(first_other, first_other + OTHER))

    fates = [fate for fate, count in FATES.items() for _ in range(count)]
    if len(fates) != first_other + OTHER:
        raise ValueError("FATES must give each work one fate.")
    rng.shuffle(fates)
    # Works in the order of their primary records: MEDLINE, then Embase's own, then others.
    primary_order = medline_numbers + [n for n in embase_numbers if n >= len(medline_numbers)] \
        + other_numbers
    works: dict[int, Work] = {}
    kinds = _OTHER_KINDS.copy()
    rng.shuffle(kinds)
    for fate, number in zip(fates, primary_order, strict=True):
        kind = kinds[number - first_other] if number >= first_other else "JOUR"
        truth, subtle, kind = _truth(rng, fate, kind, embase_only=number in embase_only)
        works[number] = Work(number=number + 1, fate=fate, truth=truth, subtle=subtle,
                             kind=kind)
    titles: set[str] = set()
    for number in primary_order:
        _fill(rng, works[number], titles)

    medline = "".join(_medline(works[n], pos) for pos, n in enumerate(medline_numbers, 1))
    embase = "".join(_embase(works[n], pos, copyright_line=rng.random() < 0.5)
                     for pos, n in enumerate(embase_numbers, 1))
    other = "".join(_grey(works[n], pos) for pos, n in enumerate(other_numbers, 1))
    for index, numbers in enumerate((medline_numbers, embase_numbers, other_numbers)):
        for position, number in enumerate(numbers, 1):
            works[number].places.append((index, position))
    sources = [
        DemoSource("MEDLINE (Ovid)", Source.Kind.DATABASE, "medline-ovid-2020-06-24.ris",
                   MEDLINE_STRATEGY, medline, len(medline_numbers)),
        DemoSource("Embase", Source.Kind.DATABASE, "embase-2020-06-24.ris", EMBASE_STRATEGY,
                   embase, len(embase_numbers)),
        DemoSource("Google Scholar / grey literature", Source.Kind.OTHER,
                   "grey-literature-2020-06-24.ris", OTHER_STRATEGY, other, len(other_numbers)),
    ]
    return Demo(sources=sources, works=[works[n] for n in primary_order])


# ---------------------------------------------------------------------------------------------
# Seeding
# ---------------------------------------------------------------------------------------------


@dataclass
class DemoSummary:
    project: Project
    created: bool  # this run seeded something (the project, or its records and votes)
    sources: list[tuple[str, int]]  # name, records
    records: int
    duplicates: int
    votes: dict[str, Counter]  # stage -> reviewer username -> votes
    conflicts: dict[str, int]  # stage -> records in conflict
    waiting: dict[str, dict[str, int]]  # stage -> reviewer username -> records needing them
    full_text: int  # records that passed title and abstract screening
    not_retrieved: int  # of those, full texts that could not be obtained

    def lines(self) -> list[str]:
        sources = ", ".join(f"{name} {count}" for name, count in self.sources)
        out = [f"Records: {self.records} from {len(self.sources)} sources ({sources}); "
               f"{self.duplicates} duplicates removed, {self.records - self.duplicates} "
               "to screen."]
        for stage, label in ((Stage.TITLE_ABSTRACT, "Title and abstract"),
                             (Stage.FULL_TEXT, "Full text")):
            votes = self.votes[stage]
            waiting = self.waiting[stage]
            at = f" ({self.full_text} records)" if stage == Stage.FULL_TEXT else ""
            missing = (f", {self.not_retrieved} not retrieved" if stage == Stage.FULL_TEXT
                       else "")
            out.append(
                f"{label}{at}: {sum(votes.values())} votes (ada {votes['ada']}, "
                f"ben {votes['ben']}), {self.conflicts[stage]} conflicts for lead{missing}; "
                f"{waiting['ada']} records wait for ada, {waiting['ben']} for ben.")
        return out


def _title_abstract_votes(work: Work, index: int) -> dict[str, str]:
    """reviewer -> decision at title and abstract."""
    looks_in = work.truth == "relevant" or work.subtle
    if work.fate == "ta_exclude":
        return {"ada": Decision.EXCLUDE, "ben": Decision.EXCLUDE}
    if work.fate == "ta_conflict":  # one of them includes, or says maybe
        yes = Decision.MAYBE if index % 3 == 0 else Decision.INCLUDE
        return {"ada": yes, "ben": Decision.EXCLUDE} if index % 2 else {
            "ada": Decision.EXCLUDE, "ben": yes}
    if work.fate in FULL_TEXT_FATES:  # maybe counts as include
        unsure = Decision.MAYBE if work.subtle else Decision.INCLUDE
        return {"ada": Decision.INCLUDE, "ben": unsure} if index % 2 else {
            "ada": unsure, "ben": Decision.INCLUDE}
    decision = (Decision.INCLUDE if work.truth == "relevant" else Decision.MAYBE) if looks_in \
        else Decision.EXCLUDE
    if work.fate == "ada_only":
        return {"ada": decision}
    if work.fate == "ben_only":
        return {"ben": decision}
    return {}


def _seed_records(project: Project) -> None:
    """Import the three sources as the lead, deduplicate, then cast ada's and ben's votes
    as FATES plans them."""
    users = {u.username: u for u in User.objects.filter(username__in=["lead", "ada", "ben"])}
    demo = build_demo()
    source_ids = []
    for source in demo.sources:
        report = import_file(
            project=project, data=source.text.encode(), filename=source.filename,
            source_name=source.name, source_kind=source.kind, date_searched=SEARCH_DATE,
            search_strategy=source.search_strategy, user=users["lead"])
        source_ids.append(report.source.pk)
    deduplicate(project, user=users["lead"])
    records = {(r.source_id, r.source_position): r
               for r in Record.objects.filter(project=project).select_related("project")}
    primaries = [records[source_ids[work.places[0][0]], work.places[0][1]]
                 for work in demo.works]
    for index, (work, record) in enumerate(zip(demo.works, primaries, strict=True)):
        for username, decision in _title_abstract_votes(work, index).items():
            record_vote(record, stage=Stage.TITLE_ABSTRACT, reviewer=users[username],
                        decision=decision)
    for work, record in zip(demo.works, primaries, strict=True):
        if work.fate == "ft_include":
            for username in ("ada", "ben"):
                record_vote(record, stage=Stage.FULL_TEXT, reviewer=users[username],
                            decision=Decision.INCLUDE)
        elif work.fate in ("ft_exclude", "ft_conflict"):
            for username, reason in zip(("ada", "ben"), work.reasons, strict=True):
                record_vote(record, stage=Stage.FULL_TEXT, reviewer=users[username],
                            decision=Decision.EXCLUDE, reason=reason)
    waiting = [record for work, record in zip(demo.works, primaries, strict=True)
               if work.fate == "ft_waiting"]
    for record in waiting[:NOT_RETRIEVED]:
        set_full_text(record, user=users["ada"], not_retrieved=True,
                      note="Asked the library twice; no copy came.")


def summarise(project: Project, *, created: bool = False) -> DemoSummary:
    """What the demo project holds now, counted from the database."""
    reviewers = {u.username: u for u in User.objects.filter(username__in=["ada", "ben"])}
    votes = {stage: Counter(Vote.objects.filter(screening__project=project,
                                                screening__stage=stage)
                            .values_list("reviewer__username", flat=True))
             for stage in Stage.values}
    return DemoSummary(
        project=project, created=created,
        sources=[(s.name, s.record_count) for s in Source.objects.filter(project=project)],
        records=Record.objects.filter(project=project).count(),
        duplicates=Record.objects.filter(project=project, duplicate_of__isnull=False).count(),
        votes=votes,
        conflicts={stage: Screening.objects.filter(project=project, stage=stage,
                                                   state=Screening.State.CONFLICT).count()
                   for stage in Stage.values},
        waiting={stage: {name: needing_vote_of(project, stage, user).count()
                         for name, user in reviewers.items()} for stage in Stage.values},
        full_text=eligible(project, Stage.FULL_TEXT).count(),
        not_retrieved=stage_counts(project, Stage.FULL_TEXT)["not_retrieved"],
    )


def seed_demo() -> DemoSummary:
    """Seed the demo users and project, then (when the project has no sources yet) its
    records, deduplication and votes, all in one transaction: safe to run any number of
    times, a second run changes nothing."""
    with transaction.atomic():
        project, created = project_demo.seed_demo()
        if not Source.objects.filter(project=project).exists():
            _seed_records(project)
            created = True
    return summarise(project, created=created)
