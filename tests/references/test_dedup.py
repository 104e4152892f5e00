"""references.dedup.find_duplicates on small hand-made records.

Accuracy and speed on the labelled benchmark sets are measured by the scripts in bench/, not
here: these tests pin the behaviour the rules promise.
"""

import json
import random
from itertools import combinations
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from references import dedup
from references.dedup import (
    DedupRecord,
    DedupResult,
    PossiblePair,
    clean_doi,
    clean_title,
    find_duplicates,
    fold,
    parse_pages,
)

ARTICLE = dict(
    title="Remote ischaemic preconditioning in patients undergoing coronary artery bypass "
          "surgery: a randomised controlled trial",
    authors=("Hausenloy, D. J.", "Mwamure, P. K.", "Venugopal, V.", "Harris, J."),
    year=2007,
    journal="Lancet",
    volume="370",
    issue="9587",
    pages="575-579",
    doi="10.1016/s0140-6736(07)61296-3",
    publication_type="JOUR",
    abstract="Background: Remote ischaemic preconditioning reduces myocardial injury in "
             "animal models. We tested whether it reduces injury during coronary surgery.",
)


def rec(id: int, **kw) -> DedupRecord:
    fields = dict(ARTICLE)
    fields.update(kw)
    return DedupRecord(id=id, **fields)


def clusters(result: DedupResult, ids) -> set[frozenset[int]]:
    """Union-find over the certain pairs, as the caller does it."""
    parent = {i: i for i in ids}

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in result.certain:
        parent[find(a)] = find(b)
    groups: dict[int, set[int]] = {}
    for i in ids:
        groups.setdefault(find(i), set()).add(i)
    return {frozenset(g) for g in groups.values()}


def pairs(result: DedupResult) -> set[tuple[int, int]]:
    return set(result.certain) | {(p.a, p.b) for p in result.possible}


# --- identifiers -------------------------------------------------------------------------


def test_same_doi_and_same_title_is_certain():
    result = find_duplicates([rec(1), rec(2, pages="", volume="", issue="")])
    assert result.certain == [(1, 2)]
    assert result.possible == []


@pytest.mark.parametrize("other", [
    "10.1016/S0140-6736(07)61296-3",
    "https://doi.org/10.1016/s0140-6736(07)61296-3",
    "doi:10.1016/s0140-6736(07)61296-3.",
    "http://dx.doi.org/10.1016/s0140-6736%2807%2961296-3",
])
def test_doi_differing_only_by_case_prefix_or_trailing_dot_is_certain(other):
    # Only the DOI and the title tie these two: no pages, volume or year on one side.
    a = rec(1)
    b = rec(2, doi=other.lower() if other.startswith("10.") else other, pages="", volume="",
            issue="", year=None, journal="", abstract="")
    assert find_duplicates([a, b]).certain == [(1, 2)]


def test_clean_doi():
    assert clean_doi("https://doi.org/10.1000/ABC.") == "10.1000/abc"
    assert clean_doi("doi: 10.1000/xyz;") == "10.1000/xyz"
    assert clean_doi("http://dx.doi.org/10.1016/s0022-2828%2802%2992072-") == \
        "10.1016/s0022-2828(02)92072"
    assert clean_doi("10.1000/xyz/abstract") == "10.1000/xyz"
    assert clean_doi("no doi here") == ""
    assert clean_doi("") == ""


def test_online_first_year_and_issue_year_with_same_doi_is_certain():
    a = rec(1, year=2021, volume="", issue="", pages="")
    b = rec(2, year=2023)
    assert find_duplicates([a, b]).certain == [(1, 2)]


def test_different_pmids_are_never_merged():
    a = rec(1, pmid="111", doi="")
    b = rec(2, pmid="222", doi="")
    result = find_duplicates([a, b])
    assert result.certain == []


# --- fuzzy matching ----------------------------------------------------------------------


