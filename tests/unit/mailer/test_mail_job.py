from datetime import UTC, datetime, timedelta

from contracts.messages.mail import MailBounced, MailDeferred, MailDropped, MailQueued, MailSent
from services.mailer.domain.delivery import DeliveryReport, RetryPolicy, SmtpReply
from services.mailer.domain.mail_job import Incarnation, MailJob
from services.mailer.domain.suppression import Suppression
from tests.unit.mailer.factories import invoice

NOW = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)
LEASE = timedelta(seconds=45)
POLICY = RetryPolicy(max_attempts=2, base_seconds=30)
TEMPFAIL = SmtpReply(451, "4.3.0 try again later")
BOUNCE = SmtpReply(550, "5.1.1 mailbox unavailable")
CLAIMANT = Incarnation(instance="mailer-a")


def queued(to=("ap@globex.example",), cc=("cfo@globex.example",), suppressed=frozenset()) -> MailJob:
    return MailJob.queue(mail_id="mail_1", account_id="acct_1", invoice_id="inv_1", kind="invoice", language="de",
                         attach_pdf=True, document=invoice(), to=list(to), cc=list(cc), suppressed=set(suppressed),
                         cause={"ce_id": "cmd"}, now=NOW)


def claimed(**queueing) -> MailJob:
    job = queued(**queueing)
    job.take_recorded()
    job.claim(CLAIMANT, NOW, LEASE)
    return job


def test_a_queued_mail_announces_itself_and_is_due_at_once():
    job = queued()

    [event] = job.take_recorded()
    assert isinstance(event, MailQueued)
    assert (event.to, event.cc, event.queued_at) == (["ap@globex.example"], ["cfo@globex.example"], NOW)
    assert job.pending == ["ap@globex.example", "cfo@globex.example"]
    assert job.is_due(NOW)


def test_suppressed_recipients_are_dropped_and_announced():
    job = queued(suppressed={"cfo@globex.example"})

    dropped, queued_event = job.take_recorded()
    assert isinstance(dropped, MailDropped) and dropped.recipients == ["cfo@globex.example"]
    assert queued_event.to == ["ap@globex.example"] and queued_event.cc == []
    assert job.pending == ["ap@globex.example"]


def test_a_mail_without_any_recipient_left_is_dropped_and_never_due():
    job = queued(cc=(), suppressed={"ap@globex.example"})

    assert [type(event) for event in job.take_recorded()] == [MailDropped]
    assert job.status == "dropped" and not job.is_due(NOW)
    assert [type(event) for event in job.announcements()] == [MailDropped]


def test_a_job_with_events_in_its_outbox_is_not_the_delivery_loops_yet():
    job = queued()
    job.outbox = [{"headers": {}, "body": {}}]

    assert not job.is_due(NOW)


def test_a_claim_counts_the_attempt_and_holds_the_job_for_its_lease():
    job = claimed()

    assert job.attempts == 1 and job.claimed_by == CLAIMANT
    assert not job.is_due(NOW + LEASE - timedelta(seconds=1))
    assert job.is_due(NOW + LEASE)


def test_a_released_claim_makes_the_job_due_at_once():
    job = claimed()
    job.release(NOW + timedelta(seconds=1))

    assert job.claimed_by is None and job.is_due(NOW + timedelta(seconds=1))


def test_an_accepted_mail_is_sent():
    job = claimed()
    job.record_attempt(DeliveryReport(accepted=("ap@globex.example", "cfo@globex.example")), POLICY, "<m@acme>", NOW)

    [sent] = job.take_recorded()
    assert isinstance(sent, MailSent)
    assert (sent.to, sent.cc, sent.attempts, sent.smtp_message_id) == (
        ["ap@globex.example"], ["cfo@globex.example"], 1, "<m@acme>")
    assert job.status == "sent" and job.pending == [] and job.claimed_by is None and not job.is_due(NOW)
    assert [record.accepted for record in job.history] == [["ap@globex.example", "cfo@globex.example"]]


