"""The demo's extraction and framework coding, through the services a team uses: the lead
loads the paper's form and sets extraction up as the paper did (pairs extract independently,
consensus by the lead, the pair or a third reviewer; a pilot on three studies first), ada
and ben extract every included study, the lead settles each; the lead picks the paper's
frameworks, one reviewer codes each study and the other verifies it. What each study says
comes from `demo.plan` (the paper's counts).

`fill(s)` looks at what the database holds and does only what is missing: a second run
changes nothing, and `--complete` after an open run finishes the open work. The open demo
leaves two studies awaiting consensus and one coded study waiting for its verifier.
"""

from __future__ import annotations

import time
from collections import defaultdict

from django.db import transaction

from extraction import forms_builder
from extraction import services as extraction
from extraction.models import Assignment, Extraction, Round
from extraction.queries import consensus_of, consensus_pair, round_extractions, studies_to_extract
from frameworks import catalogue_services
from frameworks import services as coding
from frameworks.models import (
    Category,
    CodingSettings,
    Excerpt,
    Framework,
    StudyCode,
    StudyCoding,
    Verification,
)
from projects.models import Membership
from references.models import Record

from .plan import OTHER, Hint, StudyPlan, plan_studies

Status = Extraction.Status
PILOT = 3  # the paper's pilot: two reviewers, three studies
AWAITING_CONSENSUS = 2  # open demo: studies both extracted, not yet settled
AWAITING_VERIFICATION = 1  # open demo: a coded study its verifier has not taken yet

# The paper's frameworks, from the catalogue (McLeroy: the three levels the paper used).
FRAMEWORKS = [("kta", None), ("iap2", None), ("research-stages", None), ("wider", None),
              ("com-b-tdf", None), ("mcleroy", ["individual", "interpersonal",
                                                "organizational"]),
              ("outcomes", None)]
MODE_TEXT = {"meetings": "meetings", "written-communication": "written summaries",
             "email": "email", "phone": "telephone calls"}


def fill(s) -> None:
    """Extract and code every included study of `s.project` (a `demo.seed.Seeding`: uses
    `project`, `complete`, `users`, and `demo`/`primaries` when there, for the works'
    words), leaving the open work unless `s.complete`."""
    started = time.perf_counter()
    studies = list(studies_to_extract(s.project))
    plans = plan_studies(hints(s, studies))
    open_consensus, open_verification = open_work(plans)
    if s.complete:
        open_consensus, open_verification = set(), set()
    made, settled = extract(s, studies, plans, open_consensus)
    s.step("extractions completed (ada, ben)", made, started)
    s.step("studies settled in consensus by lead", settled, started)
    started = time.perf_counter()
    coded, verified = code(s, studies, plans, open_verification)
    s.step("studies coded against the frameworks", coded, started)
    s.step("codes verified", verified, started)


def hints(s, studies) -> list[Hint]:
    """What each study's works say (empty hints when the seeding has no works)."""
    demo = getattr(s, "demo", None)
    primaries = getattr(s, "primaries", None) or {}
    if demo is None or not primaries:
        return [Hint() for _ in studies]
    by_pk = {r.pk: number for number, r in primaries.items()}
    works = {w.number: w for w in demo.works}
    of_study: dict[int, list] = defaultdict(list)
    for pk, study_id in Record.objects.filter(pk__in=list(by_pk)).values_list("pk", "study_id"):
        of_study[study_id].append(works[by_pk[pk]])
    out = []
    for study in studies:
        found = sorted(of_study.get(study.pk, []), key=lambda w: w.number)
        # The study's own words are its thesis's when it has one (the article takes them).
        main = next((w for w in found if w.kind == "THES"), found[0] if found else None)
        writer = getattr(main, "writer", None)
        out.append(Hint(kinds=[w.kind for w in found],
                        **{name: getattr(writer, name, "") or "" for name in
                           ("trainee", "discipline", "setting", "design", "partners",
                            "degree", "topic")}))
    return out


def open_work(plans: list[StudyPlan]) -> tuple[set[int], set[int]]:
    """Indexes of the studies left open: the last two with a disagreement await consensus
    (the lead has something to decide), the last other study awaits verification."""
    differing = [p.index for p in plans if p.differs]
    consensus = set(differing[-AWAITING_CONSENSUS:])
    rest = [p.index for p in plans if p.index not in consensus]
    return consensus, set(rest[-AWAITING_VERIFICATION:])


