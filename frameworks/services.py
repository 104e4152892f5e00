"""Coding and verification: the writes. Which studies are coded (the included studies),
study-level codes per framework (one or several categories as the framework's rule says;
WIDER's free text per item with its tags), excerpts of barriers, facilitators and outcomes
with their categories and theme, the verifier's answers and their settlement, and the
studies that need verification. Every write is one function that owns its transaction and
writes its audit events. The catalogue and a project's frameworks live in
`catalogue_services.py`.

The unit a verifier answers is a framework's codes of one study (study-level frameworks) or
an excerpt's categories in one framework (excerpt-level frameworks): a proposal names the
categories the unit should have instead ({"categories": [keys]}), and accepting it applies
them. Agreement per framework is the share of the verifier's answers that agreed unchanged.

Status of a study, derived after every write (`refresh_status`): not started (no code),
coded (codes, some unit without an answer), disputed (a proposal is open), verified (every
unit with codes has an answer, none open). `needs_verification` (from the settings' sample)
says which coded studies a verifier must take; a study outside the sample may still be
verified.
"""

import random
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from extraction.models import Answer
from projects import audit
from projects.models import Membership, Project, Role
from references.models import Study
from screening.queries import included_reports, included_studies

from .models import (
    Category,
    CodingSettings,
    Excerpt,
    Framework,
    StudyCode,
    StudyCoding,
    Theme,
    Verification,
)

Rule = Framework.Rule
Status = StudyCoding.Status
Decision = Verification.Decision
Outcome = Verification.Outcome

TEXT_MAX = 20_000
PAGE_MAX = 40
THEME_MAX = 200


class CodingError(Exception):
    """A coding rule was broken; the message says which, for the user."""


# ---------------------------------------------------------------------------------------------
# Which studies, which frameworks


def studies_to_code(project: Project) -> QuerySet[Study]:
    """The studies coded: the review's included studies, in study order."""
    return included_studies(project)


def project_frameworks(project: Project) -> QuerySet[Framework]:
    """The frameworks the project uses (its active copies), in order, with categories."""
    return (Framework.objects.filter(project=project, active=True)
            .prefetch_related("categories").order_by("position", "id"))


def _is_included(project: Project, study_id: int) -> bool:
    """One study among `studies_to_code`: it has an included report (asked of the reports
    alone, a quarter of the cost of building the studies' query, which every write asks)."""
    return included_reports(project).filter(study_id=study_id).exists()


def _framework(project: Project, framework: Framework) -> Framework:
    if framework.project_id != project.pk or not framework.active:
        raise CodingError(f"{framework.name} is not one of this project's frameworks.")
    return framework


def _can_code(project: Project, user) -> None:
    membership = Membership.objects.filter(project=project, user=user).first()
    if membership is None or not membership.has_role(Role.REVIEWER):
        raise CodingError("Only reviewers and leads code studies.")


def _is_lead(project: Project, user) -> bool:
    return Membership.objects.filter(project=project, user=user, role=Role.LEAD).exists()


def coding_for(project: Project, study: Study, *, lock: bool = False) -> StudyCoding:
    """The study's coding row, created (not started) the first time it is needed. With
    `lock`, the row FOR UPDATE: writes to one study's codes take turns on it."""
    if study.project_id != project.pk:
        raise CodingError("That study is not in this project.")
    StudyCoding.objects.get_or_create(study=study, defaults={"project": project})
    rows = StudyCoding.objects.filter(study=study)
    coding = (rows.select_for_update() if lock else rows).get()
    coding.project = project  # the study's project: refresh_status needs not load it again
    return coding


# ---------------------------------------------------------------------------------------------
# Verification settings and the sample


def settings_for(project: Project) -> CodingSettings:
    obj, _ = CodingSettings.objects.get_or_create(project=project)
    return obj


