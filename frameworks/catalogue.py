"""The built-in frameworks: each with its rule, citation and ordered categories, and a
short definition of every category in our own words (coders see it beside the choice).

The data migration `0002_catalogue` writes these rows (project=None); a project that picks
one gets its own copy (`catalogue_services.use_framework`). Categories nest by `children`:
the TDF domains under their COM-B component, WIDER's mode-of-delivery tags under its item.
"""

from __future__ import annotations

# One framework: key, name, rule (single/multiple/text/excerpt), ordered, citation,
# description, categories [(key, name, definition, children)], children the same shape.
CATALOGUE: list[dict] = [
    {
        "key": "kta",
        "name": "Knowledge-to-Action cycle: action phases",
        "rule": "multiple",
        "ordered": False,
        "citation": "Graham ID, Logan J, Harrison MB, et al. Lost in knowledge translation: "
                    "time for a map? J Contin Educ Health Prof. 2006;26(1):13-24.",
        "description": "The phases of the action cycle a study worked in; a study may sit "
                       "in several.",
        "categories": [
            ("identify-problem", "Identify problem; identify, review, select knowledge",
             "The study names a gap or problem and finds, appraises or chooses the "
             "knowledge that could address it.", []),
            ("adapt-knowledge", "Adapt knowledge to local context",
             "The knowledge is fitted to the setting where it will be used.", []),
            ("assess-barriers", "Assess barriers/facilitators to knowledge use",
             "The study looks at what helps or hinders using the knowledge.", []),
            ("select-interventions", "Select, tailor, implement interventions",
             "Interventions to get the knowledge used are chosen, adjusted and put in "
             "place.", []),
            ("monitor-use", "Monitor knowledge use",
             "The study follows whether and how the knowledge is being used.", []),
            ("evaluate-outcomes", "Evaluate outcomes",
             "The effects of using the knowledge are measured or judged.", []),
            ("sustain-use", "Sustain knowledge use",
             "Work to keep the knowledge in use after the first effort ends.", []),
        ],
    },
    {
        "key": "iap2",
        "name": "IAP2 Spectrum of Public Participation",
        "rule": "single",
        "ordered": True,
        "citation": "International Association for Public Participation. IAP2 Spectrum of "
                    "Public Participation. 2018.",
        "description": "The one level of participation knowledge users had in the study, "
                       "from least to most influence.",
        "categories": [
            ("inform", "Inform",
             "Knowledge users are told about the research; they do not shape it.", []),
            ("consult", "Consult",
             "Knowledge users give feedback that the researchers may take into account.",
             []),
            ("involve", "Involve",
             "Knowledge users work with the researchers throughout so their concerns are "
             "reflected in the work.", []),
            ("collaborate", "Collaborate",
             "Knowledge users are partners in each decision, including finding "
             "solutions.", []),
            ("empower", "Empower",
             "Knowledge users make the final decisions.", []),
            ("not-reported", "Not reported",
             "The study does not say enough to place it on the spectrum.", []),
        ],
    },
    {
        "key": "research-stages",
        "name": "Research stages with knowledge users engaged",
        "rule": "multiple",
        "ordered": False,
        "citation": "Stages of the research process in which knowledge users took part, "
                    "as charted by Cassidy et al. Health Res Policy Syst. 2021.",
        "description": "Every stage of the research in which knowledge users took part.",
        "categories": [
            ("research-question", "Research question",
             "Knowledge users helped decide what the study asks.", []),
            ("research-proposal", "Research proposal",
             "Knowledge users helped write or shape the plan or funding application.", []),
            ("pre-study-administration", "Pre-study launch administration",
             "Knowledge users helped with approvals, agreements or set-up before the study "
             "began.", []),
            ("recruitment-data-collection", "Recruitment and data collection",
             "Knowledge users helped recruit participants or gather the data.", []),
            ("data-analysis", "Data analysis",
             "Knowledge users helped analyse or interpret the findings.", []),
            ("dissemination-implementation", "Dissemination and implementation",
             "Knowledge users helped share the results or put them into use.", []),
        ],
    },
    {
        "key": "wider",
        "name": "WIDER checklist",
        "rule": "text",
        "ordered": False,
        "citation": "Albrecht L, Archibald M, Arseneau D, Scott SD. Development of a "
                    "checklist to assess the quality of reporting of knowledge translation "
                    "interventions using the Workgroup for Intervention Development and "
                    "Evaluation Research (WIDER) recommendations. Implement Sci. 2013;8:52.",
        "description": "A short free-text description of the partnership for each item; "
                       "the mode of delivery also takes tags.",
        "categories": [
            ("content", "Content",
             "What the partnership activities were about and what they covered.", []),
            ("mode-of-delivery", "Mode of delivery",
             "How the partners worked together and exchanged information.", [
                 ("meetings", "Meetings", "Partners met in person or online.", []),
                 ("written-communication", "Written communication",
                  "Partners exchanged documents, reports or letters.", []),
                 ("email", "Email", "Partners corresponded by email.", []),
                 ("phone", "Phone", "Partners spoke by telephone.", []),
             ]),
            ("duration-frequency", "Duration/frequency",
             "How long the partnership lasted and how often partners engaged.", []),
            ("participants", "Participants",
             "Who the knowledge users were.", []),
            ("personnel", "Personnel",
             "Who on the research side ran or took part in the activities.", []),
        ],
    },
    {
        "key": "com-b-tdf",
        "name": "COM-B with the Theoretical Domains Framework",
        "rule": "excerpt",
        "ordered": False,
        "citation": "Michie S, van Stralen MM, West R. The behaviour change wheel. "
                    "Implement Sci. 2011;6:42. Cane J, O'Connor D, Michie S. Validation of "
                    "the theoretical domains framework. Implement Sci. 2012;7:37.",
        "description": "The component of behaviour, and the TDF domain(s) under it, that "
                       "a barrier or facilitator touches.",
        "categories": [
            ("capability-psychological", "Capability, psychological",
             "Having the know-how and mental capacity to take part.", [
                 ("knowledge", "Knowledge",
                  "Being aware of or understanding something relevant.", []),
                 ("skills-cognitive", "Skills (cognitive/interpersonal)",
                  "Mental or people skills gained through practice.", []),
                 ("memory-attention-decision", "Memory, attention and decision processes",
                  "Keeping things in mind, focusing, and choosing between options.", []),
                 ("behavioural-regulation", "Behavioural regulation",
                  "Ways of managing or changing one's own actions.", []),
             ]),
            ("capability-physical", "Capability, physical",
             "Having the bodily capacity to take part.", [
                 ("skills-physical", "Skills (physical)",
                  "Practical, hands-on abilities gained through practice.", []),
             ]),
            ("opportunity-social", "Opportunity, social",
             "What other people and the culture around make possible.", [
                 ("social-influences", "Social influences",
                  "How other people shape thoughts, feelings or actions.", []),
             ]),
            ("opportunity-physical", "Opportunity, physical",
             "What the setting, time and resources make possible.", [
                 ("environmental-context", "Environmental context and resources",
                  "Surroundings, resources and circumstances that help or hinder.", []),
             ]),
            ("motivation-reflective", "Motivation, reflective",
             "Conscious plans, evaluations and beliefs.", [
                 ("role-identity", "Social/professional role and identity",
                  "How a person sees their role and who they are at work.", []),
                 ("beliefs-capabilities", "Beliefs about capabilities",
                  "Confidence in one's own ability to do it.", []),
                 ("optimism", "Optimism",
                  "Expecting that things will turn out well.", []),
                 ("beliefs-consequences", "Beliefs about consequences",
                  "What a person expects to happen as a result.", []),
                 ("intentions", "Intentions",
                  "A deliberate decision to act in a certain way.", []),
                 ("goals", "Goals",
                  "The end states a person wants to reach.", []),
             ]),
            ("motivation-automatic", "Motivation, automatic",
             "Habits, impulses and feelings.", [
                 ("reinforcement", "Reinforcement",
                  "Rewards or penalties that make an action more or less likely.", []),
                 ("emotion", "Emotion",
                  "Feelings that come with or drive the action.", []),
             ]),
        ],
    },
    {
        "key": "mcleroy",
        "name": "McLeroy social-ecological model",
        "rule": "excerpt",
        "ordered": True,
        "citation": "McLeroy KR, Bibeau D, Steckler A, Glanz K. An ecological perspective on "
                    "health promotion programs. Health Educ Q. 1988;15(4):351-77.",
        "description": "The level(s) at which a barrier or facilitator acts; one excerpt "
                       "may sit at several. A project may use a subset of the levels.",
        "categories": [
            ("individual", "Individual (intrapersonal)",
             "Traits, knowledge and attitudes of a single person.", []),
            ("interpersonal", "Interpersonal",
             "Relationships and interactions between people.", []),
            ("organizational", "Organizational (institutional)",
             "Rules, structures and culture of the organizations involved.", []),
            ("community", "Community",
             "Links between organizations and groups in a place or network.", []),
            ("public-policy", "Public policy",
             "Laws and policies at local, regional or national level.", []),
        ],
    },
    {
        "key": "outcomes",
        "name": "Outcome categories (after Gagliardi et al.)",
        "rule": "excerpt",
        "ordered": True,
        "citation": "Gagliardi AR, Berta W, Kothari A, Boyko J, Urquhart R. Integrated "
                    "knowledge translation (IKT) in health care: a scoping review. "
                    "Implement Sci. 2016;11:38.",
        "description": "When an outcome of the partnership showed, for each reported "
                       "outcome.",
        "categories": [
            ("immediate", "Immediate",
             "While the partnership forms: partners understand each other and value "
             "working together.", []),
            ("intermediate", "Intermediate",
             "During the research: better questions, better conduct and more relevant "
             "work.", []),
            ("long-term", "Long-term",
             "After the study: scale-up and use of the research in practice or policy.",
             []),
            ("none-reported", "No outcomes reported",
             "The study reports no outcome of the partnership.", []),
        ],
    },
]


def install(framework_model, category_model) -> None:
    """Create or update the catalogue rows (project=None); used by the data migration with
    its historical models, and by tests. Existing rows are matched by key."""
    for position, spec in enumerate(CATALOGUE):
        framework, _ = framework_model.objects.update_or_create(
            project=None, key=spec["key"],
            defaults={"name": spec["name"], "rule": spec["rule"], "ordered": spec["ordered"],
                      "citation": spec["citation"], "description": spec["description"],
                      "position": position, "source_key": ""},
        )
        _install_categories(category_model, framework, spec["categories"], parent=None)


def _install_categories(category_model, framework, specs, parent) -> None:
    for position, (key, name, definition, children) in enumerate(specs):
        category, _ = category_model.objects.update_or_create(
            framework=framework, key=key,
            defaults={"name": name, "definition": definition, "position": position,
                      "parent": parent},
        )
        _install_categories(category_model, framework, children, parent=category)
