"""A project whose records are all included at both screening stages, built with bulk
inserts: the starting point of the extraction and frameworks benchmarks."""

from collections.abc import Callable


def included_project(*, slug: str, name: str, n: int, users: dict, rng, words,
                     author: Callable[[int], str]):
    """(project, studies, records): `n` studies of one report each, ada and ben reviewers."""
    from django.utils import timezone

    from projects.models import Membership, Role
    from projects.services import create_project
    from references.models import Record, Source, Study
    from screening.models import Screening, Stage

    now = timezone.now()
    project = create_project(user=users["lead"], name=name, slug=slug)
    for who in ("ada", "ben"):
        Membership.objects.create(project=project, user=users[who], role=Role.REVIEWER)
    source = Source.objects.create(project=project, name="Bench", record_count=n)
    studies = Study.objects.bulk_create([Study(project=project) for _ in range(n)])
    records = Record.objects.bulk_create([
        Record(project=project, source=source, study=study, source_position=i + 1,
               title=" ".join(rng.choices(words, k=8)).capitalize(),
               authors=[author(i), "Second, B"], year=2000 + i % 25)
        for i, study in enumerate(studies)], batch_size=2000)
    Screening.objects.bulk_create([
        Screening(project=project, record=record, stage=stage, state=Screening.State.INCLUDED,
                  votes_in=2, settled_at=now)
        for record in records for stage in (Stage.TITLE_ABSTRACT, Stage.FULL_TEXT)],
        batch_size=5000)
    return project, studies, records