def test_a_temporary_refusal_is_deferred_for_the_refused_recipient_only():
    job = claimed()
    report = DeliveryReport(accepted=("ap@globex.example",), refused={"cfo@globex.example": TEMPFAIL})
    job.record_attempt(report, POLICY, "<m@acme>", NOW)

    sent, deferred = job.take_recorded()
    assert isinstance(sent, MailSent) and isinstance(deferred, MailDeferred)
    assert (deferred.recipients, deferred.attempt, deferred.smtp_code) == (["cfo@globex.example"], 1, 451)
    assert deferred.next_attempt_at == NOW + timedelta(seconds=30) == job.next_attempt_at
    assert job.status == "queued" and job.pending == ["cfo@globex.example"]
    assert job.delivered == ["ap@globex.example"]
    assert job.history[0].refused[0].smtp_code == 451


def test_a_permanent_refusal_bounces_and_asks_for_suppression():
    job = claimed(cc=())
    assessment = job.record_attempt(DeliveryReport(refused={"ap@globex.example": BOUNCE}), POLICY, "<m@acme>", NOW)

    [bounced] = job.take_recorded()
    assert isinstance(bounced, MailBounced) and bounced.permanent and bounced.attempts == 1
    assert job.status == "bounced" and job.next_attempt_at is None
    assert assessment.suppress == {"ap@globex.example": BOUNCE}


def test_the_last_attempt_refused_for_now_gives_up():
    job = claimed(cc=())
    job.record_attempt(DeliveryReport(refused={"ap@globex.example": TEMPFAIL}), POLICY, "<m@acme>", NOW)
    job.take_recorded()
    job.claim(CLAIMANT, job.next_attempt_at, LEASE)
    job.record_attempt(DeliveryReport(refused={"ap@globex.example": TEMPFAIL}), POLICY, "<m@acme>", NOW)

    [bounced] = job.take_recorded()
    assert isinstance(bounced, MailBounced) and not bounced.permanent and bounced.attempts == 2
    assert job.status == "bounced" and [record.attempt for record in job.history] == [1, 2]


def test_suppressions_ignore_the_case_of_addresses():
    assert Suppression.entry_id("acct_1", "AP@Globex.example") == Suppression.entry_id("acct_1", "ap@globex.example")
    entry = Suppression.of("acct_1", "AP@Globex.example", "mail_1", BOUNCE, NOW)
    assert (entry.address, entry.smtp_code) == ("AP@Globex.example", 550)


def test_a_mail_whose_document_does_not_render_is_tried_again_then_dropped_and_answered():
    job = claimed()
    assert job.record_failed_composition("The document took longer than 10 s to render and was stopped.", POLICY, NOW)
    [deferred] = job.take_recorded()
    assert isinstance(deferred, MailDeferred) and deferred.smtp_code is None and deferred.attempt == 1
    assert deferred.recipients == ["ap@globex.example", "cfo@globex.example"]
    assert job.status == "queued" and job.next_attempt_at == NOW + timedelta(seconds=30) and job.claimed_by is None
    assert not job.is_due(NOW) and job.is_due(NOW + timedelta(seconds=30))

    job.claim(CLAIMANT, NOW + timedelta(seconds=30), LEASE)
    assert not job.record_failed_composition("still too slow", POLICY, NOW + timedelta(seconds=30))
    [dropped] = job.take_recorded()
    assert isinstance(dropped, MailDropped) and dropped.reason == "document_failed"
    assert dropped.recipients == ["ap@globex.example", "cfo@globex.example"]
    assert job.status == "dropped" and job.pending == [] and not job.is_due(NOW + timedelta(days=1))
    assert [(record.attempt, record.refused[0].diagnostic) for record in job.history] == [
        (1, "The document took longer than 10 s to render and was stopped."), (2, "still too slow")]
    assert job.announcements() == [dropped]  # the same answer when the mail is asked for again