def test_title_with_other_punctuation_case_and_accents_and_same_details_is_certain():
    a = rec(1, title="Effect of café consumption on the naïve heart: a cohort study",
            authors=("Müller, J.", "Søren, K."), doi="", abstract="")
    b = rec(2, title="EFFECT OF CAFE CONSUMPTION ON THE NAIVE HEART - A COHORT STUDY.",
            authors=("Muller J", "Soren K"), journal="The Lancet", doi="", abstract="")
    assert find_duplicates([a, b]).certain == [(1, 2)]


def test_journal_abbreviation_and_excel_damaged_pages_still_match():
    a = rec(1, journal="Current Opinion in Lipidology", pages="6-10", doi="", abstract="")
    b = rec(2, journal="Curr Opin Lipidol", pages="06-Oct", doi="", abstract="")
    assert find_duplicates([a, b]).certain == [(1, 2)]


def test_translated_title_in_brackets_and_language_tag_match():
    a = rec(1, title="[Treatment of pleural effusion with talc]. [German]", doi="", abstract="")
    b = rec(2, title="Treatment of pleural effusion with talc", doi="", abstract="")
    assert find_duplicates([a, b]).certain == [(1, 2)]


# --- what is not a duplicate -------------------------------------------------------------


@pytest.mark.parametrize("title", [
    "Erratum: Remote ischaemic preconditioning in patients undergoing coronary artery bypass "
    "surgery: a randomised controlled trial",
    "Correction to: Remote ischaemic preconditioning in patients undergoing coronary artery "
    "bypass surgery: a randomised controlled trial",
    "Remote ischaemic preconditioning in patients undergoing coronary artery bypass surgery: "
    "a randomised controlled trial (vol 370, pg 575, 2007)",
])
def test_erratum_is_neither_certain_nor_possible(title):
    article = rec(1)
    erratum = rec(2, title=title, pages="1042", issue="9592", doi="10.1016/s0140-6736(07)61400-0",
                  abstract="")
    result = find_duplicates([article, erratum])
    assert result.certain == []
    assert result.possible == []


@pytest.mark.parametrize("title", [
    "Correction of hypokalaemia after coronary artery bypass surgery: a randomised trial",
    "Withdrawal of beta-blockers before coronary artery bypass surgery: a randomised trial",
    "RETRACTED: Remote ischaemic preconditioning in patients undergoing coronary artery bypass "
    "surgery: a randomised controlled trial",
])
def test_titles_that_only_look_like_notices_still_match(title):
    a = rec(1, title=title, doi="")
    b = rec(2, title=title.removeprefix("RETRACTED: "), doi="", abstract="")
    assert find_duplicates([a, b]).certain == [(1, 2)]


def test_erratum_note_on_the_article_itself_is_not_an_erratum():
    a = rec(1, doi="")
    b = rec(2, doi="", abstract="", title=ARTICLE["title"] + ".[Erratum appears in Lancet. "
                                                            "2008 Jan 5;371(9606):32]")
    assert find_duplicates([a, b]).certain == [(1, 2)]


def test_conference_abstract_and_later_article_with_same_title_are_not_certain():
    article = rec(1)
    abstract = rec(2, year=2006, journal="Circulation. Conference: American Heart Association "
                   "Scientific Sessions", volume="114", issue="18 Suppl", pages="S_503",
                   doi="", publication_type="CONF",
                   abstract="Introduction: We hypothesised that remote preconditioning protects "
                            "the heart during cardiac surgery. Methods: 57 patients.")
    result = find_duplicates([article, abstract])
    assert result.certain == []


def test_conference_abstract_without_pages_in_the_same_year_is_not_certain():
    article = rec(1)
    abstract = rec(2, journal="Heart", volume="", issue="", pages="", doi="",
                   publication_type="CONF", abstract="")
    assert find_duplicates([article, abstract]).certain == []


def test_one_abstract_presented_at_two_meetings_is_not_certain():
    def abstract(id, issue, pages):
        return rec(id, journal="Alcoholism: Clinical and Experimental Research", volume="36",
                   issue=issue, pages=pages, doi="", publication_type="ABST")
    result = find_duplicates([abstract(1, "Suppl 1", "56A"), abstract(2, "Suppl 2", "333A")])
    assert result.certain == []