def studies_needing_verification(project: Project) -> set[int]:
    """The ids of the included studies that need a verifier: all of them, or (sample) the
    first N in study order and then `share` of the rest drawn with the settings' seed, so
    the same settings always draw the same studies. The number drawn is the share of the
    rest rounded half up (0.2 of 7 is 1, 0.25 of 6 is 2)."""
    settings = settings_for(project)
    ids = list(studies_to_code(project).values_list("pk", flat=True))
    if settings.verify == CodingSettings.Verify.ALL:
        return set(ids)
    first, rest = ids[:settings.first_n], ids[settings.first_n:]
    return set(first) | {rest[i] for i in _drawn(settings, len(rest))}


def _drawn(settings: CodingSettings, n: int) -> set[int]:
    """The positions drawn among the `n` included studies after the first N. The draw
    depends only on the seed, `n` and how many are drawn (`random.sample` picks positions),
    so one study's place among the included studies says whether it was drawn."""
    k = min(n, int(settings.share * n + 0.5))
    return set(random.Random(settings.seed).sample(range(n), k))


def needs_verification(project: Project, study_id: int) -> bool:
    """Whether one study is in `studies_needing_verification`, in one query (its place
    among the included studies) instead of listing them all: what each write asks."""
    settings = settings_for(project)
    if settings.verify == CodingSettings.Verify.ALL:
        return _is_included(project, study_id)
    place = studies_to_code(project).order_by().aggregate(
        here=Count("pk", filter=Q(pk=study_id)), before=Count("pk", filter=Q(pk__lt=study_id)),
        total=Count("pk"))
    if not place["here"]:
        return False
    if place["before"] < settings.first_n:
        return True
    return place["before"] - settings.first_n in _drawn(settings,
                                                        place["total"] - settings.first_n)


def apply_verification_settings(project: Project) -> int:
    """Writes each coding row's `needs_verification` from the settings and re-derives the
    statuses; answers how many rows changed. Call after the settings change."""
    needing = studies_needing_verification(project)
    changed = 0
    with transaction.atomic():
        for coding in StudyCoding.objects.select_for_update().filter(project=project):
            wanted = coding.study_id in needing
            if coding.needs_verification != wanted:
                coding.needs_verification = wanted
                coding.save(update_fields=["needs_verification"])
                changed += 1
            refresh_status(coding, needs=wanted)
    return changed


# ---------------------------------------------------------------------------------------------
# Study-level codes


@dataclass
class Pick:
    """One category picked for a study, with its evidence (`text`: WIDER's item text)."""

    category: Category
    note: str = ""
    quote: str = ""
    page: str = ""
    text: str = ""


def _clean_pick(pick: Pick) -> Pick:
    for name, limit in (("note", TEXT_MAX), ("quote", TEXT_MAX), ("text", TEXT_MAX),
                        ("page", PAGE_MAX)):
        value = (getattr(pick, name) or "").strip()
        if len(value) > limit:
            raise CodingError(f"The {name} of {pick.category.name} is longer than {limit} "
                              f"characters.")
        setattr(pick, name, value)
    return pick


def _check_categories(framework: Framework, categories, *, existing: set[int] = frozenset()):
    for category in categories:
        if category.framework_id != framework.pk:
            raise CodingError(f"{category.name} is not a category of {framework.name}.")
        if category.retired and category.pk not in existing:
            raise CodingError(f"{category.name} is retired: it keeps its codes but takes no "
                              f"new ones.")


def _codes_snapshot(codes) -> list[dict]:
    return [{"category": c.category.key, "text": c.text, "note": c.note, "quote": c.quote,
             "page": c.page} for c in codes]


