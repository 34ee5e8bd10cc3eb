"""Every table of every domain, for Alembic and for schema checks."""

from sunlit.award import models as award_models
from sunlit.bidding import models as bidding_models
from sunlit.deposits import models as deposits_models
from sunlit.evaluation import models as evaluation_models
from sunlit.experts import models as experts_models
from sunlit.guarantees import models as guarantees_models
from sunlit.identity import models as identity_models
from sunlit.kernel import audit, partner, tlog
from sunlit.kernel.db import Base
from sunlit.kernel.web import sessions
from sunlit.notices import models as notices_models
from sunlit.opening import models as opening_models
from sunlit.projects import models as projects_models
from sunlit.transparency import models as transparency_models

metadata = Base.metadata

__all__ = [
    "audit",
    "award_models",
    "bidding_models",
    "deposits_models",
    "evaluation_models",
    "experts_models",
    "guarantees_models",
    "identity_models",
    "metadata",
    "notices_models",
    "opening_models",
    "partner",
    "projects_models",
    "sessions",
    "tlog",
    "transparency_models",
]
