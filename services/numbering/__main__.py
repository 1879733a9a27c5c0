from chassis.service import serve
from services.numbering.app import create_app
from services.numbering.settings import NumberingSettings

settings = NumberingSettings()
serve(create_app(settings), settings)