def set_study_codes(project: Project, study: Study, framework: Framework, picks: list[Pick],
                    *, coder) -> list[StudyCode]:
    """Replace the study's codes in `framework` by `picks` (an empty list removes them).

    Rules: the framework is one of the project's and codes studies (not excerpts); a single
    choice framework takes at most one category, a multiple one several; a text framework
    (WIDER) takes its items with their text and their tags (a tag is a child of its item);
    a retired category keeps the codes it has but takes no new one; the study is included.
    Atomic, on the study's coding row; one audit event with the codes before and after.
    """
    _can_code(project, coder)
    _framework(project, framework)
    if framework.rule == Rule.EXCERPT:
        raise CodingError(f"{framework.name} codes excerpts, not studies: add an excerpt.")
    if not _is_included(project, study.pk):
        raise CodingError("Only included studies are coded.")
    picks = [_clean_pick(p) for p in picks]
    keys = [p.category.pk for p in picks]
    if len(set(keys)) != len(keys):
        raise CodingError("A category is picked once per study.")
    if framework.rule == Rule.SINGLE and len(picks) > 1:
        raise CodingError(f"{framework.name} takes one category per study; "
                          f"{len(picks)} were picked.")
    if framework.rule == Rule.TEXT:
        for p in picks:
            if p.category.parent_id is None and not p.text and not any(
                    q.category.parent_id == p.category.pk for q in picks):
                raise CodingError(f"Write the text of {p.category.name}.")
    with transaction.atomic():
        coding = coding_for(project, study, lock=True)
        old = list(StudyCode.objects.filter(study=study, category__framework=framework)
                   .select_related("category").order_by("category__position", "id"))
        _check_categories(framework, [p.category for p in picks],
                          existing={c.category_id for c in old})
        by_category = {c.category_id: c for c in old}
        kept = []
        for p in picks:
            code = by_category.pop(p.category.pk, None)
            if code is None:
                code = StudyCode(project=project, study=study, category=p.category,
                                 coder=coder)
            code.note, code.quote, code.page, code.text = p.note, p.quote, p.page, p.text
            code.save()
            kept.append(code)
        StudyCode.objects.filter(pk__in=[c.pk for c in by_category.values()]).delete()
        before, after = _codes_snapshot(old), _codes_snapshot(kept)
        if before != after:
            _coded(coding, coder)
            audit.record(project=project, actor=coder, action="frameworks.code_study",
                         target=study, before={"framework": framework.key, "codes": before},
                         after={"framework": framework.key, "codes": after})
            if sorted(c.category_id for c in old) != sorted(c.category_id for c in kept):
                _reset_answers(coding, framework, None, actor=coder)
        refresh_status(coding)
    return kept


def _coded(coding: StudyCoding, coder) -> None:
    if coding.coder_id is None:
        coding.coder = coder
    coding.coded_at = timezone.now()
    coding.save(update_fields=["coder", "coded_at"])


# ---------------------------------------------------------------------------------------------
# Excerpts and themes


def theme_named(project: Project, name: str, *, user) -> Theme:
    """The project's theme called `name` (case and spaces ignored; a merged theme answers
    with the theme it was merged into), created when there is none: coders make themes
    while coding. Audited when created."""
    name = " ".join((name or "").split())
    if not name:
        raise CodingError("A theme needs a name.")
    if len(name) > THEME_MAX:
        raise CodingError(f"A theme's name is at most {THEME_MAX} characters.")
    theme = Theme.objects.filter(project=project, name__iexact=name).order_by("id").first()
    if theme is None:
        theme = Theme.objects.create(project=project, name=name, created_by=user)
        audit.record(project=project, actor=user, action="frameworks.create_theme",
                     target=theme, after={"name": name})
    seen = set()
    while theme.merged_into_id is not None and theme.pk not in seen:
        seen.add(theme.pk)
        theme = theme.merged_into
    return theme


OUTCOMES = "outcomes"  # the catalogue's outcome categories: for outcome excerpts only


def _excerpt_categories(project: Project, categories, kind: str) -> list[Category]:
    """Excerpt categories: of the project's excerpt-level frameworks, not newly retired; a
    TDF domain brings its COM-B component (a child brings its parent); outcome categories
    go on outcomes only."""
    chosen: dict[int, Category] = {}
    for category in categories:
        framework = category.framework
        _framework(project, framework)
        if framework.rule != Rule.EXCERPT:
            raise CodingError(f"{framework.name} codes studies, not excerpts.")
        if OUTCOMES in (framework.source_key, framework.key) and kind != Excerpt.Kind.OUTCOME:
            raise CodingError(f"{framework.name} codes outcomes, not barriers or "
                              f"facilitators.")
        chosen[category.pk] = category
        if category.parent_id is not None:
            chosen.setdefault(category.parent_id, category.parent)
    return list(chosen.values())


