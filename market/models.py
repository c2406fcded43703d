"""Import every domain's models so that SQLAlchemy and Alembic see the whole schema."""

from market.accounts.models import User
from market.audit.models import AuditEvent
from market.catalogue.models import Commodity, CommodityAlias, Province, Unit, Ward
from market.orgs.models import Certification, Membership, Organisation

__all__ = [
    "AuditEvent",
    "Certification",
    "Commodity",
    "CommodityAlias",
    "Membership",
    "Organisation",
    "Province",
    "Unit",
    "User",
    "Ward",
]
