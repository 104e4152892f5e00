"""Projects for the PRISMA tests, built through the services: sources imported from RIS with
`references.services.import_file`, merges and unmerges with the deduplication services,
removals before screening, votes, resolutions, reopenings and full texts not retrieved with
the screening services. `several_states` is the main one; its expected numbers are written
out beside it, worked out by hand."""

from dataclasses import dataclass

from projects.models import Membership
from references import deduplication
from references import services as refs
from references.models import DuplicateCandidate, Record
from screening import services
from screening.models import Screening, Stage

TA, FT = Stage.TITLE_ABSTRACT, Stage.FULL_TEXT


def ris(titles: list[str]) -> bytes:
    lines = []
    for i, title in enumerate(titles):
        lines += ["TY  - JOUR", f"TI  - {title}", f"AU  - Author{i}, Kim", f"PY  - {2000 + i}",
                  "JO  - Journal of Tests", "ER  - ", ""]
    return "\n".join(lines).encode()


def import_source(project, user, name: str, n: int, *, kind: str = "database",
                  method: str = "", starts_at_full_text: bool = False) -> list[Record]:
    """`n` records imported as the source `name`, in file order."""
    report = refs.import_file(project=project, data=ris([f"{name} study {i + 1}" for i in
                                                          range(n)]),
                              filename=f"{name}.ris", source_name=name, source_kind=kind,
                              source_method=method, starts_at_full_text=starts_at_full_text,
                              user=user)
    return list(Record.objects.filter(source=report.source).order_by("source_position"))


def fresh(record: Record) -> Record:
    return Record.objects.get(pk=record.pk)


def vote(record, who, decision, stage=TA, reason=""):
    return services.record_vote(fresh(record), stage=stage, reviewer=who, decision=decision,
                                reason=reason)


def both(cast, record, decision, stage=TA, reason=""):
    vote(record, cast.ada, decision, stage, reason)
    vote(record, cast.ben, decision, stage, reason)


def conflict(cast, record, stage=TA, reason="Wrong design"):
    vote(record, cast.ada, "include", stage)
    vote(record, cast.ben, "exclude", stage, reason if stage == FT else "")


def lead_membership(cast, project=None) -> Membership:
    return Membership.objects.get(project=project or cast.project, user=cast.lead)


def row(record, stage) -> Screening:
    return Screening.objects.get(record=record, stage=stage)


def reopen(cast, record, stage=TA):
    return services.reopen(row(record, stage), membership=lead_membership(cast))


def resolve(cast, record, stage, decision, reason=""):
    return services.resolve(row(record, stage), membership=lead_membership(cast),
                            decision=decision, reason=reason)


def not_retrieved(cast, record):
    services.set_full_text(fresh(record), user=cast.lead, not_retrieved=True)


def merge(cast, duplicate, primary):
    a, b = sorted([duplicate.pk, primary.pk])
    candidate, _ = DuplicateCandidate.objects.get_or_create(
        project=cast.project, record_a_id=a, record_b_id=b)
    deduplication.decide_duplicate(candidate, primary=fresh(primary), user=cast.lead)


def unmerge(cast, record):
    deduplication.unmerge(fresh(record), user=cast.lead)


def remove(cast, records, reason):
    refs.remove_before_screening(cast.project, [r.pk for r in records], reason=reason,
                                 user=cast.lead)


@dataclass
class Built:
    medline: list
    embase: list
    trials: list
    embase2: list
    websites: list
    experts: list


def several_states(cast) -> Built:
    """Every kind of state in one project (20 records), two PRISMA columns:
    - sources: MEDLINE 8, Embase 4, Trials (register) 2, a second "Embase" 1, Websites
      (other methods, screened with the databases) 2, Experts (other methods, starting at
      full text) 3;
    - Embase 1 merged into MEDLINE 1 (a duplicate); Embase 2 merged into MEDLINE 2, then
      unmerged (back in the flow); MEDLINE 8 marked ineligible by automation, Trials 2
      removed for another reason;
    - title and abstract: MEDLINE 1-4, Embase 2, Websites 1 included; MEDLINE 5 and
      Websites 2 excluded; Embase 4 included, reopened by the lead and resolved as
      excluded; MEDLINE 6 in conflict; Embase 3 included, then reopened (a conflict again);
      MEDLINE 7 with one vote, Trials 1 and the second Embase's record with none (awaiting);
    - full text: MEDLINE 1 included; MEDLINE 2 excluded (Wrong design); MEDLINE 3 not
      retrieved; MEDLINE 4 in conflict; Embase 2 excluded (Author not a trainee); Websites
      1 included, reopened and resolved as excluded (Wrong design); Experts 1 included and
      linked as a second report of MEDLINE 1's study; Experts 2 not retrieved; Experts 3
      awaiting.
    """
    p, lead = cast.project, cast.lead
    services.settings_for(p, FT)  # the default exclusion reasons
    b = Built(import_source(p, lead, "MEDLINE", 8), import_source(p, lead, "Embase", 4),
              import_source(p, lead, "Trials", 2, kind="register"),
              import_source(p, lead, "Embase", 1),
              import_source(p, lead, "Websites", 2, kind="other", method="websites"),
              import_source(p, lead, "Experts", 3, kind="other", method="other",
                            starts_at_full_text=True))
    m, e = b.medline, b.embase
    merge(cast, e[0], m[0])
    merge(cast, e[1], m[1])
    unmerge(cast, e[1])
    remove(cast, [m[7]], "automation")
    remove(cast, [b.trials[1]], "other")
    for record in (m[0], m[1], m[2], m[3], e[1], b.websites[0], e[2], e[3]):
        both(cast, record, "include")
    for record in (m[4], b.websites[1]):
        both(cast, record, "exclude")
    reopen(cast, e[3])
    resolve(cast, e[3], TA, "exclude")
    conflict(cast, m[5])
    reopen(cast, e[2])
    vote(m[6], cast.ada, "include")
    both(cast, m[0], "include", FT)
    both(cast, m[1], "exclude", FT, "Wrong design")
    not_retrieved(cast, m[2])
    conflict(cast, m[3], FT)
    both(cast, e[1], "exclude", FT, "Author not a trainee")
    both(cast, b.websites[0], "include", FT)
    reopen(cast, b.websites[0], FT)
    resolve(cast, b.websites[0], FT, "exclude", "Wrong design")
    x = b.experts
    both(cast, x[0], "include", FT)
    refs.link_to_study(fresh(x[0]), study_of=fresh(m[0]), user=lead)
    not_retrieved(cast, x[1])
    return b


SEVERAL_STATES_JSON = {
    "identified_databases": {"MEDLINE": 8, "Embase": 4, "Trials": 2, "Embase (2)": 1},
    "identified_other": {"Websites": 2, "Experts": 3},
    "duplicates_removed": 1,
    "automation_removed": 1,
    "other_removed": 1,
    "screened": 14,
    "excluded_screening": 3,
    "sought_retrieval": 9,
    "not_retrieved": 2,
    "assessed_eligibility": 7,
    "excluded_eligibility": {"Wrong design": 2, "Author not a trainee": 1},
    "included_studies": 1,
    "included_reports": 2,
    "in_progress": {"title_abstract_awaiting": 3, "title_abstract_conflict": 2,
                    "full_text_awaiting": 1, "full_text_conflict": 1},
}