def _excerpt_snapshot(excerpt: Excerpt) -> dict:
    return {"kind": excerpt.kind, "text": excerpt.text, "page": excerpt.page,
            "answer": excerpt.answer_id,
            "theme": excerpt.theme.name if excerpt.theme_id else None,
            "categories": sorted(f"{c.framework.key}:{c.key}"
                                 for c in excerpt.categories.select_related("framework"))}


def _clean_excerpt(kind: str, text: str, page: str) -> tuple[str, str, str]:
    if kind not in Excerpt.Kind.values:
        raise CodingError("An excerpt is a barrier, a facilitator or an outcome.")
    text, page = (text or "").strip(), (page or "").strip()
    if not text:
        raise CodingError("An excerpt needs its quotation.")
    if len(text) > TEXT_MAX:
        raise CodingError(f"A quotation is at most {TEXT_MAX} characters.")
    if len(page) > PAGE_MAX:
        raise CodingError(f"A page is at most {PAGE_MAX} characters.")
    return kind, text, page


def add_excerpt(project: Project, study: Study, *, kind: str, text: str, page: str = "",
                categories=(), theme: str = "", answer_id: int | None = None,
                coder) -> Excerpt:
    """Add a barrier, facilitator or outcome excerpt of an included study with its
    categories (COM-B/TDF, McLeroy levels, outcome category) and its theme, picked or created
    by name. Atomic; audited with everything it holds."""
    _can_code(project, coder)
    if answer_id is not None:
        answer = Answer.objects.filter(pk=answer_id, extraction__study=study).first()
        if answer is None:
            raise CodingError("That extracted answer is not of this study.")
        # Quoting an answer: its quote and page unless the coder wrote their own.
        text, page = (text or "").strip() or answer.quote, (page or "").strip() or answer.page
    kind, text, page = _clean_excerpt(kind, text, page)
    if not _is_included(project, study.pk):
        raise CodingError("Only included studies are coded.")
    categories = _excerpt_categories(project, categories, kind)
    for category in categories:
        if category.retired:
            raise CodingError(f"{category.name} is retired: it takes no new codes.")
    with transaction.atomic():
        coding = coding_for(project, study, lock=True)
        excerpt = Excerpt.objects.create(
            project=project, study=study, kind=kind, text=text, page=page,
            answer_id=answer_id, coder=coder,
            theme=theme_named(project, theme, user=coder) if (theme or "").strip() else None)
        excerpt.categories.set(categories)
        _coded(coding, coder)
        audit.record(project=project, actor=coder, action="frameworks.add_excerpt",
                     target=excerpt, after=_excerpt_snapshot(excerpt))
        refresh_status(coding)
    return excerpt


def update_excerpt(project: Project, excerpt: Excerpt, *, kind: str, text: str,
                   page: str = "", categories=(), theme: str = "", coder) -> Excerpt:
    """Change an excerpt (its kind, quotation, page, categories, theme). Retired categories
    it already has stay; no new retired one. Atomic; audited before and after."""
    _can_code(project, coder)
    if excerpt.project_id != project.pk:
        raise CodingError("That excerpt is not in this project.")
    kind, text, page = _clean_excerpt(kind, text, page)
    categories = _excerpt_categories(project, categories, kind)
    with transaction.atomic():
        coding = coding_for(project, excerpt.study, lock=True)
        excerpt = Excerpt.objects.select_for_update().get(pk=excerpt.pk)
        before = _excerpt_snapshot(excerpt)
        existing = set(excerpt.categories.values_list("pk", flat=True))
        for category in categories:
            if category.retired and category.pk not in existing:
                raise CodingError(f"{category.name} is retired: it takes no new codes.")
        excerpt.kind, excerpt.text, excerpt.page = kind, text, page
        excerpt.theme = theme_named(project, theme, user=coder) if (theme or "").strip() \
            else None
        excerpt.save()
        excerpt.categories.set(categories)
        after = _excerpt_snapshot(excerpt)
        if before != after:
            _coded(coding, coder)
            audit.record(project=project, actor=coder, action="frameworks.update_excerpt",
                         target=excerpt, before=before, after=after)
            changed = {k.split(":")[0] for k in
                       set(before["categories"]) ^ set(after["categories"])}
            for framework in Framework.objects.filter(project=project, key__in=changed):
                _reset_answers(coding, framework, excerpt, actor=coder)
        refresh_status(coding)
    return excerpt


