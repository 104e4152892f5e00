"""The veto rules of references.dedup: contradicting evidence keeps a pair out of the certain
tier, whatever its points.

One test per rule: the pair with the contradiction is *possible* with that rule named (the
first veto that fires names it, see dedup._VETOES), and the same pair without the
contradiction is certain, so the test fails if the rule stops firing or fires too often.
"""

import pytest

from references import dedup
from references.dedup import RULES, DedupRecord, find_duplicates
from tests.references.test_dedup import ARTICLE

# The article of tests/references/test_dedup.py, without its DOI: each test adds what it needs.
BASE = {k: v for k, v in ARTICLE.items() if k != "doi"}


def rec(id: int, **kw) -> DedupRecord:
    return DedupRecord(id=id, **{**BASE, **kw})


def outcome(a: DedupRecord, b: DedupRecord) -> tuple[str, str]:
    """("certain", "") or ("possible", rule) or ("none", "") for a pair of records."""
    result = find_duplicates([a, b])
    if result.certain:
        assert result.certain == [(a.id, b.id)]
        return "certain", ""
    if result.possible:
        (pair,) = result.possible
        assert pair.rule == "below_certain" or RULES[pair.rule] in pair.reasons
        return "possible", pair.rule
    return "none", ""


# --- identifiers -------------------------------------------------------------------------


def test_different_pmids_veto():
    assert outcome(rec(1, pmid="17111"), rec(2, pmid="17111")) == ("certain", "")
    assert outcome(rec(1, pmid="17111"), rec(2, pmid="17222")) == ("possible", "different_pmid")


def test_different_dois_veto():
    a = rec(1, doi="10.1016/s0140-6736(07)61296-3")
    assert outcome(a, rec(2, doi="10.1016/s0140-6736(07)61296-3")) == ("certain", "")
    assert outcome(a, rec(2, doi="10.1056/nejmoa071234")) == ("possible", "different_doi")


def test_different_dois_of_one_publisher_with_the_same_citation_are_not_a_contradiction():
    """Publishers registered a second DOI for their back issues; both name one article, which
    the full citation (journal, volume, issue, first page, title) confirms."""
    a = rec(1, doi="10.1007/bf02482781", journal="Surg Today")
    b = rec(2, doi="10.1007/s005950050533", journal="Surgery Today")
    assert outcome(a, b) == ("certain", "")
    # Another first page: two articles of one publisher.
    assert outcome(a, rec(2, doi="10.1007/s005950050533", journal="Surgery Today",
                          pages="590-596")) == ("possible", "different_doi")


def test_one_doi_suffix_under_two_prefixes_is_a_journal_that_moved():
    a = rec(1, doi="10.2143/ac.66.3.2114134")
    b = rec(2, doi="10.1080/ac.66.3.2114134")
    assert outcome(a, b) == ("certain", "")


# --- titles ------------------------------------------------------------------------------


def test_no_title_veto():
    assert outcome(rec(1), rec(2)) == ("certain", "")
    assert outcome(rec(1), rec(2, title="")) == ("possible", "no_title")


def test_different_years_veto():
    assert outcome(rec(1), rec(2, year=2008)) == ("certain", "")
    assert outcome(rec(1), rec(2, year=2010)) == ("possible", "different_years")


def test_title_numbers_veto():
    # No pages or volume on the second record: nothing but the title ties them.
    part = "Consequences of brief ischaemia: stunning, preconditioning and their clinical " \
           "implications. Part {}"
    a = rec(1, title=part.format(1))
    assert outcome(a, rec(2, title=part.format(1), pages="", volume="")) == ("certain", "")
    assert outcome(a, rec(2, title=part.format(2), pages="", volume="")) == (
        "possible", "title_numbers")


GENERIC = ["Editorial", "Editor's comments", "Editorial notes", "Editorial introduction",
           "Reply", "Erratum", "Correction", "In this issue", "Letter to the editor",
           "Book review", "Preface", "Introduction", "Commentary", "Guest editorial",
           "Editorial: In this issue", "Abstracts", "Obituary", "Annual report", "News"]