@pytest.mark.parametrize("title", [
    ARTICLE["title"] + " (Lancet (2007) 370 (575-579))",  # Embase
    ARTICLE["title"] + " (vol 370, pg 575, 2007)",  # Web of Science
])
def test_correction_notice_carrying_the_article_title_is_not_the_article(title):
    article = rec(1, doi="")
    notice = rec(2, title=title, pages="1906", issue="9602", doi="", abstract="")
    assert find_duplicates([article, notice]).certain == []


def test_two_reports_of_one_study_with_different_titles_are_nothing():
    main = rec(1, doi="")
    followup = rec(
        2, title="Long-term outcome of remote ischaemic preconditioning in cardiac surgery: "
                 "five-year follow-up of a randomised trial",
        year=2012, journal="Heart", volume="98", issue="4", pages="301-306", doi="",
        abstract="Background: We report the five-year follow-up of patients randomised to "
                 "remote preconditioning before surgery.")
    result = find_duplicates([main, followup])
    assert result.certain == []
    assert result.possible == []


def test_generic_titles_years_apart_with_different_authors_are_not_certain():
    a = rec(1, title="Editorial", authors=("Smith, J.",), year=1998, journal="Heart",
            volume="79", pages="1", doi="", abstract="")
    b = rec(2, title="Editorial.", authors=("Jones, K.",), year=2011, journal="Heart",
            volume="97", pages="1", doi="", abstract="")
    c = rec(3, title="Editorial", authors=(), year=2011, journal="", volume="", pages="",
            doi="", abstract="")
    result = find_duplicates([a, b, c])
    assert result.certain == []


def test_part_1_and_part_2_are_not_certain():
    a = rec(1, title="Consequences of brief ischemia: stunning, preconditioning and their "
                     "clinical implications. Part 1", pages="1-8", doi="", abstract="")
    b = rec(2, title="Consequences of brief ischemia: stunning, preconditioning and their "
                     "clinical implications. Part 2", pages="9-15", doi="", abstract="")
    assert find_duplicates([a, b]).certain == []


def test_letter_and_reply_are_not_merged():
    a = rec(1, title="Remote preconditioning before cardiac surgery", pages="1200", doi="",
            abstract="")
    b = rec(2, title="Remote preconditioning before cardiac surgery - Authors' reply",
            pages="1200", doi="", abstract="")
    result = find_duplicates([a, b])
    assert result.certain == []
    assert result.possible == []


def test_same_supplement_doi_on_different_abstracts_proves_nothing():
    # A supplement's DOI copied onto every abstract in it.
    a = rec(1, title="Sitagliptin and vascular function in mice", pages="S12",
            doi="10.1007/s00125-013-3012-z", authors=("Lee, A.",), abstract="")
    b = rec(2, title="Linagliptin after stroke in diabetic rats", pages="S13",
            doi="10.1007/s00125-013-3012-z", authors=("Kim, B.",), abstract="")
    c = rec(3, title="Incretins and atherosclerosis: a review of animal models", pages="S14",
            doi="10.1007/s00125-013-3012-z", authors=("Wang, C.",), abstract="")
    result = find_duplicates([a, b, c])
    assert result.certain == []
    assert result.possible == []


def book(id: int, **kw) -> DedupRecord:
    fields = dict(title="Handbook of cardioprotection", authors=("Yellon, D. M.",), year=2009,
                  isbn="978-0-12-345678-9", publication_type="BOOK")
    fields.update(kw)
    return DedupRecord(id=id, **fields)


def test_same_isbn_and_title_is_certain():
    records = [book(1), book(2, title="Handbook of Cardioprotection.",
                                isbn="9780123456789 (print)")]
    assert find_duplicates(records).certain == [(1, 2)]


def test_book_isbn_shared_by_chapters_proves_nothing():
    chapters = [
        book(3, title="Ischaemic preconditioning in the clinic", authors=("Kloner, R.",),
             publication_type="CHAP"),
        book(4, title="Ischaemic preconditioning in the laboratory", authors=("Kloner, R.",),
             publication_type="CHAP"),
    ]
    result = find_duplicates([book(1), *chapters])
    assert result.certain == []


