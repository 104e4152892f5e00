import csv
import io

from django.urls import reverse

from references.models import Record
from screening import services
from screening.models import QueuePosition, Screening, Stage, Vote
from tests.factories import RecordFactory

TA = Stage.TITLE_ABSTRACT


def screen_url(stage=TA):
    return reverse("screening:screen", args=["ikt", stage])


def test_screen_shows_my_next_record_with_highlighted_escaped_text(cast, client_for):
    settings = services.settings_for(cast.project, TA)
    settings.include_terms, settings.exclude_terms = "trainee*", "faculty"
    settings.save()
    record = RecordFactory(project=cast.project, title="<b>Trainees</b> and faculty",
                           abstract="A trainee-led study & more")

    page = client_for(cast.ada).get(screen_url()).text

    assert ('&lt;b&gt;<mark class="term-include">Trainees</mark>&lt;/b&gt; and '
            '<mark class="term-exclude">faculty</mark>') in page
    assert '<mark class="term-include">trainee</mark>-led study &amp; more' in page
    assert reverse("screening:vote", args=["ikt", TA, record.pk]) in page


def test_voting_with_htmx_returns_the_next_record_fragment(cast, client_for):
    first, second = RecordFactory.create_batch(2, project=cast.project)
    client = client_for(cast.ada)

    response = client.post(reverse("screening:vote", args=["ikt", TA, first.pk]),
                           {"decision": "include", "note": "clear fit"},
                           headers={"HX-Request": "true"})

    assert response.text.lstrip().startswith('<section id="record"')
    assert f'data-record="{second.pk}"' in response.text
    assert reverse("screening:undo", args=["ikt", TA, first.pk]) in response.text
    vote = Vote.objects.get()
    assert (vote.screening.record, vote.reviewer, vote.decision, vote.note) == (
        first, cast.ada, "include", "clear fit")


def test_undo_brings_the_record_back(cast, client_for):
    first, _second = RecordFactory.create_batch(2, project=cast.project)
    client = client_for(cast.ada)
    client.post(reverse("screening:vote", args=["ikt", TA, first.pk]), {"decision": "exclude"})

    response = client.post(reverse("screening:undo", args=["ikt", TA, first.pk]),
                           headers={"HX-Request": "true"})

    assert f'data-record="{first.pk}"' in response.text
    assert Vote.objects.count() == 0


def test_a_reviewer_never_sees_another_reviewers_unsettled_vote(cast, client_for):
    record = RecordFactory(project=cast.project, title="Shared record")
    services.record_vote(record, stage=TA, reviewer=cast.ben, decision="exclude",
                         note="BEN-SECRET-NOTE")
    client = client_for(cast.ada)

    pages = [client.get(url).text for url in (
        screen_url(), reverse("screening:title_abstract", args=["ikt"]),
        reverse("screening:conflicts", args=["ikt", TA]),
        reverse("references:record", args=["ikt", record.pk]))]
    resolve = client_for(cast.lead).get(reverse("screening:resolve",
                                                args=["ikt", TA, record.pk]))
    agreement = client_for(cast.lead).get(reverse("screening:agreement_csv", args=["ikt", TA]))

    assert "Shared record" in pages[0] and "Shared record" in pages[3]
    for page in pages:
        assert "BEN-SECRET-NOTE" not in page and "Your vote" not in page
        assert 'id="votes"' not in page and "</strong>: Exclude" not in page
    assert resolve.status_code == 404  # not even a lead sees votes before all are in
    assert list(csv.reader(io.StringIO(agreement.text)))[1:] == []


def test_lead_resolves_a_conflict_and_sees_both_votes(cast, client_for):
    record = RecordFactory(project=cast.project)
    services.record_vote(record, stage=TA, reviewer=cast.ada, decision="include", note="fits")
    services.record_vote(record, stage=TA, reviewer=cast.ben, decision="exclude",
                         note="faculty author")
    client = client_for(cast.lead)
    url = reverse("screening:resolve", args=["ikt", TA, record.pk])

    page = client.get(url).text
    assert "fits" in page and "faculty author" in page

    response = client.post(url, {"decision": "include", "note": "trainee co-led"})

    assert response["Location"] == reverse("screening:conflicts", args=["ikt", TA])
    screening = Screening.objects.get(record=record)
    assert (screening.state, screening.settled_by, screening.note) == (
        "included", cast.lead, "trainee co-led")


