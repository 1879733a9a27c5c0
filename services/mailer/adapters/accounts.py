"""The mailer's copy of each account's configuration in its store: one document per account."""

from chassis.repository import Repository
from services.mailer.domain.account import MailerAccount


class MailerAccounts(Repository[MailerAccount]):
    model = MailerAccount
    collection_name = "accounts"
