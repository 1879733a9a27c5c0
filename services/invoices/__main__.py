from chassis.service import serve
from services.invoices.app import create_app
from services.invoices.settings import InvoicesSettings

settings = InvoicesSettings()
serve(create_app(settings), settings)