# --- the contract: not_duplicates, possible pairs, robustness, determinism ---------------


def test_not_duplicates_pair_is_never_returned():
    result = find_duplicates([rec(1), rec(2)], not_duplicates=[(2, 1)])
    assert result.certain == []
    assert result.possible == []


def test_not_duplicates_holds_through_a_chain():
    # A~B, B~C and A~C would all be certain; a person said A and C are different.
    a, b, c = rec(10), rec(20, pages="575-9"), rec(30, doi="", abstract="")
    result = find_duplicates([a, b, c], not_duplicates={(10, 30)})
    groups = clusters(result, [10, 20, 30])
    assert not any({10, 30} <= g for g in groups)
    assert (10, 30) not in pairs(result)
    # B is merged with one of them; it cannot join the other, so nobody is asked about it.
    assert len(result.certain) == 1
    assert result.possible == []


def test_records_without_titles_do_not_crash():
    records = [
        DedupRecord(id=1),
        DedupRecord(id=2, title=""),
        DedupRecord(id=3, title="", authors=("Smith, J.",), year=2001, journal="BMJ",
                    volume="322", pages="1-2"),
        DedupRecord(id=4, title="", authors=("Smith, J.",), year=2001, journal="BMJ",
                    volume="322", pages="1-2"),
        DedupRecord(id=5, title="   ", doi="10.1/abc"),
        DedupRecord(id=6, title="#NAME?", doi="10.1/abc"),
        rec(7),
    ]
    result = find_duplicates(records)
    # Without a title nothing is merged automatically; the full citation goes to a person.
    assert result.certain == []
    assert (3, 4) in {(p.a, p.b) for p in result.possible}


def test_possible_pairs_are_ordered_and_not_joined_by_certain_pairs():
    records = [
        rec(5), rec(3, doi="", abstract=""), rec(9, pages="575-579", doi="", abstract=""),
        # same title and authors, other pages of the same volume and issue: a person decides
        rec(7, pages="1201", issue="9588", doi="", abstract=""),
        rec(1, title="An unrelated paper on statins", doi="", abstract=""),
    ]
    result = find_duplicates(records)
    assert all(isinstance(p, PossiblePair) and p.a < p.b for p in result.possible)
    assert all(a < b for a, b in result.certain)
    assert [(p.a, p.b) for p in result.possible] == [(3, 7)]
    groups = clusters(result, [1, 3, 5, 7, 9])
    assert frozenset({3, 5, 9}) in groups
    for p in result.possible:
        assert not any({p.a, p.b} <= g for g in groups)
        assert 0.0 <= p.score <= 1.0 and p.reasons
    assert not set(result.certain) & {(p.a, p.b) for p in result.possible}


def test_same_input_in_any_order_gives_the_same_answer():
    records = [
        rec(1), rec(2, doi="", abstract=""), rec(3, pages="575-9", doi=""),
        rec(4, title="Statins after surgery", doi="", abstract=""),
        rec(5, title="Statins after surgery.", doi="", abstract="", pages=""),
        rec(6, pages="1201", issue="9588", doi="", abstract=""),
        rec(7, title="Editorial", authors=(), doi="", abstract=""),
        rec(8, title="Editorial", authors=(), doi="", abstract="", year=2001),
    ]
    expected = find_duplicates(records)
    for seed in range(5):
        shuffled = records[:]
        random.Random(seed).shuffle(shuffled)
        got = find_duplicates(shuffled)
        assert got.certain == expected.certain
        assert got.possible == expected.possible
        assert clusters(got, range(1, 9)) == clusters(expected, range(1, 9))


def test_progress_is_reported_up_to_the_total():
    calls = []
    find_duplicates([rec(i) for i in range(1, 30)], progress=lambda d, t: calls.append((d, t)))
    assert calls[0] == (0, 29)
    assert calls[-1] == (29, 29)
    assert all(d <= t for d, t in calls)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_empty_input():
    assert find_duplicates([]) == DedupResult(certain=[], possible=[])


