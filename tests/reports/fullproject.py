"""A full project, built with the services a team's clicks call: every table of every app
has rows, in every state the archive must carry (the archive tests round-trip it).

Two imported sources (a database export and experts' suggestions that start at full text),
automatic merges, a manual merge that is undone, a pair kept apart and reopened, a group
decision applied and undone, two reports linked as one study, a record removed before
screening, assignments, a queue position, votes changed and undone, conflicts resolved at
both stages, one left open, a reopened outcome, renamed and retired exclusion reasons, a PDF
and a not-retrieved full text, an extraction pilot carried into the main round, a settled
consensus and one in draft, catalogue frameworks with a renamed category, study codes and
excerpts (one quoting an extracted answer, one deleted), themes merged, verification agreed
and a proposal accepted, and sealed audit events (votes on a record still open).
"""

from dataclasses import dataclass, field

from django.core.files.uploadedfile import SimpleUploadedFile

from extraction import services as extraction
from extraction.models import Answer, Extraction, Round
from extraction.services import Decision, Take
from frameworks import catalogue_services as catalogue
from frameworks import services as coding
from frameworks.models import Category, Theme
from frameworks.services import Pick
from projects import services as projects
from projects.models import Membership
from ranking.models import EarlyStop, StoppingSample
from references import deduplication
from references import services as references
from references.models import DuplicateCandidate, Record
from screening import services as screening
from screening.models import Screening, Stage
from tests.extraction.steps import build_form, extract

TA, FT = Stage.TITLE_ABSTRACT, Stage.FULL_TEXT
PDF = (b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n"
       b"% a trainee-led partnership, doi 10.5555/ikt.1\ntrailer << /Root 1 0 R >>\n%%EOF\n")


def ris(works) -> bytes:
    """A RIS file of (title, first author, year, doi, abstract) works."""
    lines = []
    for title, author, year, doi, abstract in works:
        lines += ["TY  - JOUR", f"TI  - {title}", f"AU  - {author}", "AU  - Partner, Kim",
                  f"PY  - {year}", "JO  - Health Research Policy and Systems",
                  f"DO  - {doi}" if doi else "", f"AB  - {abstract}", "KW  - partnership",
                  "ER  - ", ""]
    return "\n".join(line for line in lines if line is not None).encode()


WORKS = [(f"Trainee-led integrated knowledge translation study {n}: "
          f"{['nursing', 'education', 'medicine', 'social work'][n % 4]} partnership",
          f"Author{n}, Alex", 2010 + n, f"10.5555/ikt.{n}",
          f"Abstract of study {n} on a partnership with knowledge users.")
         for n in range(1, 17)]


@dataclass
class FullProject:
    project: object
    records: dict[str, Record] = field(default_factory=dict)
    included: list = field(default_factory=list)  # studies included at full text


def vote(record, stage, pairs, **kwargs):
    for who, decision in pairs:
        screening.record_vote(record, stage=stage, reviewer=who, decision=decision, **kwargs)


def member(cast, who):
    return Membership.objects.select_related("user").get(project=cast.project, user=who)


def row(record, stage):
    return Screening.objects.select_related("project").get(record=record, stage=stage)


