"""empathy-engine: real-time empathy coaching for contact centres.

from empathy_engine import Engine
from empathy_engine.ingest.conversation import ConversationV1
result = Engine().analyze(ConversationV1.model_validate(obj).events())
"""

from empathy_engine.pipeline import CallSession, Engine, EngineSettings

__all__ = ["CallSession", "Engine", "EngineSettings", "__version__"]
__version__ = "0.1.0"
