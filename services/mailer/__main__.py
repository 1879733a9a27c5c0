from chassis.service import serve
from services.mailer.app import create_app
from services.mailer.settings import MailerSettings

settings = MailerSettings()
serve(create_app(settings), settings)