@pytest.mark.parametrize("title", GENERIC)
def test_generic_title_veto(title):
    """An editor writes one in every issue: the same generic title by the same author in the
    same journal, year and volume, on page 1 of two issues, is two items. A generic title
    is never evidence: without it the same citation falls below the certain points, and
    only an identifier makes such a pair certain."""
    editor = dict(title=title, authors=("Smith, J.",), abstract="", pages="1-2")
    assert dedup._is_generic(dedup.fold(title).split())
    assert outcome(rec(1, **editor, issue="1"), rec(2, **editor, issue="2")) == (
        "possible", "generic_title")
    assert outcome(rec(1, **editor, issue="1"), rec(2, **editor, issue="1")) == (
        "possible", "below_certain")
    doi = "10.1016/j.x.2019.01.001"
    assert outcome(rec(1, **editor, issue="1", doi=doi), rec(2, **editor, issue="2", doi=doi)) \
        == ("certain", "")
    # A real title is evidence: the same citation is certain, and with the other issue
    # number the issue is the first contradiction.
    real = dict(editor, title="Remote preconditioning before coronary surgery: a review")
    assert outcome(rec(1, **real, issue="1"), rec(2, **real, issue="1")) == ("certain", "")
    assert outcome(rec(1, **real, issue="1"), rec(2, **real, issue="2")) == (
        "possible", "different_issue")


def test_generic_title_gives_no_title_points():
    a, b = (dedup._Rec(i, rec(i, title="Editorial"), dedup._Cache()) for i in (1, 2))
    assert dedup._title_points(1.0, 1.0, a, b) == (0.0, "generic title")


def test_generic_title_with_the_same_doi_is_one_item():
    editor = dict(authors=("Smith, J.",), abstract="", pages="", doi="10.1016/j.x.2019.01.001")
    assert outcome(rec(1, title="Editorial", **editor), rec(2, title="Editorial.", **editor)) \
        == ("certain", "")


def test_titles_with_a_content_word_are_not_generic():
    assert not dedup._is_generic(dedup.fold("Editorial: statins after stroke").split())
    assert not dedup._is_generic(dedup.fold("Reply to Smith on asthma").split())


def test_titles_differ_veto():
    # No pages: nothing but the title ties them.
    other = "Remote ischaemic preconditioning in patients undergoing valve surgery in adults"
    assert outcome(rec(1), rec(2, pages="")) == ("certain", "")
    assert outcome(rec(1), rec(2, title=other, pages="")) == ("possible", "titles_differ")


@pytest.mark.parametrize("first,second", [
    ("Ramipril after myocardial infarction in patients with diabetes: a randomised trial",
     "Enalapril after myocardial infarction in patients with diabetes: a randomised trial"),
    ("Myocardial salvage after preconditioning assessed by magnetic resonance imaging in pigs",
     "Myocardial salvage after preconditioning assessed by computed tomography in pigs"),
    ("Role of protein kinase C delta in ischaemic preconditioning of the rat heart",
     "Role of protein kinase C epsilon in ischaemic preconditioning of the rat heart"),
    ("Preconditioning with sevoflurane in patients with hypertension undergoing surgery",
     "Preconditioning with sevoflurane in patients with hypotension undergoing surgery"),
    ("Open label trial of eculizumab in adult patients with plasma therapy resistant aHUS",
     "Open label trial of eculizumab in adolescent patients with plasma therapy resistant aHUS"),
])
def test_different_title_word_veto(first, second):
    """Companion papers: one drug, method, group or isoform for another. Even with the same
    pages (a typing error somewhere) it is not certain."""
    assert outcome(rec(1, title=first), rec(2, title=first)) == ("certain", "")
    assert outcome(rec(1, title=first), rec(2, title=second)) == (
        "possible", "different_title_word")


def test_a_word_on_one_side_only_needs_the_same_first_page():
    """A dropped subtitle or a label ("Review") is common; without the first page to confirm
    the citation it is a different title."""
    short = "Remote ischaemic preconditioning in patients undergoing coronary artery bypass " \
            "surgery"
    assert outcome(rec(1), rec(2, title=short)) == ("certain", "")
    assert outcome(rec(1, pages=""), rec(2, title=short, pages="")) == (
        "possible", "different_title_word")