def delete_excerpt(project: Project, excerpt: Excerpt, *, coder) -> None:
    """Remove an excerpt (its verifications keep their record, pointing nowhere). Audited
    with what it held."""
    _can_code(project, coder)
    if excerpt.project_id != project.pk:
        raise CodingError("That excerpt is not in this project.")
    with transaction.atomic():
        coding = coding_for(project, excerpt.study, lock=True)
        before = _excerpt_snapshot(excerpt)
        audit.record(project=project, actor=coder, action="frameworks.delete_excerpt",
                     target=excerpt, before=before)
        excerpt.delete()
        refresh_status(coding)


# ---------------------------------------------------------------------------------------------
# Verification


def _reset_answers(coding: StudyCoding, framework: Framework, excerpt: Excerpt | None, *,
                   actor) -> int:
    """The coder changed a unit's categories after the verifier answered it: a settled or
    agreed answer no longer speaks for the codes, so it goes (audited with what it said)
    and the unit waits for a new answer. An open proposal stays for the coder to settle."""
    stale = list(Verification.objects.filter(coding=coding, framework=framework,
                                             excerpt=excerpt).exclude(outcome=Outcome.OPEN))
    for answer in stale:
        audit.record(project=coding.project, actor=actor,
                     action="frameworks.reset_verification", target=answer,
                     before={"framework": framework.key,
                             "excerpt": excerpt.pk if excerpt else None,
                             "decision": answer.decision, "outcome": answer.outcome})
        answer.delete()
    return len(stale)


@dataclass
class Unit:
    """What a verifier answers: a framework's codes of a study, or an excerpt's categories
    in one framework; `keys` are the category keys it holds now."""

    framework: Framework
    excerpt: Excerpt | None = None
    keys: list[str] = field(default_factory=list)


def units(coding: StudyCoding) -> list[Unit]:
    """The study's units with codes: each study-level framework with codes, then each
    excerpt (by id) in each excerpt-level framework it has categories in."""
    out = []
    codes = (StudyCode.objects.filter(study_id=coding.study_id)
             .select_related("category__framework")
             .order_by("category__framework__position", "category__framework_id",
                       "category__position", "category_id"))
    by_fw: dict[int, Unit] = {}
    for code in codes:
        fw = code.category.framework
        unit = by_fw.get(fw.pk)
        if unit is None:
            unit = by_fw[fw.pk] = Unit(framework=fw)
            out.append(unit)
        unit.keys.append(code.category.key)
    for excerpt in (Excerpt.objects.filter(study_id=coding.study_id)
                    .prefetch_related("categories__framework").order_by("id")):
        per_fw: dict[int, Unit] = {}
        for category in sorted(excerpt.categories.all(),
                               key=lambda c: (c.framework.position, c.framework_id,
                                              c.position, c.pk)):
            unit = per_fw.get(category.framework_id)
            if unit is None:
                unit = per_fw[category.framework_id] = Unit(framework=category.framework,
                                                            excerpt=excerpt)
                out.append(unit)
            unit.keys.append(category.key)
    return out


def _unit_verifications(coding: StudyCoding, framework: Framework, excerpt: Excerpt | None):
    return Verification.objects.filter(coding=coding, framework=framework, excerpt=excerpt)