# --- normalisation helpers ---------------------------------------------------------------


def test_fold():
    assert fold("Naïve  T-cells &amp; <i>IL-2</i>: Ærøskøbing") == "naive t cells il 2 aeroskobing"
    assert fold("TNF-α and β-blockers") == "tnf alpha and beta blockers"
    assert fold("KÃ¶nig") == "konig"  # UTF-8 read as Latin-1


def test_parse_pages():
    assert parse_pages("139-54") == ("139", 139, 154)
    assert parse_pages("06-Oct") == ("6", 6, 10)
    assert parse_pages("S12-4") == ("s12", 12, 14)
    assert parse_pages("e1234") == ("e1234", 1234, 1234)
    assert parse_pages("") == ("", -1, -1)


def test_clean_title():
    assert clean_title("[A study of talc]. [German]") == ("A study of talc", "", False)
    assert clean_title("Statins and stroke.[Erratum appears in Stroke. 2004;35:1]") == \
        ("Statins and stroke", "", False)
    assert clean_title("Statins and stroke (vol 35, pg 1, 2004)") == ("Statins and stroke", "",
                                                                      True)
    main, alt, _ = clean_title("Myocardial protection. German\nMyokardprotektion")
    assert (main, alt) == ("Myocardial protection", "Myokardprotektion")
    # The same with the line break lost on the way (an import that joins a field's lines).
    main, alt, _ = clean_title("Myocardial protection by preconditioning. German "
                               "Myokardprotektion durch Prakonditionierung")
    assert (main, alt) == ("Myocardial protection by preconditioning",
                           "Myokardprotektion durch Prakonditionierung")


# --- the fast path never hides a pair the rules would keep -------------------------------

_WORDS = ["heart", "stroke", "trial", "statins", "mice", "remote", "preconditioning", "of",
          "in", "the", "part", "1", "2"]


@settings(max_examples=300, deadline=None)
@given(
    t1=st.lists(st.sampled_from(_WORDS), min_size=0, max_size=8),
    t2=st.lists(st.sampled_from(_WORDS), min_size=0, max_size=8),
    y2=st.sampled_from([None, 2007, 2008, 2011]),
    v2=st.sampled_from(["", "370", "371"]),
    p2=st.sampled_from(["", "575-579", "575", "580-590"]),
    d2=st.sampled_from(["", "10.1016/s0140-6736(07)61296-3", "10.1/other"]),
    a2=st.sampled_from([(), ARTICLE["authors"], ("Other, A.",)]),
)
def test_prefilter_is_an_upper_bound(t1, t2, y2, v2, p2, d2, a2):
    cache = dedup._Cache()
    a = dedup._Rec(0, rec(1, title=" ".join(t1)), cache)
    b = dedup._Rec(1, rec(2, title=" ".join(t2), year=y2, volume=v2, pages=p2, doi=d2,
                          authors=a2), cache)
    nothing = dedup._unreliable_ids([])
    if dedup._hopeless(a, b, nothing):
        assert dedup._decide(a, b, dedup._features(a, b, nothing))[0] == dedup.NONE


def test_prefilter_rejects_a_clearly_different_pair():
    """The property above holds only where the prefilter says "hopeless": it must say so."""
    cache = dedup._Cache()
    a = dedup._Rec(0, rec(1), cache)
    b = dedup._Rec(1, rec(2, title="Mice", year=2011, volume="371", pages="580-590",
                          doi="10.1/other"), cache)
    assert dedup._hopeless(a, b, dedup._unreliable_ids([]))