# ---------------------------------------------------------------------------------------------
# Extraction


def _choice_keys(fld) -> dict[str, str]:
    return {c["label"]: c["key"] for c in fld.choices or []}


def answers_for(plan: StudyPlan, fields: dict, side: int) -> dict[str, extraction.AnswerInput]:
    """Extractor `side`'s (0: ada, 1: ben) answers to the paper's form for `plan`."""
    In = extraction.AnswerInput

    def key(field_key: str, label: str) -> str:
        return label if label == OTHER else _choice_keys(fields[field_key])[label]

    disciplines = [key("trainee_discipline", d) for d in plan.disciplines]
    inputs = {
        "paper_type": In(key("paper_type", plan.paper_type)),
        "study_design": In(key("study_design", plan.design), other=plan.design_other),
        "country": In(plan.country),
        "trainee_discipline": In(disciplines or None, other=plan.discipline_other),
        "training_level": In(key("training_level", plan.level) if plan.level else None),
        "knowledge_users": In(knowledge_users(plan, fields)),
        "partnership_activities": In(activities(plan)),
        "barriers": In(_joined(plan, "barrier"), page=str(4 + plan.index % 9)),
        "facilitators": In(_joined(plan, "facilitator"), page=str(5 + plan.index % 9)),
        "outcomes": In(_joined(plan, "outcome")),
    }
    if plan.differs:
        for field_key, (who, raw, other) in plan.differs.items():
            if who != side:
                continue
            if field_key in ("study_design", "training_level"):
                raw = key(field_key, raw)
            elif field_key == "trainee_discipline":
                raw = [key(field_key, d) for d in raw]
            inputs[field_key] = In(raw, other=other)
    return inputs


def knowledge_users(plan: StudyPlan, fields: dict) -> list[dict]:
    stage_keys = _choice_keys(fields["knowledge_users"].columns.get(key="ku_stages"))
    return [{"ku_type": plan.partners[:1].upper() + plan.partners[1:],
             "ku_role": "Partners on the research team" if plan.iap2 in ("collaborate",
                                                                          "empower")
             else "Advisors to the trainee",
             "ku_stages": [stage_keys[s] for s in plan.stages]}]


def activities(plan: StudyPlan) -> str:
    modes = [MODE_TEXT[m] for m in plan.modes] or ["informal contact"]
    topic = plan.hint.topic or "the study's topic"
    return (f"The trainee and {plan.partners} worked together on {topic} through "
            f"{', '.join(modes)}.")


def _joined(plan: StudyPlan, kind: str) -> str:
    return "\n".join(e.text for e in plan.excerpts if e.kind == kind)


def _setup_extraction(s) -> dict:
    """The paper's form and settings, by the lead; the form's live fields by key."""
    project, users, lead = s.project, s.users, s.users["lead"]
    form = extraction.form_of(project)
    if form is None or not form.fields.filter(archived=False).exists():
        forms_builder.load_template(project, user=lead)
        form = extraction.form_of(project)
    settings = extraction.settings_for(project)
    wanted = (extraction.Mode.DUAL, extraction.ConsensusBy.PAIR, users["cy"].pk)
    if (settings.mode, settings.consensus_by, settings.third_reviewer_id) != wanted:
        extraction.update_settings(project, user=lead, mode=extraction.Mode.DUAL,
                                   consensus_by=extraction.ConsensusBy.PAIR,
                                   third_reviewer=users["cy"])
    return {f.key: f for f in extraction.live_fields(form)}


def _extract(s, study, plan: StudyPlan, fields: dict, round: str, done: dict) -> int:
    """ada's and ben's extractions of `study` in `round`, where not complete yet."""
    made = 0
    for side, name in enumerate(("ada", "ben")):
        reviewer = s.users[name]
        if done.get(reviewer.pk) == Status.COMPLETE:
            continue
        extraction.save_answers(s.project, study, round=round, reviewer=reviewer,
                                inputs=answers_for(plan, fields, side))
        extraction.complete_extraction(s.project, study, round=round, reviewer=reviewer)
        made += 1
    return made