def verify(project: Project, study: Study, framework: Framework, *, verifier,
           decision: str, excerpt: Excerpt | None = None, categories: list[str] | None = None,
           comment: str = "") -> Verification:
    """The verifier's answer to one unit: agree, or propose the categories (keys of
    `framework`) the unit should have instead, with a comment saying why.

    Rules: a reviewer or lead who is not the study's coder; one verifier per study (the
    first to answer); the unit has codes; one answer per unit (a later answer replaces an
    open one, never a settled one). Atomic on the coding row; audited.
    """
    _can_code(project, verifier)
    _framework(project, framework)
    if decision not in Decision.values:
        raise CodingError("Agree, or propose a change.")
    comment = (comment or "").strip()
    with transaction.atomic():
        coding = coding_for(project, study, lock=True)
        if coding.coder_id is None:
            raise CodingError("The study has no codes to verify yet.")
        if coding.coder_id == verifier.pk:
            raise CodingError("The coder does not verify their own coding: a second "
                              "reviewer does.")
        if coding.verifier_id is not None and coding.verifier_id != verifier.pk:
            raise CodingError(f"{coding.verifier} verifies this study.")
        if excerpt is not None and (excerpt.study_id != study.pk):
            raise CodingError("That excerpt is not of this study.")
        found = units(coding)  # answering changes no code: refresh_status reuses them
        unit = next((u for u in found if u.framework.pk == framework.pk
                     and (u.excerpt.pk if u.excerpt else None)
                     == (excerpt.pk if excerpt else None)), None)
        if unit is None:
            raise CodingError(f"There are no codes in {framework.name} to verify here.")
        proposal = None
        if decision == Decision.PROPOSE:
            keys = list(dict.fromkeys(categories or []))
            known = {c.key: c for c in framework.categories.all()}
            unknown = [k for k in keys if k not in known]
            if unknown:
                raise CodingError(f"{', '.join(unknown)}: not categories of "
                                  f"{framework.name}.")
            if framework.rule == Rule.SINGLE and len(keys) > 1:
                raise CodingError(f"{framework.name} takes one category per study.")
            if sorted(keys) == sorted(unit.keys):
                raise CodingError("The proposal is the codes as they are: agree instead.")
            if not comment:
                raise CodingError("Say why in a comment when you propose a change.")
            proposal = {"categories": keys}
        previous = _unit_verifications(coding, framework, excerpt).order_by("-id").first()
        if previous is not None and previous.outcome != Outcome.OPEN:
            raise CodingError("This code was already settled.")
        if previous is not None and previous.decision == Decision.AGREE:
            raise CodingError("You already agreed with this code.")
        before = None
        if previous is not None:
            before = {"decision": previous.decision, "proposal": previous.proposal,
                      "comment": previous.comment}
            previous.delete()
        outcome = Outcome.OPEN if decision == Decision.PROPOSE else Outcome.ACCEPTED
        verification = Verification.objects.create(
            coding=coding, framework=framework, excerpt=excerpt, verifier=verifier,
            decision=decision, proposal=proposal, comment=comment, outcome=outcome)
        if coding.verifier_id is None:
            coding.verifier = verifier
            coding.save(update_fields=["verifier"])
        audit.record(project=project, actor=verifier, action="frameworks.verify",
                     target=verification, before=before,
                     after={"framework": framework.key, "excerpt": excerpt.pk if excerpt
                            else None, "codes": unit.keys, "decision": decision,
                            "proposal": proposal, "comment": comment})
        refresh_status(coding, found=found)
    return verification


