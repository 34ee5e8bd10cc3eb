"""Every table of every domain, for Alembic and for schema checks."""

from sunlit.identity import models as identity_models
from sunlit.kernel import audit
from sunlit.kernel.db import Base
from sunlit.kernel.web import sessions

metadata = Base.metadata

__all__ = ["audit", "identity_models", "metadata", "sessions"]
