"""Production family: productions, append-only briefs, shots, the event log, assets and spend.

Other families use the names below, nothing else: a `ProductionService` (handed to them as
`productions`) and the models and helpers listed here."""

from tools.production import schema as tables
from tools.production.assets import ASSET_URI, asset_id, asset_link
from tools.production.base import digest
from tools.production.errors import BudgetExceeded, Conflict, InvalidInput
from tools.production.family import ProductionFamily
from tools.production.models import (
    SCENE_NAME,
    Asset,
    BriefVersion,
    Event,
    IntExt,
    PipelineFigures,
    PipelineReport,
    Production,
    Rate,
    SceneName,
    SceneSaved,
    Shot,
    ShotSpec,
    ShotStatus,
    Spend,
    parse_shot_ref,
    shot_ref,
)
from tools.production.service import ProductionService
from tools.production.spend import check_budget
from tools.production.validate import natural_key

__all__ = [
    "ASSET_URI",
    "SCENE_NAME",
    "Asset",
    "BriefVersion",
    "BudgetExceeded",
    "Conflict",
    "Event",
    "IntExt",
    "InvalidInput",
    "PipelineFigures",
    "PipelineReport",
    "Production",
    "ProductionFamily",
    "ProductionService",
    "Rate",
    "SceneName",
    "SceneSaved",
    "Shot",
    "ShotSpec",
    "ShotStatus",
    "Spend",
    "asset_id",
    "asset_link",
    "check_budget",
    "digest",
    "natural_key",
    "parse_shot_ref",
    "shot_ref",
    "tables",
]
