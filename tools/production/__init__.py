"""Production family: productions, append-only briefs, shots, the event log, assets and spend.

Other families use `studio.production` (a ProductionService) and the names below, nothing else."""

from tools.production.assets import ASSET_URI, asset_id, asset_link
from tools.production.base import digest
from tools.production.errors import BudgetExceeded, Conflict, InvalidInput
from tools.production.models import (
    Asset,
    BriefVersion,
    Event,
    Production,
    SceneName,
    SceneSaved,
    Shot,
    ShotSpec,
    ShotStatus,
    Spend,
    parse_shot_ref,
    shot_ref,
)
from tools.production.register import register
from tools.production.schema import MIGRATIONS
from tools.production.service import ProductionService
from tools.production.validate import natural_key

__all__ = [
    "ASSET_URI",
    "MIGRATIONS",
    "Asset",
    "BriefVersion",
    "BudgetExceeded",
    "Conflict",
    "Event",
    "InvalidInput",
    "Production",
    "ProductionService",
    "SceneName",
    "SceneSaved",
    "Shot",
    "ShotSpec",
    "ShotStatus",
    "Spend",
    "asset_id",
    "asset_link",
    "digest",
    "natural_key",
    "parse_shot_ref",
    "register",
    "shot_ref",
]
