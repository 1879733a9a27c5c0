from chassis.service import serve
from services.mailer.app import create_app
from services.mailer.settings import MailerSettings

# Guarded: the processes composing mails are spawned, and import this module again.
if __name__ == "__main__":
    settings = MailerSettings()
    serve(create_app(settings), settings)
