"""Steps the ranking tests share: a stage with records of two kinds of text, so that a
model that learns anything puts one kind first."""

from screening import services
from screening.models import Stage
from tests.factories import RecordFactory

TA = Stage.TITLE_ABSTRACT

RELEVANT = ("Trainee-led knowledge translation partnership with patients, {n}",
            "Graduate trainees co-produced the research with community partners; "
            "integrated knowledge translation and engagement of knowledge users.")
IRRELEVANT = ("Kidney function in mice after ischaemia, {n}",
              "Renal tubular injury was measured in a murine model; creatinine and "
              "histology after reperfusion in knockout mice.")


def records(cast, relevant: int, irrelevant: int, *, interleave: bool = True):
    """Records of both kinds, in import order alternating (or relevant ones last), each
    tagged `kind` ("relevant"/"irrelevant")."""
    made = []
    kinds = (["relevant"] * relevant, ["irrelevant"] * irrelevant)
    order = []
    if interleave:
        a, b = list(kinds[0]), list(kinds[1])
        while a or b:
            if b:
                order.append(b.pop())
            if a:
                order.append(a.pop())
    else:
        order = kinds[1] + kinds[0]
    for i, kind in enumerate(order):
        title, abstract = RELEVANT if kind == "relevant" else IRRELEVANT
        record = RecordFactory(project=cast.project, title=title.format(n=i), abstract=abstract)
        record.kind = kind
        made.append(record)
    return made


def vote(record, who, decision, stage=TA):
    return services.record_vote(record, stage=stage, reviewer=who, decision=decision)


def settle(record, decision, cast, stage=TA):
    """Both reviewers agree on `record`."""
    vote(record, cast.ada, decision, stage)
    return vote(record, cast.ben, decision, stage)


def decide(made, cast, n_each: int = 5):
    """Settle `n_each` records of each kind (relevant included, irrelevant excluded);
    returns the records left."""
    rel = [r for r in made if r.kind == "relevant"][:n_each]
    irr = [r for r in made if r.kind == "irrelevant"][:n_each]
    for r in rel:
        settle(r, "include", cast)
    for r in irr:
        settle(r, "exclude", cast)
    done = {r.pk for r in rel + irr}
    return [r for r in made if r.pk not in done]