def test_stage_home_counts_and_agreement(cast, client_for):
    a, b, c = RecordFactory.create_batch(3, project=cast.project)
    for record, (d1, d2) in ((a, ("include", "include")), (b, ("include", "exclude"))):
        services.record_vote(record, stage=TA, reviewer=cast.ada, decision=d1)
        services.record_vote(record, stage=TA, reviewer=cast.ben, decision=d2)
    services.record_vote(c, stage=TA, reviewer=cast.ada, decision="exclude")

    response = client_for(cast.viewer).get(reverse("screening:title_abstract", args=["ikt"]))

    assert response.context["counts"] == {"records": 3, "conflict": 1, "included": 1,
                                          "excluded": 0, "not_retrieved": 0, "open": 1,
                                          "settled": 1}
    [(first, second, pair)] = response.context["pairs"]
    assert (first, second, pair.n, pair.both_include, pair.a_include_b_exclude) == (
        "Ada", "Ben", 2, 1, 1)


def test_settings_view_saves_rules_and_terms(cast, client_for):
    response = client_for(cast.lead).post(
        reverse("screening:settings", args=["ikt", Stage.FULL_TEXT]),
        {"reviewers_needed": "3", "allow_maybe": "", "resolver": "non_voters",
         "include_terms": "trainee*", "exclude_terms": "", "order": "import",
         "order_seed": "1"})

    assert response["Location"] == reverse("screening:full_text", args=["ikt"])
    settings = services.settings_for(cast.project, Stage.FULL_TEXT)
    assert (settings.reviewers_needed, settings.allow_maybe, settings.resolver,
            settings.include_terms) == (3, False, "non_voters", "trainee*")


def test_stage_list_filters_by_state_as_i_see_it(cast, client_for):
    mine, waiting, conflict, included, untouched = RecordFactory.create_batch(
        5, project=cast.project)
    services.record_vote(mine, stage=TA, reviewer=cast.ben, decision="include")
    services.record_vote(waiting, stage=TA, reviewer=cast.ada, decision="include")
    for record, (d1, d2) in ((conflict, ("include", "exclude")),
                             (included, ("include", "maybe"))):
        services.record_vote(record, stage=TA, reviewer=cast.ada, decision=d1)
        services.record_vote(record, stage=TA, reviewer=cast.ben, decision=d2)
    client = client_for(cast.ada)
    url = reverse("screening:records", args=["ikt", TA])

    def ids(**params):
        return [r.pk for r in client.get(url, params).context["page"].items]

    assert ids() == [mine.pk, waiting.pk, conflict.pk, included.pk, untouched.pk]
    assert ids(state="mine") == [mine.pk, untouched.pk]
    assert ids(state="waiting") == [waiting.pk]
    assert ids(state="conflict") == [conflict.pk]
    assert ids(state="included") == [included.pk]
    # Ben's vote on `mine` is open: filtering by him does not reveal it.
    assert ids(reviewer=cast.ben.pk) == [conflict.pk, included.pk]
    assert ids(q=conflict.title) == [conflict.pk]


def test_full_text_pdf_upload_is_served_to_members_only(cast, client_for):
    from django.core.files.uploadedfile import SimpleUploadedFile

    record = RecordFactory(project=cast.project)
    url = reverse("screening:fulltext", args=["ikt", record.pk])

    bad = client_for(cast.ada).post(url, {"pdf": SimpleUploadedFile("x.pdf", b"<html>")})
    assert bad.context["form"].non_field_errors() == ["x.pdf is not a PDF file."]

    client_for(cast.ada).post(url, {"pdf": SimpleUploadedFile("paper.pdf", b"%PDF-1.4 body"),
                                    "url": "https://example.org/paper", "note": "via ILL"})
    pdf_url = reverse("screening:fulltext_pdf", args=["ikt", record.pk])
    response = client_for(cast.viewer).get(pdf_url)
    assert (response["Content-Type"], b"".join(response.streaming_content)) == (
        "application/pdf", b"%PDF-1.4 body")
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert client_for(cast.outsider).get(pdf_url).status_code == 404


def test_not_retrieved_leaves_the_full_text_queue_and_is_counted(cast, client_for):
    record, other = RecordFactory.create_batch(2, project=cast.project)
    for r in (record, other):
        for who in (cast.ada, cast.ben):
            services.record_vote(r, stage=TA, reviewer=who, decision="include")

    client_for(cast.ada).post(reverse("screening:fulltext", args=["ikt", record.pk]),
                              {"not_retrieved": "on", "note": "no library access"})

    from screening import queries

    assert list(queries.needing_vote_of(cast.project, Stage.FULL_TEXT, cast.ben)) == [other]
    counts = client_for(cast.viewer).get(reverse("screening:full_text", args=["ikt"])).context[
        "counts"]
    assert (counts["records"], counts["not_retrieved"], counts["open"]) == (2, 1, 1)