def build_full_project(cast) -> FullProject:
    p, lead, ada, ben, cy = cast.project, cast.lead, cast.ada, cast.ben, cast.cy
    built = FullProject(project=p)
    projects.update_project(p, user=lead, description="Trainee-led IKT: a scoping review.",
                            review_type="scoping", inclusion_criteria="Trainee authors")

    # Identification: a database export, and experts' suggestions (other methods) whose
    # records start at full text. Works 1-3 are in both: the deduplication merges them.
    references.import_file(project=p, data=ris(WORKS[:15]), filename="medline.ris",
                           source_name="MEDLINE (Ovid)", search_strategy="trainee* AND IKT",
                           user=lead)
    experts = [WORKS[0], WORKS[1], WORKS[2],
               ("A thesis on a knowledge user partnership", "Student, Sam", 2019, "",
                "A doctoral thesis.")]
    references.import_file(project=p, data=ris(experts), filename="experts.ris",
                           source_name="Experts", source_kind="other", source_method="other",
                           starts_at_full_text=True, user=lead)
    deduplication.deduplicate(p, user=lead)
    recs = list(Record.objects.filter(project=p, duplicate_of__isnull=True).order_by("id"))
    built.records = {f"r{i}": r for i, r in enumerate(recs, 1)}
    r = built.records
    thesis = recs[-1]

    # A manual merge undone, a pair kept apart and reopened, a group kept apart then undone.
    def pair(a, b):
        a, b = sorted([a, b], key=lambda x: x.pk)
        return DuplicateCandidate.objects.create(project=p, record_a=a, record_b=b, score=0.7,
                                                 reasons=["similar title"], rule="below_certain")

    merged = pair(r["r4"], r["r5"])
    deduplication.decide_duplicate(merged, primary=r["r4"], user=lead)
    deduplication.unmerge(Record.objects.get(pk=r["r5"].pk), user=lead)
    apart = pair(r["r6"], r["r7"])
    deduplication.decide_not_duplicate(apart, user=lead)
    deduplication.reopen_pair(DuplicateCandidate.objects.get(pk=apart.pk), user=lead)
    group = [pair(r["r8"], r["r9"]), pair(r["r10"], r["r11"])]
    batch = deduplication.create_batch(p, pair_ids=[c.pk for c in group],
                                       decision="not_duplicate", signature="below_certain",
                                       description="Similar titles", user=lead)
    batch = deduplication.decide_group(batch)
    batch = deduplication.request_undo(batch, user=lead)
    deduplication.undo_group(batch)
    # A merge into a group that was merged by hand: what moved keeps who merged it.
    chain = pair(r["r14"], r["r15"])
    deduplication.decide_duplicate(chain, primary=r["r14"], user=ben)
    deduplication.decide_duplicate(pair(r["r13"], r["r14"]), primary=r["r13"], user=lead)
    # The thesis is a second report of study 2; record 12 was removed by a tool.
    references.link_to_study(thesis, study_of=r["r2"], user=lead)
    references.remove_before_screening(p, [r["r12"].pk], reason="automation",
                                       note="Ranked below the stopping point", user=lead)
    # The stopping aid's sample and the stop that removed record 12 (ids in JSON).
    StoppingSample.objects.create(project=p, stage=TA, remaining=9, found_before=2,
                                  record_ids=[r["r3"].pk, r["r4"].pk], seed=7, drawn_by=lead)
    EarlyStop.objects.create(project=p, stage=TA, note="Ranked below the stopping point",
                             figures={"p_value": 0.04}, record_ids=[r["r12"].pk],
                             stopped_by=lead)

    # Title and abstract: settings, assignments, a reviewer's queue position.
    screening.update_settings(screening.settings_for(p, TA), user=lead,
                              include_terms="trainee*\npartnership")
    screening.assign_batch(p, stage=TA, reviewers=[ada, ben], count=2, user=lead)
    screening.claim_next(p, TA, cy)
    for key in ("r1", "r2", "r3", "r4", "r5", "r6"):
        vote(r[key], TA, [(ada, "include"), (ben, "include")])
    vote(r["r7"], TA, [(ada, "exclude"), (ben, "exclude")], note="Not trainee-led")
    vote(r["r8"], TA, [(ada, "include"), (ben, "exclude")])  # a conflict the lead settles
    screening.resolve(row(r["r8"], TA), membership=member(cast, lead), decision="exclude",
                      note="No partnership")
    vote(r["r9"], TA, [(ada, "maybe"), (ben, "exclude")])  # a conflict left open
    vote(r["r10"], TA, [(ada, "include")])  # one vote: the record is open, its vote sealed
    screening.record_vote(r["r10"], stage=TA, reviewer=ada, decision="maybe", note="unsure")
    vote(r["r11"], TA, [(ben, "exclude")])
    screening.undo_vote(r["r11"], stage=TA, reviewer=ben)

    # Full text: reasons edited, a PDF, a link, one not retrieved, a resolved conflict with
    # a reason, an exclusion reopened and decided again.
    ft = screening.settings_for(p, FT)
    screening.update_settings(ft, user=lead, allow_maybe=False)
    reason = screening.add_reason(p, FT, label="No knowledge users", user=lead)
    screening.rename_reason(reason, label="No knowledge users involved", user=lead)
    retired = screening.add_reason(p, FT, label="Conference abstract", user=lead)
    screening.set_reason_active(retired, active=False, user=lead)
    screening.set_full_text(r["r1"], user=lead, pdf=SimpleUploadedFile(
        "cassidy 2021.pdf", PDF, content_type="application/pdf"), note="From the publisher")
    screening.set_full_text(r["r2"], user=ada, url="https://example.org/study-2")
    screening.set_full_text(r["r6"], user=lead, not_retrieved=True, note="Library had none")
    for key in ("r1", "r2", "r3"):
        vote(r[key], FT, [(ada, "include"), (ben, "include")])
    vote(thesis, FT, [(ada, "include"), (ben, "include")])
    vote(r["r4"], FT, [(ada, "exclude"), (ben, "exclude")], reason="Wrong design")
    screening.record_vote(r["r5"], stage=FT, reviewer=ada, decision="include")
    screening.record_vote(r["r5"], stage=FT, reviewer=ben, decision="exclude",
                          reason="Wrong design")
    screening.resolve(row(r["r5"], FT), membership=member(cast, lead), decision="exclude",
                      reason="No knowledge users involved", note="Checked the methods")
    screening.reopen(row(r["r4"], FT), membership=member(cast, lead))
    screening.resolve(row(r["r4"], FT), membership=member(cast, lead), decision="include")
    studies = [Record.objects.get(pk=r[k].pk).study for k in ("r1", "r2", "r3", "r4")]
    built.included = studies

    # Extraction: dual, consensus by a third reviewer, a pilot on study 1 carried into the
    # main round; study 2 settled by consensus, study 3 in draft, study 4 extracted by one.
    build_form(cast)
    extraction.update_settings(p, user=lead, mode="dual", consensus_by="third",
                               third_reviewer=cy, pilot_threshold=0.0)
    extraction.start_pilot(p, studies=studies[:1], reviewers=[ada, ben], user=lead)
    pilot = {"design": "rct", "participants": "12", "engaged": "yes",
             "activities": ["plan", "share"], "dose": "7.50", "country": "CA",
             "started": "2019-05-01",
             "knowledge_users": [{"user_type": "patient", "role": "Advisor"}]}
    extract(cast, studies[0], ada, pilot, round=Round.PILOT)
    extract(cast, studies[0], ben, {**pilot, "participants": "13"}, round=Round.PILOT)
    extraction.start_main_round(p, user=lead, carry=True)
    for study in studies[1:]:
        extraction.assign_study(p, study, reviewers=[ada, ben], user=lead)
    ada_answers = {"design": extraction.AnswerInput(raw="cohort", quote="a cohort", page="3"),
                   "participants": "40", "engaged": "yes",
                   "summary": "Trainee-led partnership with clinicians."}
    extract(cast, studies[1], ada, ada_answers)
    extract(cast, studies[1], ben, {**ada_answers, "participants": "41", "engaged": "unclear"})
    extraction.save_consensus(p, studies[1], membership=member(cast, cy), base="", complete=True,
                              decisions={"participants": Decision(Take.FIRST, note="Table 1"),
                                         "engaged": Decision(Take.EDITED, raw="yes")})
    extract(cast, studies[2], ada, {"design": "qual", "participants": "8", "engaged": "no"})
    extract(cast, studies[2], ben, {"design": "qual", "participants": "9", "engaged": "no"})
    extraction.save_consensus(p, studies[2], membership=member(cast, cy), base="",
                              decisions={"participants": Decision(Take.SECOND)})
    extract(cast, studies[3], ada, {"summary": "Draft, sealed."}, complete=False)

    # Coding: catalogue frameworks (one category renamed), settings, study codes, excerpts
    # with themes (one quoting an extracted answer, one deleted), merged themes, verification
    # agreed and a proposal accepted.
    kta = catalogue.use_framework(p, "kta", user=lead)
    iap2 = catalogue.use_framework(p, "iap2", user=lead)
    comb = catalogue.use_framework(p, "com-b-tdf", user=lead)
    mcleroy = catalogue.use_framework(p, "mcleroy", user=lead)
    kta_cats = list(Category.objects.filter(framework=kta).order_by("position", "id"))
    catalogue.rename_category(p, kta_cats[0], name="Identify the problem", user=lead)
    catalogue.update_coding_settings(p, user=lead, verify="all")
    iap2_cats = {c.key: c for c in Category.objects.filter(framework=iap2)}
    comb_leaf = Category.objects.filter(framework=comb, parent__isnull=False).order_by("id")[0]
    level = Category.objects.filter(framework=mcleroy).order_by("position")[0]
    for study in studies[:2]:
        coding.set_study_codes(p, study, kta, [Pick(kta_cats[0], quote="We asked", page="2"),
                                               Pick(kta_cats[1])], coder=ada)
        coding.set_study_codes(p, study, iap2, [Pick(iap2_cats["collaborate"])], coder=ada)
    consensus_answer = Answer.objects.filter(
        extraction__study=studies[1], extraction__role=Extraction.Role.CONSENSUS,
        field__key="summary").get()
    coding.add_excerpt(p, studies[1], kind="facilitator",
                       text="Trainee-led partnership with clinicians.",
                       categories=[comb_leaf, level], theme="Shared goals",
                       answer_id=consensus_answer.pk, coder=ada)
    barrier = coding.add_excerpt(p, studies[0], kind="barrier", text="No protected time",
                                 page="7", categories=[comb_leaf, level], theme="Time",
                                 coder=ada)
    gone = coding.add_excerpt(p, studies[0], kind="barrier", text="Typo excerpt",
                              categories=[level], theme="Workload", coder=ada)
    coding.delete_excerpt(p, gone, coder=ada)
    themes = {t.name: t for t in Theme.objects.filter(project=p)}
    catalogue.merge_themes(p, themes["Workload"], themes["Time"], user=lead)
    coding.verify(p, studies[0], kta, verifier=ben, decision="agree")
    proposal = coding.verify(p, studies[0], iap2, verifier=ben, decision="propose",
                             categories=["involve"], comment="They only involved users")
    coding.settle(p, proposal, accept=True, user=lead)
    coding.verify(p, studies[0], comb, verifier=ben, decision="agree", excerpt=barrier)
    coding.verify(p, studies[1], kta, verifier=ben, decision="agree")
    return built
