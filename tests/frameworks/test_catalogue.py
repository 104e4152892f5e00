"""The built-in catalogue the data migration creates: every category of every framework,
in order, with its rule and a definition."""

import pytest

from frameworks.models import Category, Framework

pytestmark = pytest.mark.django_db

EXPECTED = {
    "kta": ("multiple", [
        "Identify problem; identify, review, select knowledge",
        "Adapt knowledge to local context",
        "Assess barriers/facilitators to knowledge use",
        "Select, tailor, implement interventions",
        "Monitor knowledge use",
        "Evaluate outcomes",
        "Sustain knowledge use",
    ]),
    "iap2": ("single", ["Inform", "Consult", "Involve", "Collaborate", "Empower",
                        "Not reported"]),
    "research-stages": ("multiple", [
        "Research question", "Research proposal", "Pre-study launch administration",
        "Recruitment and data collection", "Data analysis",
        "Dissemination and implementation",
    ]),
    "wider": ("text", ["Content", "Mode of delivery", "Duration/frequency", "Participants",
                       "Personnel"]),
    "com-b-tdf": ("excerpt", [
        "Capability, psychological", "Capability, physical", "Opportunity, social",
        "Opportunity, physical", "Motivation, reflective", "Motivation, automatic",
    ]),
    "mcleroy": ("excerpt", ["Individual (intrapersonal)", "Interpersonal",
                            "Organizational (institutional)", "Community", "Public policy"]),
    "outcomes": ("excerpt", ["Immediate", "Intermediate", "Long-term",
                             "No outcomes reported"]),
}

TDF = {
    "Capability, psychological": [
        "Knowledge", "Skills (cognitive/interpersonal)",
        "Memory, attention and decision processes", "Behavioural regulation"],
    "Capability, physical": ["Skills (physical)"],
    "Opportunity, social": ["Social influences"],
    "Opportunity, physical": ["Environmental context and resources"],
    "Motivation, reflective": [
        "Social/professional role and identity", "Beliefs about capabilities", "Optimism",
        "Beliefs about consequences", "Intentions", "Goals"],
    "Motivation, automatic": ["Reinforcement", "Emotion"],
}


def top_level(framework):
    return list(framework.categories.filter(parent=None).values_list("name", flat=True))


def test_the_seven_frameworks_in_order_with_their_rules_and_categories():
    catalogue = list(Framework.objects.filter(project=None))
    assert [f.key for f in catalogue] == list(EXPECTED)
    for framework in catalogue:
        rule, names = EXPECTED[framework.key]
        assert (framework.key, framework.rule) == (framework.key, rule)
        assert top_level(framework) == names
        assert framework.citation != ""
    assert Framework.objects.get(project=None, key="iap2").ordered is True


def test_every_category_has_a_definition():
    assert Category.objects.filter(framework__project=None, definition="").count() == 0
    assert Category.objects.filter(framework__project=None).count() == (
        7 + 6 + 6 + (5 + 4) + (6 + 15) + 5 + 4)


def test_the_14_tdf_domains_sit_under_their_com_b_components_in_order():
    comb = Framework.objects.get(project=None, key="com-b-tdf")
    nested = {c.name: list(c.children.values_list("name", flat=True))
              for c in comb.categories.filter(parent=None)}
    assert nested == TDF
    # TDF's skills domain sits under both capabilities (cognitive and physical skills):
    # 15 rows, 14 domains.
    names = [name.split(" (")[0] if name.startswith("Skills") else name
             for domains in nested.values() for name in domains]
    assert (len(names), len(set(names))) == (15, 14)


def test_wider_mode_of_delivery_has_its_four_tags():
    mode = Category.objects.get(framework__project=None, framework__key="wider",
                                key="mode-of-delivery")
    assert list(mode.children.values_list("name", flat=True)) == [
        "Meetings", "Written communication", "Email", "Phone"]


def test_installing_again_changes_nothing():
    from frameworks import catalogue

    before = sorted(Category.objects.filter(framework__project=None)
                    .values_list("framework__key", "key", "parent__key", "position"))
    catalogue.install(Framework, Category)
    after = sorted(Category.objects.filter(framework__project=None)
                   .values_list("framework__key", "key", "parent__key", "position"))
    assert after == before
    assert Framework.objects.filter(project=None).count() == 7
