"""Productions, append-only briefs, shots and the event log.

Every method is synchronous (the state store): call it from a worker thread. Each change happens in one
transaction together with its event row, so a failure leaves neither half a change nor an event
claiming one. Methods that other families call inside their own transaction take `tx=`.
Assets and spend live in `assets.py` and `spend.py`; this class exposes them too, so other
families need only the one service (handed to them as `productions`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping

from core import StudioError
from core import now_iso as now
from core.state import Tx
from core.tracing import ShotTraceIds, new_shot_trace
from tools.production import validate
from tools.production.assets import AssetStore
from tools.production.base import digest
from tools.production.errors import Conflict, InvalidInput, error_kind
from tools.production.models import (
    BriefVersion,
    Event,
    PipelineReport,
    Production,
    SceneSaved,
    Shot,
    ShotSpec,
    ShotStatus,
    missing_shot,
    parse_shot_ref,
    shot_ref,
)
from tools.production.pipeline import pipeline_report
from tools.production.schema import brief_versions, production_events, productions, shot_traces, shots
from tools.production.spend import SpendLedger
from tools.style import check_kit_name

log = logging.getLogger(__name__)

RECENT_EVENTS = 50
SHOT_STATUSES: frozenset[str] = frozenset(ShotStatus.__args__)  # type: ignore[attr-defined]


class ProductionService(AssetStore, SpendLedger):
    """The production family's service, handed to other families as `productions`."""

    # -- productions and briefs ----------------------------------------------------------------

    def create(
        self,
        name: str,
        kit: str,
        logline: str,
        tone: str,
        must: Sequence[str] = (),
        must_not: Sequence[str] = (),
        budget_usd: float | None = None,
        *,
        actor: str | None = None,
        warnings: Sequence[str] = (),
    ) -> Production:
        inputs = {
            "name": name,
            "kit": kit,
            "logline": logline,
            "tone": tone,
            "must": list(must),
            "must_not": list(must_not),
            "budget_usd": budget_usd,
        }
        display, pid = validate.production_name(name)
        check_kit_name(kit)
        logline = validate.required_text("logline", logline, "A ferry pilot ferries lanterns across a dark harbour")
        tone = validate.required_text("tone", tone, "quiet, warm, melancholic")
        must_items, must_not_items = validate.items("must", must), validate.items("must_not", must_not)
        validate.no_contradiction(must_items, must_not_items)
        budget = validate.budget(budget_usd)
        at = now()
        with self.state.transaction() as tx:
            existing = tx.scalar(sa.select(productions.c.name).where(productions.c.id == pid))
            if existing is not None:
                raise Conflict(
                    f"A production with id {pid!r} already exists (named {existing!r}): use it "
                    "(production_get, brief_amend) or choose a different name."
                )
            tx.execute(sa.insert(productions).values(id=pid, name=display, kit=kit, created_at=at))
            tx.execute(
                sa.insert(brief_versions).values(
                    production=pid,
                    version=1,
                    logline=logline,
                    tone=tone,
                    must=json.dumps(must_items),
                    must_not=json.dumps(must_not_items),
                    budget_usd=budget,
                    note=None,
                    created_at=at,
                )
            )
            self.record_event(pid, "production_create", inputs, detail={"brief_version": 1}, actor=actor, tx=tx)
        return self.get(pid).model_copy(update={"warnings": list(warnings)})

    def amend(
        self,
        production: str,
        note: str,
        must: Sequence[str] = (),
        must_not: Sequence[str] = (),
        budget_usd: float | None = None,
        *,
        actor: str | None = None,
        tx: Tx | None = None,
    ) -> Production:
        """Append a brief version: the latest plus the additions (and a new budget, if given).

        Pass `tx` to make the amendment part of the caller's change (a review decision)."""
        inputs = {
            "production": production,
            "note": note,
            "must": list(must),
            "must_not": list(must_not),
            "budget_usd": budget_usd,
        }
        note_text = (note or "").strip()
        if not note_text:
            raise InvalidInput("An amendment needs a note saying what changed and why: pass note='...'.")
        if len(note_text) > validate.MAX_TEXT:
            raise InvalidInput(f"The note is {len(note_text)} characters: keep it to {validate.MAX_TEXT}.")
        add_must, add_must_not = validate.items("must", must), validate.items("must_not", must_not)
        budget = validate.budget(budget_usd)
        with self._tx(tx) as t:
            pid = self.resolve(production, t)
            latest = self._briefs(t, pid)[-1]
            new_must = validate.items("must", [*latest.must, *add_must])
            new_must_not = validate.items("must_not", [*latest.must_not, *add_must_not])
            validate.no_contradiction(new_must, new_must_not)
            version = latest.version + 1
            t.execute(
                sa.insert(brief_versions).values(
                    production=pid,
                    version=version,
                    logline=latest.logline,
                    tone=latest.tone,
                    must=json.dumps(new_must),
                    must_not=json.dumps(new_must_not),
                    budget_usd=latest.budget_usd if budget is None else budget,
                    note=note_text,
                    created_at=now(),
                )
            )
            detail = {
                "brief_version": version,
                "added_must": new_must[len(latest.must) :],
                "added_must_not": new_must_not[len(latest.must_not) :],
            }
            if budget is not None:
                detail["budget_usd"] = budget
            self.record_event(pid, "brief_amend", inputs, detail=detail, actor=actor, tx=t)
            return self._production(t, pid)

    def get(self, production: str) -> Production:
        with self._read() as tx:
            return self._production(tx, self.resolve(production, tx))

    def _production(self, tx: Tx, pid: str) -> Production:
        row = tx.row(sa.select(productions).where(productions.c.id == pid))
        assert row is not None  # `pid` was resolved
        briefs = self._briefs(tx, pid)
        scenes: dict[str, list[Shot]] = {}
        for shot in self._shots(tx, pid, None):
            scenes.setdefault(shot.scene, []).append(shot)
        spend = self._spend(tx, pid, briefs[-1].budget_usd)
        events = self._events(tx, pid, RECENT_EVENTS)
        return Production(
            id=pid,
            name=row["name"],
            kit=row["kit"],
            brief=briefs[-1],
            brief_history=briefs,
            scenes=scenes,
            spend=spend,
            events=events,
            created_at=row["created_at"],
        )

    def _briefs(self, tx: Tx, pid: str) -> list[BriefVersion]:
        rows = tx.rows(
            sa.select(brief_versions).where(brief_versions.c.production == pid).order_by(brief_versions.c.version)
        )
        return [
            BriefVersion(
                version=r["version"],
                logline=r["logline"],
                tone=r["tone"],
                must=json.loads(r["must"]),
                must_not=json.loads(r["must_not"]),
                budget_usd=r["budget_usd"],
                note=r["note"],
                created_at=r["created_at"],
            )
            for r in rows
        ]

    # -- shots ---------------------------------------------------------------------------------

    def save_scene(
        self,
        production: str,
        scene: str,
        specs: Sequence[ShotSpec | dict[str, Any]],
        source: Literal["agent", "gemini"] = "agent",
        *,
        tool: str | None = None,
        inputs: dict[str, Any] | None = None,
        actor: str | None = None,
    ) -> SceneSaved:
        """Replace a scene's shot list atomically (first plan or re-plan) and log it.

        Shots whose spec is unchanged keep their status; changed and new shots are `planned`; shots
        the new list leaves out are removed. `tool`/`inputs` name the call in the event log
        (default: shots_save for agent lists, shots_plan for Gemini's)."""
        tool = tool or ("shots_plan" if source == "gemini" else "shots_save")
        if inputs is None:
            inputs = {
                "production": production,
                "scene": scene,
                "shots": [s.model_dump() if isinstance(s, ShotSpec) else s for s in specs],
            }
        scene = validate.scene_name(scene)
        checked = validate.shot_specs(scene, specs)
        at = now()
        with self.state.transaction() as tx:
            pid = self.resolve(production, tx)
            old = {s.number: s for s in self._shots(tx, pid, scene)}
            added: list[str] = []
            changed: list[str] = []
            unchanged: list[str] = []
            for spec in checked:
                ref = shot_ref(scene, spec.number)
                body = spec.model_dump_json()
                before = old.pop(spec.number, None)
                if before is not None and ShotSpec.model_validate(before.model_dump()).model_dump_json() == body:
                    unchanged.append(ref)
                    continue
                (changed if before is not None else added).append(ref)
                values = {
                    "production": pid,
                    "scene": scene,
                    "number": spec.number,
                    "spec": body,
                    "status": "planned",
                    "source": source,
                    "updated_at": at,
                }
                # A changed shot keeps its take column; spec, status, source and updated_at are replaced.
                tx.upsert(shots, values, key=["production", "scene", "number"])
            removed = [shot_ref(scene, n) for n in sorted(old)]
            if old:
                tx.execute(
                    sa.delete(shots).where(
                        shots.c.production == pid, shots.c.scene == scene, shots.c.number.in_(sorted(old))
                    )
                )
            detail = {
                "scene": scene,
                "source": source,
                "added": added,
                "changed": changed,
                "unchanged": unchanged,
                "removed": removed,
            }
            self.record_event(pid, tool, inputs, detail=detail, actor=actor, tx=tx)
            saved = self._shots(tx, pid, scene)
        return SceneSaved(
            production=pid,
            scene=scene,
            shots=saved,
            added=added,
            changed=changed,
            unchanged=unchanged,
            removed=removed,
        )

    def shot(self, pid: str, ref: str, tx: Tx | None = None) -> Shot:
        """One shot by its '<scene>/<number>' ref; NotFound says what exists."""
        with self._tx(tx, read_only=True) as t:
            return self._shot(t, pid, ref)

    def shots(self, pid: str, scene: str | None = None) -> list[Shot]:
        with self._read() as tx:
            return self._shots(tx, pid, scene)

    def scenes(self, pid: str) -> list[str]:
        """Scene names in natural order: '2' < '10' < '10a'."""
        rows = self.state.rows(sa.select(shots.c.scene).distinct().where(shots.c.production == pid))
        return sorted((r["scene"] for r in rows), key=validate.natural_key)

    def set_shot_status(
        self, pid: str, ref: str, status: str, *, take: str | None = None, tx: Tx | None = None
    ) -> Shot:
        """Set a shot's status; `take` (a review's verdict) names the asset it is about, else the take is kept."""
        if status not in SHOT_STATUSES:
            raise InvalidInput(f"Unknown shot status {status!r}: use one of {', '.join(sorted(SHOT_STATUSES))}.")
        with self._tx(tx) as t:
            shot = self._shot(t, pid, ref)
            values: dict[str, Any] = {"status": status, "updated_at": now()}
            if take is not None:
                values["take"] = take
            t.execute(
                sa.update(shots)
                .where(shots.c.production == pid, shots.c.scene == shot.scene, shots.c.number == shot.number)
                .values(values)
            )
            return self._shot(t, pid, ref)

    def _shot(self, tx: Tx, pid: str, ref: str) -> Shot:
        try:
            scene, number = parse_shot_ref(ref)
        except ValueError as exc:
            raise InvalidInput(f"{exc}: the scene name, a slash, then the shot number.") from None
        row = tx.row(
            sa.select(shots).where(shots.c.production == pid, shots.c.scene == scene, shots.c.number == number)
        )
        if row is not None:
            return _shot_from_row(row)
        numbers = tx.scalars(
            sa.select(shots.c.number).where(shots.c.production == pid, shots.c.scene == scene).order_by(shots.c.number)
        )
        scenes = sorted(
            set(tx.scalars(sa.select(shots.c.scene).where(shots.c.production == pid))), key=validate.natural_key
        )
        raise missing_shot(pid, ref, scene, numbers, scenes)

    def _shots(self, tx: Tx, pid: str, scene: str | None) -> list[Shot]:
        query = sa.select(shots).where(shots.c.production == pid)
        if scene is not None:
            query = query.where(shots.c.scene == scene)
        found = [_shot_from_row(r) for r in tx.rows(query)]
        return sorted(found, key=lambda s: (validate.natural_key(s.scene), s.number))

    # -- event log -----------------------------------------------------------------------------

    def record_event(
        self,
        pid: str,
        tool: str,
        inputs: dict[str, Any],
        outcome: str = "ok",
        detail: dict[str, Any] | None = None,
        actor: str | None = None,
        *,
        tx: Tx | None = None,
    ) -> Event:
        """Append one event. Pass `tx` to make it part of the change it records."""
        event = Event(
            at=now(),
            tool=tool,
            actor=actor,
            inputs_digest=digest(inputs),
            outcome=outcome,
            detail=detail or {},
        )
        with self._tx(tx) as t:
            t.execute(
                sa.insert(production_events).values(
                    production=pid,
                    at=event.at,
                    tool=tool,
                    actor=actor,
                    inputs_digest=event.inputs_digest,
                    outcome=outcome,
                    detail=json.dumps(event.detail, default=str),
                )
            )
        return event

    def record_failure(
        self,
        production: str | None,
        tool: str,
        inputs: dict[str, Any],
        error: BaseException,
        actor: str | None = None,
    ) -> None:
        """Log a refused call against its production, if that production exists; never raises."""
        if not production:
            return
        try:
            pid = self.resolve(production)
        except StudioError:
            return
        try:
            self.record_event(
                pid,
                tool,
                inputs,
                outcome=f"error:{error_kind(error)}",
                detail={"error": str(error)[:2000]},
                actor=actor,
            )
        except Exception:
            log.exception("Could not record the failed %s call on %s", tool, pid)

    def shot_trace(self, pid: str, shot: str) -> ShotTraceIds:
        """The root of the shot's trace, started on first use (two callers at once agree on one)."""
        query = sa.select(shot_traces.c.trace_id, shot_traces.c.span_id).where(
            shot_traces.c.production == pid, shot_traces.c.shot == shot
        )
        row = self.state.row(query)
        if row is None:
            trace_id, span_id = new_shot_trace(pid, shot)
            with self.state.transaction() as tx:
                values = {"production": pid, "shot": shot, "trace_id": trace_id, "span_id": span_id}
                tx.upsert(shot_traces, values, key=["production", "shot"], update=[])
                row = tx.row(query)
            assert row is not None  # inserted just now, or by the caller that came first
        return row["trace_id"], row["span_id"]

    def pipeline(self, production: str) -> PipelineReport:
        """The production's pipeline figures, from its whole event log."""
        with self._read() as tx:
            pid = self.resolve(production, tx)
            planned = self._shots(tx, pid, None)
            rows = tx.rows(
                sa.select(production_events.c.tool, production_events.c.outcome, production_events.c.detail)
                .where(
                    production_events.c.production == pid,
                    production_events.c.tool.in_(["preflight", "video_job", "continuity_check_media", "review_decide"]),
                )
                .order_by(production_events.c.seq)
            )
            traces = tx.rows(
                sa.select(shot_traces.c.shot, shot_traces.c.trace_id).where(shot_traces.c.production == pid)
            )
        report = pipeline_report(pid, planned, ((r["tool"], r["outcome"], json.loads(r["detail"])) for r in rows))
        return report.model_copy(update={"traces": {t["shot"]: t["trace_id"] for t in traces}})

    def _events(self, tx: Tx, pid: str, limit: int) -> list[Event]:
        rows = tx.rows(
            sa.select(production_events)
            .where(production_events.c.production == pid)
            .order_by(production_events.c.seq.desc())
            .limit(limit)
        )
        return [
            Event(
                at=r["at"],
                tool=r["tool"],
                actor=r["actor"],
                inputs_digest=r["inputs_digest"],
                outcome=r["outcome"],
                detail=json.loads(r["detail"]),
            )
            for r in reversed(rows)
        ]


def _shot_from_row(row: RowMapping) -> Shot:
    spec = json.loads(row["spec"])
    return Shot(
        **spec,
        production=row["production"],
        scene=row["scene"],
        ref=shot_ref(row["scene"], row["number"]),
        status=row["status"],
        take=row["take"],
        source=row["source"],
        updated_at=row["updated_at"],
    )