def extract(s, studies, plans: list[StudyPlan], open_consensus: set[int]) -> tuple[int, int]:
    """The pilot, the main round and the consensus; returns (extractions completed,
    studies settled)."""
    project, users = s.project, s.users
    fields = _setup_extraction(s)
    settings = extraction.settings_for(project)
    pair = [users["ada"], users["ben"]]
    made = settled = 0
    if not settings.main_round_started:
        if not Assignment.objects.filter(project=project, round=Round.PILOT).exists():
            extraction.start_pilot(project, studies=studies[:PILOT], reviewers=pair,
                                   user=users["lead"])
        pilot = round_extractions(project, Round.PILOT)
        for study, plan in zip(studies[:PILOT], plans, strict=False):
            done = {e.reviewer_id: e.status for e in pilot.get(study.pk, [])}
            with transaction.atomic():
                made += _extract(s, study, plan, fields, Round.PILOT, done)
        # The pilot's extractions become each reviewer's main-round draft, to check.
        extraction.start_main_round(project, user=users["lead"], carry=True)
    extraction.assign_pair(project, reviewers=pair, count=len(studies), user=users["lead"])
    lead = Membership.objects.select_related("user").get(project=project, user=users["lead"])
    found = round_extractions(project, Round.MAIN)
    for study, plan in zip(studies, plans, strict=True):
        rows = found.get(study.pk, [])
        if any(e.role == Extraction.Role.CONSENSUS and e.status == Status.COMPLETE
               for e in rows):
            continue
        done = {e.reviewer_id: e.status for e in rows if e.role == Extraction.Role.EXTRACTOR}
        with transaction.atomic():  # a study is extracted and settled whole, or not at all
            made += _extract(s, study, plan, fields, Round.MAIN, done)
            if plan.index not in open_consensus:
                settle_study(project, study, plan, lead)
                settled += 1
    return made, settled


def settle_study(project, study, plan: StudyPlan, lead) -> None:
    """The lead settles the study: what both gave is pre-filled, and where the extractors
    differ the lead takes the answer of the one who read the report right."""
    first, second = consensus_pair(study)
    decisions = {}
    for field_key, (who, _raw, _other) in plan.differs.items():
        wrong = ("ada", "ben")[who]
        take = (extraction.Take.SECOND if first.reviewer.username == wrong
                else extraction.Take.FIRST)
        decisions[field_key] = extraction.Decision(
            take=take, note="Checked against the full text with both extractors.")
    extraction.save_consensus(project, study, membership=lead, decisions=decisions,
                              base=extraction.revision(consensus_of(study)), complete=True)


# ---------------------------------------------------------------------------------------------
# Framework coding


def _setup_coding(s) -> dict[str, dict[str, Category]]:
    """The paper's frameworks and verification settings; categories by framework and key."""
    project, lead = s.project, s.users["lead"]
    using = set(Framework.objects.filter(project=project, active=True)
                .values_list("source_key", flat=True))
    for key, levels in FRAMEWORKS:
        if key not in using:
            catalogue_services.use_framework(project, key, user=lead, category_keys=levels)
    if not CodingSettings.objects.filter(project=project).exists():
        # The paper: one reviewer codes, a second verifies every study.
        catalogue_services.update_coding_settings(project, user=lead,
                                                  verify=CodingSettings.Verify.ALL)
    categories: dict[str, dict[str, Category]] = defaultdict(dict)
    for category in (Category.objects.filter(framework__project=project,
                                             framework__active=True)
                     .select_related("framework", "parent")):
        categories[category.framework.source_key][category.key] = category
    return categories


def _study_picks(plan: StudyPlan, cats) -> dict[str, list[coding.Pick]]:
    Pick = coding.Pick
    wider = cats["wider"]
    partners = plan.partners
    picks = [Pick(wider["content"], text=f"Working with {partners} on "
                                         f"{plan.hint.topic or 'the study topic'}."),
             Pick(wider["participants"], text=partners[:1].upper() + partners[1:] + "."),
             Pick(wider["personnel"], text="The trainee, with their supervisor."),
             Pick(wider["duration-frequency"],
                  text=f"Over {8 + plan.index % 24} months, about monthly.")]
    if plan.modes:
        picks.append(Pick(wider["mode-of-delivery"],
                          text=", ".join(MODE_TEXT[m] for m in plan.modes).capitalize() + "."))
        picks += [Pick(wider[m]) for m in plan.modes]
    return {
        "kta": [Pick(cats["kta"][k]) for k in plan.kta],
        "iap2": [Pick(cats["iap2"][plan.iap2])],
        "research-stages": [Pick(cats["research-stages"][k]) for k in plan.research_stages],
        "wider": picks,
    }