def test_bulk_pdf_upload_matches_by_number_doi_and_content(cast, client_for):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from screening.models import FullText

    by_number, by_name, by_content, stuck = (
        RecordFactory(project=cast.project, doi=f"10.5555/ikt.{n}") for n in range(4))
    for record in (by_number, by_name, by_content, stuck):
        for who in (cast.ada, cast.ben):
            services.record_vote(record, stage=TA, reviewer=who, decision="include")
    not_at_full_text = RecordFactory(project=cast.project, doi="10.5555/ikt.9")

    response = client_for(cast.ada).post(reverse("screening:fulltext_bulk", args=["ikt"]), {
        "pdfs": [
            SimpleUploadedFile(f"{by_number.pk}.pdf", b"%PDF-1.4 a"),
            SimpleUploadedFile("10.5555_ikt.1.pdf", b"%PDF-1.4 b"),
            SimpleUploadedFile("scan.pdf", b"%PDF-1.4 /doi (10.5555/ikt.2) c"),
            SimpleUploadedFile("10.5555_ikt.9.pdf", b"%PDF-1.4 d"),
            SimpleUploadedFile("notes.pdf", b"plain text"),
        ]})

    matched = [(name, record.pk) for name, record in response.context["matched"]]
    assert matched == [(f"{by_number.pk}.pdf", by_number.pk), ("10.5555_ikt.1.pdf", by_name.pk),
                       ("scan.pdf", by_content.pk)]
    assert [name for name, _why in response.context["unmatched"]] == [
        "10.5555_ikt.9.pdf", "notes.pdf"]
    assert set(FullText.objects.values_list("record_id", flat=True)) == {
        by_number.pk, by_name.pk, by_content.pk}
    assert not FullText.objects.filter(record__in=[stuck, not_at_full_text]).exists()


def test_a_vote_that_came_too_late_moves_on_to_the_next_record(cast, client_for):
    taken, following = RecordFactory.create_batch(2, project=cast.project)
    for who in (cast.ada, cast.ben):
        services.record_vote(taken, stage=TA, reviewer=who, decision="include")

    response = client_for(cast.cy).post(reverse("screening:vote", args=["ikt", TA, taken.pk]),
                                        {"decision": "exclude"}, headers={"HX-Request": "true"})

    assert "This record is settled already." in response.text
    assert f'data-record="{following.pk}"' in response.text
    assert not Vote.objects.filter(reviewer=cast.cy).exists()


def ahead_url(current):
    return reverse("screening:ahead", args=["ikt", TA]) + f"?current={current.pk}"


def test_the_screen_fetches_the_following_record_ahead(cast, client_for):
    first, second, third = RecordFactory.create_batch(3, project=cast.project)
    second.title = "Trainees <i>and</i> partners"
    second.save()
    client = client_for(cast.ada)

    screen = client.get(screen_url(), headers={"HX-Request": "true"}).text
    ahead = client.get(ahead_url(first), headers={"HX-Request": "true"}).text
    voted = client.post(reverse("screening:vote", args=["ikt", TA, first.pk]),
                        {"decision": "include"}, headers={"HX-Request": "true"}).text
    ahead_again = client.get(ahead_url(second), headers={"HX-Request": "true"}).text
    client.post(reverse("screening:vote", args=["ikt", TA, second.pk]), {"decision": "include"},
                headers={"HX-Request": "true"})
    last = client.get(ahead_url(third), headers={"HX-Request": "true"}).text

    assert f'data-record="{first.pk}"' in screen
    assert f'hx-get="{ahead_url(first)}"' in screen.replace("&amp;", "&")
    assert ahead.startswith(f'<template id="record-ahead" data-record="{second.pk}">')
    assert "Trainees &lt;i&gt;and&lt;/i&gt; partners" in ahead
    # The vote's answer shows the record that was fetched ahead; it then fetches the next.
    assert f'data-record="{second.pk}"' in voted
    assert f'data-record="{third.pk}"' in ahead_again
    assert last.strip() == ""  # nothing after the last record


