"""The live service: `create_app(settings)` (service.app), the streaming protocol, REST API and pages.

Nothing here builds anything at import time; `empathy serve` (service.command) runs it.
"""
