"""empathy-engine: real-time empathy coaching for contact centres.

from empathy_engine import Engine
from empathy_engine.ingest.conversation import ConversationV1
result = Engine().analyze(ConversationV1.model_validate(obj).events())
"""

from typing import TYPE_CHECKING, Any

__all__ = ["CallSession", "Engine", "EngineSettings", "__version__"]
__version__ = "0.3.0"

if TYPE_CHECKING:
    from empathy_engine.pipeline import CallSession, Engine, EngineSettings


def __getattr__(name: str) -> Any:
    # Lazy, so `import empathy_engine.taxonomy` (training, tools) does not load the whole engine.
    if name in {"CallSession", "Engine", "EngineSettings"}:
        from empathy_engine import pipeline

        return getattr(pipeline, name)
    raise AttributeError(name)
