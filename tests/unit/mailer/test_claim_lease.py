"""A delivery claim outlives its attempt, also when the attempt's document waits for a worker."""

from datetime import timedelta

from services.mailer.delivery import claim_lease
from services.mailer.settings import MailerSettings


def test_a_claim_covers_the_renders_ahead_of_it_the_smtp_conversation_and_a_margin():
    settings = MailerSettings(mailer_concurrency=8, mailer_compose_processes=2, smtp_timeout_seconds=30)
    # Up to 8 attempts in flight on 2 workers: an attempt's document may wait for 3 renders, then be the 4th.
    assert claim_lease(settings, render_seconds=10) == timedelta(seconds=30 + 4 * 10 + 15)


def test_documents_rendered_in_the_loop_itself_count_once_per_attempt_in_flight():
    settings = MailerSettings(mailer_concurrency=3, mailer_compose_processes=0, smtp_timeout_seconds=30)
    assert claim_lease(settings, render_seconds=10) == timedelta(seconds=30 + 3 * 10 + 15)