def _code_study(s, study, plan: StudyPlan, cats, frameworks: dict, has: set, coder) -> bool:
    """The coder's codes of one study, where missing; True when anything was written."""
    project = s.project
    wrote = False
    for key, picks in _study_picks(plan, cats).items():
        if (study.pk, key) in has or not picks:
            continue
        coding.set_study_codes(project, study, frameworks[key], picks, coder=coder)
        wrote = True
    if (study.pk, "excerpts") not in has:
        for e in plan.excerpts:
            chosen = ([cats["outcomes"][k] for k in e.outcomes] if e.kind == "outcome" else
                      [cats["com-b-tdf"][k] for k in e.comb]
                      + [cats["mcleroy"][k] for k in e.levels])
            coding.add_excerpt(project, study, kind=e.kind, text=e.text,
                               page=str(4 + plan.index % 9), categories=chosen,
                               theme=e.theme, coder=coder)
            wrote = True
    return wrote


def _verify_study(s, study, plan: StudyPlan, row: StudyCoding, verifier, coder) -> int:
    """The verifier answers every unit without an answer: agreement, except one proposal
    on a few studies (an extra McLeroy level), which the coder rejects."""
    project = s.project
    answered = {(v.framework_id, v.excerpt_id) for v in Verification.objects.filter(coding=row)}
    n = 0
    for unit in coding.units(row):
        excerpt = unit.excerpt
        if (unit.framework.pk, excerpt.pk if excerpt else None) in answered:
            continue
        if (excerpt is not None and plan.index % 17 == 5 and unit.framework.source_key
                == "mcleroy" and excerpt.kind == Excerpt.Kind.BARRIER):
            proposal = unit.keys + [k for k in ("interpersonal",) if k not in unit.keys] \
                if "interpersonal" not in unit.keys else ["organizational"]
            answer = coding.verify(project, study, unit.framework, verifier=verifier,
                                   decision=Verification.Decision.PROPOSE, excerpt=excerpt,
                                   categories=proposal,
                                   comment="The excerpt also speaks of the relationship "
                                           "with the partners.")
            coding.settle(project, answer, accept=False, user=coder,
                          comment="The report places it with the trainee and the "
                                  "organization only.")
        else:
            coding.verify(project, study, unit.framework, verifier=verifier,
                          decision=Verification.Decision.AGREE, excerpt=excerpt)
        n += 1
    return n


def code(s, studies, plans: list[StudyPlan], open_verification: set[int]) -> tuple[int, int]:
    """Codes of every study by one reviewer (ada or ben in turn), verified by the other;
    returns (studies coded now, units verified now)."""
    project, users = s.project, s.users
    cats = _setup_coding(s)
    frameworks = {f.source_key: f for f in Framework.objects.filter(project=project,
                                                                    active=True)}
    has = set(StudyCode.objects.filter(project=project)
              .values_list("study_id", "category__framework__source_key"))
    has |= {(sid, "excerpts") for sid in Excerpt.objects.filter(project=project)
            .values_list("study_id", flat=True)}
    rows = {c.study_id: c for c in StudyCoding.objects.filter(project=project)}
    coded = verified = 0
    for study, plan in zip(studies, plans, strict=True):
        row = rows.get(study.pk)
        if row is not None and row.status == StudyCoding.Status.VERIFIED:
            continue
        coder, verifier = ((users["ada"], users["ben"]) if plan.index % 2 == 0
                           else (users["ben"], users["ada"]))
        if row is not None and row.coder_id is not None:  # whoever started it goes on
            coder = users["ada"] if row.coder_id == users["ada"].pk else users["ben"]
            verifier = users["ben"] if coder == users["ada"] else users["ada"]
        with transaction.atomic():  # a study is coded (and verified) whole, or not at all
            if _code_study(s, study, plan, cats, frameworks, has, coder):
                coded += 1
            if plan.index in open_verification:
                continue
            verified += _verify_study(s, study, plan, coding.coding_for(project, study),
                                      verifier, coder)
    return coded, verified