def settle(project: Project, verification: Verification, *, accept: bool, user,
           comment: str = "") -> Verification:
    """The coder or a lead settles an open proposal: accepted, the unit takes the proposed
    categories (study codes replaced, or the excerpt's categories in that framework
    replaced); rejected, the codes stay. Atomic; audited with the codes before and after."""
    with transaction.atomic():
        coding = coding_for(project, verification.coding.study, lock=True)
        verification = Verification.objects.select_for_update().get(pk=verification.pk)
        if coding.project_id != project.pk:
            raise CodingError("That verification is not in this project.")
        if coding.coder_id != user.pk and not _is_lead(project, user):
            raise CodingError("The coder or a lead settles a proposal.")
        if verification.outcome != Outcome.OPEN:
            raise CodingError("This proposal is already settled.")
        framework = verification.framework
        unit_before = next((u.keys for u in units(coding) if u.framework.pk == framework.pk
                            and u.excerpt == verification.excerpt), [])
        if accept:
            keys = verification.proposal["categories"]
            chosen = list(Category.objects.filter(framework=framework, key__in=keys))
            if verification.excerpt_id is not None:
                excerpt = verification.excerpt
                chosen += [c.parent for c in chosen
                           if c.parent_id is not None and c.parent not in chosen]
                excerpt.categories.remove(*excerpt.categories.filter(framework=framework))
                excerpt.categories.add(*chosen)
            else:
                old = {c.category.key: c for c in StudyCode.objects.filter(
                    study_id=coding.study_id, category__framework=framework)
                    .select_related("category")}
                for key, code in old.items():
                    if key not in keys:
                        code.delete()
                for category in chosen:
                    if category.key not in old:
                        StudyCode.objects.create(project=project, study_id=coding.study_id,
                                                 category=category, coder=user)
        verification.outcome = Outcome.ACCEPTED if accept else Outcome.REJECTED
        verification.settled_by = user
        verification.settled_at = timezone.now()
        if comment.strip():
            verification.comment = (verification.comment + "\n" if verification.comment
                                    else "") + f"Settled: {comment.strip()}"
        verification.save()
        unit_after = next((u.keys for u in units(coding) if u.framework.pk == framework.pk
                           and u.excerpt == verification.excerpt), [])
        audit.record(project=project, actor=user, action="frameworks.settle",
                     target=verification,
                     before={"framework": framework.key, "codes": unit_before},
                     after={"framework": framework.key, "codes": unit_after,
                            "outcome": verification.outcome})
        refresh_status(coding)
    return verification


# ---------------------------------------------------------------------------------------------
# Status and agreement


def refresh_status(coding: StudyCoding, *, found: list[Unit] | None = None,
                   needs: bool | None = None) -> str:
    """Derive and store the study's status from its codes and answers (see the module's
    docstring); sets `verified_at` when it becomes verified. A few queries whatever the
    number of studies. `found` (the study's units) and `needs` (its place in the sample)
    are for a caller that has them already."""
    if needs is not None:
        coding.needs_verification = needs
    elif coding.project_id:
        coding.needs_verification = needs_verification(coding.project, coding.study_id)
    found = units(coding) if found is None else found
    answers = list(Verification.objects.filter(coding=coding))
    if not found:
        status = Status.NOT_STARTED
    elif any(a.outcome == Outcome.OPEN for a in answers):
        status = Status.DISPUTED
    elif all(
            any(a.framework_id == u.framework.pk
                and a.excerpt_id == (u.excerpt.pk if u.excerpt else None) for a in answers)
            for u in found):
        status = Status.VERIFIED
    else:
        status = Status.CODED
    fields = ["status", "needs_verification"]
    if status == Status.VERIFIED and coding.status != Status.VERIFIED:
        coding.verified_at = timezone.now()
        fields.append("verified_at")
    coding.status = status
    coding.save(update_fields=fields)
    return status


@dataclass
class Agreement:
    framework: Framework
    answered: int  # the verifier's answers to this framework's units
    unchanged: int  # of them, agreed as coded

    @property
    def share(self) -> float | None:
        return self.unchanged / self.answered if self.answered else None


def agreement(project: Project) -> list[Agreement]:
    """Per framework of the project, in order: the verifier's answers and the share that
    agreed with the codes unchanged (None when nothing was verified)."""
    answers = list(Verification.objects.filter(coding__project=project)
                   .values_list("framework_id", "decision"))
    out = []
    for framework in project_frameworks(project):
        mine = [d for f, d in answers if f == framework.pk]
        out.append(Agreement(framework=framework, answered=len(mine),
                             unchanged=sum(1 for d in mine if d == Decision.AGREE)))
    return out