def test_glued_author_strings_are_read_as_author_lists():
    """Some exports glue authors with no separator ("Arrieta O.Ortega A."): such a record
    agrees with the same record whose authors are listed one by one."""
    authors = ("Hausenloy D. J.", "Mwamure P. K.", "Venugopal V.", "Harris J.")
    listed = rec(1, authors=authors, doi="", abstract="")
    glued = rec(2, authors=("".join(authors),), doi="", abstract="", journal="The Lancet")
    other = rec(3, authors=("Arrieta O.Ortega A.Rangel C.Molina C.",), doi="", abstract="",
                journal="The Lancet")

    # Glued, the same first author with three others: only the split tells them apart (read
    # as one author, the string would match "Hausenloy" and count as the same authors).
    impostor = rec(4, authors=("Hausenloy D. J.Smith A.Jones B.Brown C.",), doi="",
                   abstract="", journal="The Lancet")

    result = find_duplicates([listed, glued, other])
    apart = find_duplicates([listed, impostor])

    assert (1, 2) in result.certain
    assert all(3 not in pair for pair in result.certain)
    assert dedup._Rec(0, glued, dedup._Cache()).surnames == (
        "hausenloy", "mwamure", "venugopal", "harris")
    assert apart.certain == []
    assert "different authors" in apart.possible[0].reasons


def test_every_possible_pair_names_a_known_rule():
    """The queue shows why each pair was not merged: the first veto, or "below_certain"."""
    records = [
        rec(1, doi="", abstract=""),
        rec(2, doi="", abstract="", pmid="111"),
        rec(3, doi="", abstract="", pmid="222"),
        rec(4, title="", doi="", abstract=""),
    ]
    result = find_duplicates(records)
    assert result.certain == [(1, 2)]
    assert {(p.a, p.b): p.rule for p in result.possible} == {
        (1, 3): "different_pmids_in_group", (1, 4): "no_title", (3, 4): "no_title"}
    assert all(p.rule in dedup.RULES for p in result.possible)
    assert all(dedup.RULES[p.rule] in p.reasons for p in result.possible
               if p.rule != "below_certain")


# --- the adversarial fixture: works that look alike ------------------------------------

ADVERSARIAL = Path(__file__).parent / "fixtures" / "dedup_adversarial.json"


def _adversarial() -> tuple[dict, list[DedupRecord], dict[int, str]]:
    data = json.loads(ADVERSARIAL.read_text())
    fields = {f for f in DedupRecord.__dataclass_fields__ if f != "id"}
    records = [DedupRecord(id=r["id"], **{k: tuple(v) if k == "authors" else v
                                          for k, v in r.items() if k in fields})
               for r in data["records"]]
    return data, records, {r["id"]: r["work"] for r in data["records"]}


def test_adversarial_fixture_merges_no_two_works():
    data, records, work = _adversarial()
    result = find_duplicates(records)
    wrong = [(a, b, work[a], work[b]) for a, b in result.certain if work[a] != work[b]]
    assert wrong == []
    # Nor does a chain of certain pairs join two works.
    for group in clusters(result, work):
        assert len({work[i] for i in group}) == 1, group


def test_adversarial_fixture_keeps_the_true_duplicates():
    data, records, work = _adversarial()
    result = find_duplicates(records)
    assert [a for a, b in data["certain"] if (a, b) not in result.certain] == []
    found = set(result.certain) | {(p.a, p.b) for p in result.possible}
    assert [a for a, b in data["found"] if (a, b) not in found] == []
    # Every pair the fixture names is one work, and every duplicate in it is named.
    named = {tuple(p) for p in data["certain"] + data["found"]}
    assert all(work[a] == work[b] for a, b in named)
    assert named == {(a, b) for a, b in combinations(sorted(work), 2) if work[a] == work[b]}


def test_adversarial_fixture_says_why_each_lookalike_is_queued():
    """The look-alike pairs that reach the queue carry the rule that stopped them."""
    data, records, work = _adversarial()
    rules = {(p.a, p.b): p.rule for p in find_duplicates(records).possible}
    assert rules[(4, 5)] == "different_doi"  # Editor's comments, both on page 1
    assert rules[(40, 41)] == "different_issue"  # "Jan-12" and "01-Dec" are no evidence
    assert rules[(6, 7)] == "generic_title"  # Editorial notes, no identifiers
    assert rules[(20, 21)] == "different_title_word"  # ramipril / enalapril
    assert rules[(26, 27)] == "different_title_word"  # men / women, same pages
    assert rules[(33, 34)] == "conference_vs_article"
    assert rules[(63, 64)] == "different_doi"  # two versions of a Cochrane review
