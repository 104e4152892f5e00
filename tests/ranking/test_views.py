"""The lead's page of prioritised screening, the score on a record, and the order setting."""

from django.urls import reverse

from ranking import services
from ranking.models import StoppingSample
from screening import services as screening
from screening.models import Order, StageSettings

from .steps import TA, decide, records, settle

PAGE = reverse("ranking:stage", args=["ikt", TA])


def test_the_page_says_import_order_until_the_model_can_learn(cast, client_for):
    made = records(cast, 6, 6)
    decide(made, cast, n_each=2)

    page = client_for(cast.lead).get(PAGE).text

    assert ("in import order until the stage has 5 includes and 5 excludes (2 and 2 so far)"
            in page)
    assert 'data-count="settled">4<' in page and 'data-count="unvoted">8<' in page
    assert "No sample drawn yet." in page
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in page


def test_the_page_shows_progress_the_estimate_and_the_method(cast, client_for):
    made = records(cast, 12, 12)
    left = decide(made, cast)
    services.train(cast.project, TA)
    client = client_for(cast.lead)

    page = client.get(PAGE).text
    assert "most likely relevant first" in page and "(5 includes and 5 excludes so far" in page
    assert 'data-count="since_last_include">5<' in page  # the excludes were settled last
    assert "Callaghan &amp; Müller-Hansen (2020)" in page

    response = client.post(reverse("ranking:sample", args=["ikt", TA]), {"size": "5"},
                           follow=True)
    assert "5 records drawn at random from the 14 nobody has voted on" in response.text
    sample = StoppingSample.objects.get()
    for record in [r for r in left if r.pk in sample.record_ids]:
        settle(record, "exclude", cast)

    page = client.get(PAGE, {"target": "90", "confidence": "80"}).text
    assert ("from the 14 nobody had voted on (5 includes settled then): 5 settled, 0 included, "
            "0 still open") in page
    # K = floor(5 / 0.9 - 5) + 1 = 1; p = C(13, 5) / C(14, 5) = 0.6429 > 0.2.
    assert "cannot be rejected at 80.0% confidence (p = 0.6429)" in page
    bad = client.get(PAGE, {"target": "150"}).text
    assert "150% is outside 50–99.9%." in bad


def test_a_bad_sample_size_says_why(cast, client_for):
    records(cast, 2, 2)
    response = client_for(cast.lead).post(reverse("ranking:sample", args=["ikt", TA]),
                                          {"size": "lots"}, follow=True)
    assert "Sample size: give a whole number of records, 1 or more." in response.text
    assert not StoppingSample.objects.exists()


def test_the_stage_page_loads_the_panel_for_leads_only(cast, client_for):
    url = reverse("screening:title_abstract", args=["ikt"])
    assert f'hx-get="{PAGE}"' in client_for(cast.lead).get(url).text
    assert PAGE not in client_for(cast.ada).get(url).text
    assert client_for(cast.ada).get(PAGE).status_code == 403
    assert client_for(cast.outsider).get(PAGE).status_code == 404
    partial = client_for(cast.lead).get(PAGE, headers={"HX-Request": "true"}).text
    assert partial.lstrip().startswith('<section id="ranking-panel"')  # the panel alone


def test_leads_see_a_records_score_when_they_ask_and_reviewers_never(cast, client_for):
    made = records(cast, 12, 12)
    decide(made, cast)
    services.train(cast.project, TA)
    lead_screen = client_for(cast.lead).get(reverse("screening:screen", args=["ikt", TA])).text
    assert "Show relevance score" in lead_screen
    ada_screen = client_for(cast.ada).get(reverse("screening:screen", args=["ikt", TA])).text
    assert "Show relevance score" not in ada_screen

    top = services.unvoted(cast.project, TA).order_by("id").first()
    from screening.queries import score_of

    score, rank, scored = score_of(cast.project, TA, top.pk)
    text = client_for(cast.lead).get(
        reverse("screening:score", args=["ikt", TA, top.pk])).text
    assert f"of {scored} records scored by predicted relevance" in text and scored == 14
    assert f'data-score="{score:.3f}"' in text
    assert client_for(cast.ada).get(
        reverse("screening:score", args=["ikt", TA, top.pk])).status_code == 403
    settled = made[0]
    text = client_for(cast.lead).get(
        reverse("screening:score", args=["ikt", TA, settled.pk])).text
    assert "No score: the record was voted on, or imported, before" in text


def test_the_lead_chooses_the_order_in_the_stage_settings(cast, client_for):
    url = reverse("screening:settings", args=["ikt", TA])
    client = client_for(cast.lead)
    assert "Order records are served in" in client.get(url).text

    client.post(url, {"reviewers_needed": 2, "allow_maybe": "on", "resolver": "leads",
                      "order": "random", "order_seed": 42})

    settings = StageSettings.objects.get(project=cast.project, stage=TA)
    assert (settings.order, settings.order_seed) == (Order.RANDOM, 42)
    screening.update_settings(settings, user=cast.lead, order=Order.IMPORT)
    assert StageSettings.objects.get(pk=settings.pk).order == Order.IMPORT
