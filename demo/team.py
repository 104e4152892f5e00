"""The demo review's team and project: the scoping review of Cassidy et al. 2021
(trainee-led integrated knowledge translation), its members and roles. `demo.seed` calls
this first."""

from django.contrib.auth.hashers import make_password
from django.db import transaction

from accounts.models import User
from projects import services
from projects.models import Project, Role

DEMO_PASSWORD = "tandem-demo"
DEMO_SLUG = "trainee-ikt"

DEMO_USERS = [
    # username, display name, role in the demo project
    ("lead", "Lena Lead", Role.LEAD),
    ("ada", "Ada Reviewer", Role.REVIEWER),
    ("ben", "Ben Reviewer", Role.REVIEWER),
    ("cy", "Cy Third-Reviewer", Role.REVIEWER),
]

INCLUSION = """\
Population: graduate students (master's, doctoral) or postdoctoral fellows in any health \
discipline who led or co-led the research (trainee-led).
Concept: an integrated knowledge translation (IKT) or other research partnership approach \
in which knowledge users (patients, clinicians, managers, policy-makers, community members) \
were engaged in the research process.
Context: health research in any setting or country.
Sources: peer-reviewed studies, theses and dissertations, and grey literature (web-based \
sources, reports) in English, any year."""

EXCLUSION = """\
Wrong design: no primary research or synthesis with knowledge users (e.g. commentaries).
Author not a trainee: the research was not led or co-led by a graduate student or \
postdoctoral fellow.
Partnership approach not described: no description of how knowledge users were engaged.
Not health research.
Wrong publication type (e.g. conference abstract without a full report)."""


@transaction.atomic
def seed_demo() -> tuple[Project, bool]:
    """Create the demo users and project if missing; safe to run any number of times."""
    users = {}
    password = None  # hashed once for all (hashing is slow on purpose): the same known password
    for username, display_name, _role in DEMO_USERS:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"display_name": display_name, "email": f"{username}@tandem.invalid"},
        )
        if created:
            password = password or make_password(DEMO_PASSWORD)
            user.password = password
            user.save(update_fields=["password"])
        users[username] = user
    project = Project.objects.filter(slug=DEMO_SLUG).first()
    created = project is None
    if created:
        project = services.create_project(
            user=users["lead"],
            slug=DEMO_SLUG,
            name="Trainee-led IKT scoping review",
            description="Scoping review of trainee-led research using an integrated knowledge "
                        "translation or other research partnership approach "
                        "(Cassidy et al. 2021, Health Res Policy Syst).",
            review_type=Project.ReviewType.SCOPING,
            inclusion_criteria=INCLUSION,
            exclusion_criteria=EXCLUSION,
        )
    for username, _display, role in DEMO_USERS:
        services.add_member(project, member=users[username], role=role, user=users["lead"])
    return project, created
