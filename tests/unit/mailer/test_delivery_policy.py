from datetime import UTC, datetime, timedelta

import pytest

from services.mailer.domain.delivery import DeliveryReport, RetryPolicy, SmtpReply, classify

NOW = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)
POLICY = RetryPolicy(max_attempts=5, base_seconds=30)
TEMPFAIL = SmtpReply(451, "4.3.0 try again later")
BOUNCE = SmtpReply(550, "5.1.1 mailbox unavailable")


@pytest.mark.parametrize(
    ("reply", "verdict"),
    [
        (SmtpReply(421, "service not available"), "temporary"),
        (SmtpReply(450, "mailbox busy"), "temporary"),
        (TEMPFAIL, "temporary"),
        (SmtpReply(452, "insufficient storage"), "temporary"),
        (BOUNCE, "permanent"),
        (SmtpReply(552, "exceeded storage"), "permanent"),
        (SmtpReply(554, "transaction failed"), "permanent"),
        (SmtpReply(None, "relay unreachable: connection refused"), "temporary"),
    ],
)
def test_smtp_replies_are_temporary_or_permanent(reply, verdict):
    assert classify(reply) == verdict


def test_backoff_doubles_from_the_base():
    assert [POLICY.backoff(n) for n in (1, 2, 3, 4)] == [timedelta(seconds=s) for s in (30, 60, 120, 240)]


def test_delivered_mail_needs_nothing_more():
    assessment = POLICY.assess(DeliveryReport(accepted=("a@x.example",)), 1, NOW)

    assert assessment.delivered == ("a@x.example",)
    assert (assessment.retry, assessment.retry_at, assessment.bounced, assessment.suppress) == ((), None, {}, {})


def test_temporary_failure_is_retried_with_backoff():
    assessment = POLICY.assess(DeliveryReport.message_refused(["a@x.example"], SmtpReply(None, "timeout")), 3, NOW)

    assert assessment.retry == ("a@x.example",)
    assert assessment.retry_at == NOW + timedelta(seconds=120)
    assert assessment.given_up == {}


def test_temporary_failure_on_the_last_attempt_gives_up():
    assessment = POLICY.assess(DeliveryReport(refused={"t@x.example": TEMPFAIL}), 5, NOW)

    assert assessment.retry == () and assessment.retry_at is None
    assert assessment.given_up == {"t@x.example": TEMPFAIL}
    assert assessment.suppress == {}


def test_permanent_refusal_of_a_recipient_bounces_and_suppresses_it():
    assessment = POLICY.assess(DeliveryReport(refused={"b@x.example": BOUNCE}), 1, NOW)

    assert assessment.bounced == {"b@x.example": BOUNCE}
    assert assessment.suppress == {"b@x.example": BOUNCE}
    assert assessment.retry == ()


def test_permanent_refusal_of_the_message_bounces_without_suppressing_the_addresses():
    rejected = SmtpReply(554, "5.7.1 message content rejected")
    assessment = POLICY.assess(DeliveryReport.message_refused(["a@x.example"], rejected), 1, NOW)

    assert assessment.bounced == {"a@x.example": rejected}
    assert assessment.suppress == {}


def test_mixed_outcome_delivers_some_bounces_some_and_retries_only_the_rest():
    report = DeliveryReport(accepted=("a@x.example",), refused={"b@x.example": BOUNCE, "t@x.example": TEMPFAIL})
    assessment = POLICY.assess(report, 1, NOW)

    assert assessment.delivered == ("a@x.example",)
    assert assessment.bounced == {"b@x.example": BOUNCE}
    assert assessment.retry == ("t@x.example",)
    assert assessment.retry_at == NOW + timedelta(seconds=30)