@pytest.mark.parametrize("variant", [
    # British and American spelling
    "Remote ischemic preconditioning in patients undergoing coronary artery bypass surgery: "
    "a randomized controlled trial",
    # hyphenation, case and punctuation
    "REMOTE ISCHAEMIC PRE-CONDITIONING IN PATIENTS UNDERGOING CORONARY ARTERY BY-PASS SURGERY - "
    "A RANDOMISED CONTROLLED TRIAL.",
    # a typing error, and a plural
    "Remote ischaemic preconditoning in patient undergoing coronary artery bypass surgery: "
    "a randomised controlled trials",
])
def test_spelling_variants_are_not_a_different_word(variant):
    assert dedup.title_word_difference(
        dedup.title_words(dedup.fold(BASE["title"])),
        dedup.title_words(dedup.fold(variant))) == ([], [])
    assert outcome(rec(1), rec(2, title=variant, pages="575-9")) == ("certain", "")


def test_title_word_difference_on_numbers_greek_letters_and_joined_words():
    def diff(x, y):
        return dedup.title_word_difference(dedup.title_words(dedup.fold(x)),
                                           dedup.title_words(dedup.fold(y)))

    assert diff("Effects in 1,000 patients", "Effects in 1000 patients") == ([], [])
    assert diff("Role of NF-kappaB in preconditioning", "Role of NF-κB in preconditioning") \
        == ([], [])
    assert diff("Role of NF-κB in preconditioning", "Role of NF-B in preconditioning") \
        == ([], [])
    assert diff("PKCepsilon and preconditioning", "PKC and preconditioning") == ([], [])
    assert diff("Role of PKC delta in mice", "Role of PKC epsilon in mice") == (
        ["delta"], ["epsilon"])
    assert diff("Ca2+ overload in reperfusion", "Ca overload in reperfusion") == ([], [])
    assert diff("Haemorrhage after surgery", "Hemorrhage after surgery") == ([], [])
    assert diff("Ramipril after surgery", "Enalapril after surgery") == (["ramipril"],
                                                                         ["enalapril"])


# --- venue -------------------------------------------------------------------------------


def test_conference_vs_article_veto():
    abstract = dict(pages="", publication_type="CONF")
    assert outcome(rec(1), rec(2, pages="")) == ("certain", "")
    assert outcome(rec(1), rec(2, **abstract)) == ("possible", "conference_vs_article")
    meeting = dict(pages="", journal="Lancet. Conference: European Society of Cardiology "
                                     "Congress", volume="370", issue="Suppl 1")
    assert outcome(rec(1), rec(2, **meeting)) == ("possible", "conference_vs_article")


def test_the_same_abstract_indexed_as_journal_item_and_as_meeting_abstract_is_one_record():
    meeting = dict(journal="Circulation", volume="116", issue="16 Suppl", pages="II_512",
                   year=2007)
    assert outcome(rec(1, **meeting), rec(2, **meeting, publication_type="CONF")) == (
        "certain", "")


def test_different_authors_veto():
    others = ("Arrieta, O.", "Ortega, A.", "Rangel, C.")
    assert outcome(rec(1), rec(2, authors=BASE["authors"][:2])) == ("certain", "")
    assert outcome(rec(1), rec(2, authors=others)) == ("possible", "different_authors")


def test_different_journal_veto():
    # Nothing but the title, authors, year and volume tie them: a digest's summary of the
    # article under the article's title.
    assert outcome(rec(1), rec(2, pages="")) == ("certain", "")
    assert outcome(rec(1), rec(2, journal="ACP Journal Club", pages="")) == (
        "possible", "different_journal")
    # The same first page ties them again.
    assert outcome(rec(1), rec(2, journal="ACP Journal Club")) == ("certain", "")


def test_different_volume_veto():
    assert outcome(rec(1), rec(2, volume="370 Suppl 1")) == ("certain", "")
    assert outcome(rec(1), rec(2, volume="371")) == ("possible", "different_volume")


