from chassis.service import serve
from services.payments.app import create_app
from services.payments.settings import PaymentsSettings

settings = PaymentsSettings()
serve(create_app(settings), settings)