def test_screen_vote_and_ahead_cost_the_same_queries_however_large_the_project(
        cast, client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def costs(records):
        client = client_for(cast.ada)
        counts = []
        for method, url, data in (
                ("get", screen_url(), None), ("get", ahead_url(records[0]), None),
                ("post", reverse("screening:vote", args=["ikt", TA, records[0].pk]),
                 {"decision": "include"}),
                ("get", ahead_url(records[1]), None)):
            with CaptureQueriesContext(connection) as queries:
                getattr(client, method)(url, data, headers={"HX-Request": "true"})
            counts.append(len(queries))
        return counts

    services.settings_for(cast.project, TA)
    small = costs(RecordFactory.create_batch(3, project=cast.project))
    Vote.objects.all().delete()
    Screening.objects.all().delete()
    QueuePosition.objects.all().delete()
    Record.objects.update(hold=0)  # the vote is a record's first again (it sets the hold)
    RecordFactory.create_batch(200, project=cast.project)
    large = costs(list(Record.objects.filter(project=cast.project).order_by("id")))

    assert small == large
    # screen (claims a fresh record), ahead (claims the next), vote (the one fetched ahead
    # is already mine; it locks the record and, as its first vote, holds it), ahead (claims
    # a fresh one again)
    assert small == [17, 16, 19, 16]


def test_team_progress_counts_settled_records(cast, client_for):
    a, b, _c, _d = RecordFactory.create_batch(4, project=cast.project)
    for record, decisions in ((a, ("include", "include")), (b, ("include", "exclude"))):
        for who, decision in zip((cast.ada, cast.ben), decisions, strict=True):
            services.record_vote(record, stage=TA, reviewer=who, decision=decision)

    response = client_for(cast.cy).get(reverse("screening:progress", args=["ikt", TA]))

    assert response.text.strip() == "1 of 4 records settled (25%) · 1 in conflict"


def test_a_reviewer_changes_an_earlier_vote_from_the_list(cast, client_for):
    first, second = RecordFactory.create_batch(2, project=cast.project)
    services.update_settings(services.settings_for(cast.project, TA), user=cast.lead,
                             reviewers_needed=3)
    services.record_vote(first, stage=TA, reviewer=cast.ada, decision="exclude", note="off topic")
    services.record_vote(first, stage=TA, reviewer=cast.cy, decision="include")
    client = client_for(cast.ada)

    listing = client.get(reverse("screening:records", args=["ikt", TA]) + "?state=waiting").text
    opened = client.get(screen_url() + f"?record={first.pk}").text
    client.post(reverse("screening:vote", args=["ikt", TA, first.pk]), {"decision": "include"})

    assert f'{screen_url()}?record={first.pk}' in listing
    assert f'data-record="{first.pk}"' in opened
    assert "Your vote: <strong>Exclude</strong>, note: off topic." in opened
    assert "Include" not in opened.split('id="my-vote"')[1].split("</p>")[0]  # not cy's vote
    assert Vote.objects.get(reviewer=cast.ada).decision == "include"
    assert Vote.objects.filter(screening__record=first).count() == 2


def test_lowering_reviewers_needed_in_settings_says_what_it_settled(cast, client_for):
    agreed, split = RecordFactory.create_batch(2, project=cast.project)
    services.update_settings(services.settings_for(cast.project, TA), user=cast.lead,
                             reviewers_needed=3)
    for record, decisions in ((agreed, ("include", "maybe")), (split, ("include", "exclude"))):
        for who, decision in zip((cast.ada, cast.ben), decisions, strict=True):
            services.record_vote(record, stage=TA, reviewer=who, decision=decision)

    response = client_for(cast.lead).post(
        reverse("screening:settings", args=["ikt", TA]),
        {"reviewers_needed": "2", "allow_maybe": "on", "resolver": "leads",
         "include_terms": "", "exclude_terms": "", "order": "relevance", "order_seed": "1"},
        follow=True)

    assert [str(m) for m in response.context["messages"]] == [
        "Screening settings saved. Records that had all the votes now needed: 1 settled, "
        "1 in conflict."]
    assert dict(Screening.objects.values_list("record_id", "state")) == {
        agreed.pk: "included", split.pk: "conflict"}


def test_the_leads_activity_page_shows_a_vote_only_once_its_record_settles(cast, client_for):
    record = RecordFactory(project=cast.project)
    activity = reverse("projects:activity", args=["ikt"])
    services.record_vote(record, stage=TA, reviewer=cast.ada, decision="exclude",
                         note="ADA-NOTE")
    services.record_vote(record, stage=TA, reviewer=cast.ada, decision="exclude",
                         note="ADA-CHANGED")  # a change is sealed too

    lead_before = client_for(cast.lead).get(activity).text
    services.record_vote(record, stage=TA, reviewer=cast.ben, decision="exclude")
    lead_after = client_for(cast.lead).get(activity).text

    assert "ADA-NOTE" not in lead_before and "ADA-CHANGED" not in lead_before
    assert "vote.cast" not in lead_before and "vote.change" not in lead_before
    assert "ADA-NOTE" in lead_after and "ADA-CHANGED" in lead_after
    assert lead_after.count("<code>vote.cast</code>") == 2
    assert "<code>screening.settle</code>" in lead_after


def test_an_undone_vote_stays_sealed_while_the_record_is_open(cast, client_for):
    record = RecordFactory(project=cast.project)
    services.record_vote(record, stage=TA, reviewer=cast.ada, decision="include",
                         note="ADA-NOTE")
    services.undo_vote(record, stage=TA, reviewer=cast.ada)

    page = client_for(cast.lead).get(reverse("projects:activity", args=["ikt"])).text

    assert "ADA-NOTE" not in page and "vote.undo" not in page