def test_different_pages_veto():
    assert outcome(rec(1), rec(2, pages="575-9")) == ("certain", "")
    assert outcome(rec(1), rec(2, pages="1201-1205")) == ("possible", "different_pages")


def test_an_article_number_against_printed_pages_is_not_a_contradiction():
    assert outcome(rec(1, pages="e12724", issue=""), rec(2, pages="1-6", issue="")) == (
        "certain", "")
    # Two abstracts in two supplements: pages of two schemes, both printed.
    assert dedup._page_cmp(*(dedup._Rec(i, rec(i, pages=p), dedup._Cache())
                             for i, p in ((1, "S334"), (2, "A254-A255")))) == -1


@pytest.mark.parametrize("damaged,intact", [("01-Dec", "1-12"), ("Jan-12", "13-24"),
                                            ("06-Oct", "575-579")])
def test_pages_damaged_by_a_spreadsheet_are_no_evidence(damaged, intact):
    """"01-Dec" was 1-12: the repair is a guess, so the pages neither tie nor separate."""
    a, b = (dedup._Rec(i, rec(i, pages=p), dedup._Cache())
            for i, p in ((1, damaged), (2, intact)))
    assert dedup._page_cmp(a, b) == 0
    assert outcome(rec(1, pages=damaged), rec(2, pages=intact)) == ("certain", "")


def test_different_issue_veto():
    assert outcome(rec(1), rec(2, issue="9587-9588")) == ("certain", "")
    assert outcome(rec(1), rec(2, issue="9588")) == ("possible", "different_issue")


def test_an_issue_beside_a_supplement_number_is_no_contradiction():
    """"108 Suppl 1" against issue "10 Suppl": one record names the supplement, the other
    the issue it belongs to."""
    a = rec(1, volume="108 Suppl 1", issue="", pages="II341-7")
    b = rec(2, volume="108", issue="10 SUPPL.", pages="II341-II347")
    assert outcome(a, b) == ("certain", "")


def test_an_article_number_in_the_issue_field_is_not_an_issue():
    a = rec(1, volume="13 (2) (no pagination)", issue="e0192222", pages="")
    b = rec(2, volume="13", issue="2", pages="e0192222")
    assert outcome(a, b) == ("certain", "")


def test_an_issue_field_holding_record_numbers_is_ignored():
    """An export that numbered its records in the issue field: every value differs, so two
    copies of one article would always "differ in issue"."""
    records = [rec(k, issue=str(1000 + k), title=f"Study {k} of remote preconditioning in "
               f"patients undergoing surgery", pages=f"{k * 10}-{k * 10 + 5}")
               for k in range(1, 60)]
    records.append(rec(100, issue="2000", title=records[0].title, pages=records[0].pages))
    assert find_duplicates(records).certain == [(1, 100)]
    assert outcome(records[0], records[-1]) == ("possible", "different_issue")


def test_short_title_veto():
    short = dict(title="Remote preconditioning", abstract="", issue="")
    assert outcome(rec(1, **short), rec(2, **short)) == ("certain", "")
    assert outcome(rec(1, **short), rec(2, **short, pages="")) == ("possible", "short_title")


def test_below_certain_is_the_rule_when_no_veto_fires():
    thin = dict(journal="", volume="", issue="", pages="", abstract="", year=None)
    assert outcome(rec(1, **thin), rec(2, **thin)) == ("possible", "below_certain")
    doi = "10.1000/xyz123"
    assert outcome(rec(1, **thin, doi=doi), rec(2, **thin, doi=doi)) == (
        "certain", "")


def test_every_rule_has_a_sentence_and_every_veto_a_rule():
    vetoes = [name for name, _fires in dedup._VETOES]
    assert len(set(vetoes)) == len(vetoes)
    assert set(vetoes) | {"below_certain", "not_duplicate_chain", "different_pmids_in_group",
                          "held", "changed"} == set(RULES)
    assert all(sentence.endswith(".") for sentence in RULES.values())
