"""Performers and their consent, and the guard that generation and the media check consult.

A request involves a performer when it names them (name or alias), names a character they play
in the production, or uses one of their reference images. Generation must not spend a cent on such
a request unless the performer's current consent covers likeness (and voice, when it makes audio)
in that production and has not expired: the guard refuses before anything is sent, logs the refusal,
and says what to record. There is no override: consent is recorded or the call fails."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping

from core import NotFound, StudioError, now_iso
from core.context import StudioContext
from core.state import Tx
from tools.consent.models import (
    Appearance,
    ConsentCheck,
    ConsentRecord,
    ConsentReport,
    Performer,
    Refusal,
    Role,
)
from tools.consent.schema import (
    consent_refusals,
    consents,
    performer_names,
    performer_references,
    performer_roles,
    performers,
)
from tools.production import Production, ProductionService, Shot

MAX_NAME = 120
MAX_DOCUMENT = 500
MAX_ALIASES = 20


class ConsentRequired(StudioError):
    """A generation involves a performer whose recorded consent does not cover it."""


class ConsentService:
    """Handed to generation and continuity as `consent`."""

    def __init__(self, context: StudioContext, *, productions: ProductionService) -> None:
        self._context = context
        self._productions = productions

    # -- recording (sync: call from a worker thread) -------------------------------------------

    def register(
        self,
        name: str,
        aliases: Sequence[str],
        references: Sequence[str],
        *,
        likeness: bool,
        voice: bool,
        scope: Sequence[str],
        expires: str | None,
        document: str | None,
        recorded_by: str | None,
    ) -> Performer:
        display = _name("name", name)
        alias_names = [_name("alias", a) for a in aliases]
        if len(alias_names) > MAX_ALIASES:
            raise StudioError(f"{len(alias_names)} aliases: give at most {MAX_ALIASES}.")
        refs = self._reference_assets(references)
        grant = self._grant(likeness, voice, scope, expires, document) if (likeness or voice) else None
        with self._context.state.transaction() as tx:
            pid = "pf_" + uuid.uuid4().hex[:12]
            tx.execute(sa.insert(performers).values(id=pid, name=display, created_by=recorded_by, created_at=now_iso()))
            for label in dict.fromkeys([display, *alias_names]):
                self._add_name(tx, pid, label)
            self._add_references(tx, pid, refs)
            if grant is not None:
                self._record(tx, pid, "grant", grant, recorded_by)
            return self._performer(tx, pid)

    def consent(
        self,
        performer: str,
        *,
        likeness: bool,
        voice: bool,
        scope: Sequence[str],
        expires: str | None,
        document: str | None,
        recorded_by: str | None,
        withdraw: bool = False,
    ) -> Performer:
        # Who first: an unknown performer is the error to report, whatever else is wrong. Performers
        # are never deleted, so the id stays valid for the write below.
        with self._context.state.transaction() as tx:
            pid = self._resolve(tx, performer)
        if withdraw:
            grant: dict[str, Any] = {"likeness": False, "voice": False, "scope": [], "expires": None}
            grant["document"] = _optional(document, "document", MAX_DOCUMENT)
        else:
            if not (likeness or voice):
                raise StudioError(
                    "A consent grants likeness and/or voice: pass likeness=true and/or voice=true, or "
                    "withdraw=true to withdraw consent."
                )
            grant = self._grant(likeness, voice, scope, expires, document)
        with self._context.state.transaction() as tx:
            self._record(tx, pid, "withdraw" if withdraw else "grant", grant, recorded_by)
            return self._performer(tx, pid)

    def cast(self, performer: str, production: str, character: str, references: Sequence[str] = ()) -> Performer:
        role = _name("character", character)
        refs = self._reference_assets(references)
        with self._context.state.transaction() as tx:
            pid = self._resolve(tx, performer)
            prod = self._productions.resolve(production, tx)
            taken = tx.row(
                sa.select(performer_roles.c.performer).where(
                    performer_roles.c.production == prod, performer_roles.c.character_key == role.lower()
                )
            )
            if taken is not None and taken["performer"] != pid:
                raise StudioError(
                    f"{role!r} in production {prod!r} is already played by performer {taken['performer']!r}: "
                    "one performer per character."
                )
            tx.upsert(
                performer_roles,
                {
                    "production": prod,
                    "character_key": role.lower(),
                    "character": role,
                    "performer": pid,
                    "added_at": now_iso(),
                },
                key=["production", "character_key"],
                update=[],
            )
            self._add_references(tx, pid, refs)
            self._productions.record_event(
                prod,
                "performer_cast",
                {"performer": pid, "character": role},
                detail={"performer": pid, "name": self._performer_name(tx, pid), "character": role},
                tx=tx,
            )
            return self._performer(tx, pid)

    def get(self, performer: str) -> Performer:
        with self._context.state.transaction() as tx:
            return self._performer(tx, self._resolve(tx, performer))

    # -- the guard ------------------------------------------------------------------------------

    def check(
        self,
        production: Production,
        shot: Shot | None,
        text: str,
        reference_sha256: Sequence[str],
        *,
        audio: bool,
        tool: str,
    ) -> ConsentCheck:
        """Refuse (ConsentRequired, and a logged refusal) unless every performer the request involves
        has consent covering it; call before anything is recorded or sent."""
        with self._context.state.transaction() as tx:
            involved = self._involved(tx, production.id, shot, text, reference_sha256)
            missing: list[tuple[str, str, str]] = []
            for pid, why in involved.items():
                gap = _gap(self._current(tx, pid), production.id, audio)
                if gap:
                    name = self._performer_name(tx, pid)
                    missing.append((pid, name, f"{gap} ({why})"))
                    tx.execute(
                        sa.insert(consent_refusals).values(
                            production=production.id,
                            performer=pid,
                            tool=tool,
                            shot=shot.ref if shot else None,
                            missing=gap,
                            at=now_iso(),
                        )
                    )
                    self._productions.record_event(
                        production.id,
                        tool,
                        {"shot": shot.ref if shot else None, "performer": pid},
                        "refused: consent",
                        detail={"performer": pid, "name": name, "missing": gap},
                        tx=tx,
                    )
        if missing:
            needs = "likeness=true, voice=true" if audio else "likeness=true"
            lines = "; ".join(f"{name} ({pid}): {gap}" for pid, name, gap in missing)
            raise ConsentRequired(
                f"Consent is missing, so nothing was sent and nothing was charged. {lines}. Record the signed "
                f"consent with performer_consent(performer='{missing[0][0]}', {needs}, "
                f"scope=['{production.id}'], document='<where the signed release is filed>'), then retry."
            )
        return ConsentCheck(performers=list(involved))

    def likeness_references(self, pid: str) -> list[tuple[Performer, bool]]:
        """Every performer with reference images, and whether their consent covers likeness in `pid`:
        the media check compares faces in a take with these."""
        with self._context.state.transaction() as tx:
            ids = tx.scalars(sa.select(performer_references.c.performer).distinct())
            out = []
            for found in ids:
                performer = self._performer(tx, found)
                out.append((performer, not _gap(performer.consent, pid, audio=False)))
            return out

    def report(self, production: str) -> ConsentReport:
        with self._context.state.transaction() as tx:
            prod = self._productions.resolve(production, tx)
            cast = tx.rows(
                sa.select(performer_roles.c.performer, performer_roles.c.character)
                .where(performer_roles.c.production == prod)
                .order_by(performer_roles.c.character)
            )
            refusals = tx.rows(
                sa.select(consent_refusals)
                .where(consent_refusals.c.production == prod)
                .order_by(consent_refusals.c.seq)
            )
            ids = list(dict.fromkeys([*(r["performer"] for r in cast), *(r["performer"] for r in refusals)]))
            appearances = []
            for pid in ids:
                current = self._current(tx, pid)
                appearances.append(
                    Appearance(
                        performer=pid,
                        name=self._performer_name(tx, pid),
                        characters=[r["character"] for r in cast if r["performer"] == pid],
                        likeness=not _gap(current, prod, audio=False),
                        voice=not _gap(current, prod, audio=True),
                        consent=current,
                    )
                )
            return ConsentReport(
                production=prod,
                performers=appearances,
                refusals=[
                    Refusal(performer=r["performer"], tool=r["tool"], shot=r["shot"], missing=r["missing"], at=r["at"])
                    for r in refusals
                ],
            )

    # -- internals ------------------------------------------------------------------------------

    def _involved(
        self, tx: Tx, production: str, shot: Shot | None, text: str, reference_sha256: Sequence[str]
    ) -> dict[str, str]:
        """Performer id -> why the request involves them."""
        found: dict[str, str] = {}
        for row in tx.rows(sa.select(performer_names.c.performer, performer_names.c.name)):
            if _mentions(text, row["name"]):
                found.setdefault(row["performer"], f"the request names {row['name']!r}")
        in_shot = {c.lower() for c in (shot.characters if shot else [])}
        for row in tx.rows(
            sa.select(performer_roles.c.performer, performer_roles.c.character).where(
                performer_roles.c.production == production
            )
        ):
            if row["character"].lower() in in_shot or _mentions(text, row["character"]):
                found.setdefault(row["performer"], f"they play {row['character']!r}")
        for sha in dict.fromkeys(reference_sha256):
            for performer in tx.scalars(
                sa.select(performer_references.c.performer).where(performer_references.c.sha256 == sha)
            ):
                found.setdefault(performer, "the request uses their reference image")
        return found

    def _grant(
        self, likeness: bool, voice: bool, scope: Sequence[str], expires: str | None, document: str | None
    ) -> dict[str, Any]:
        doc = _optional(document, "document", MAX_DOCUMENT)
        if doc is None:
            raise StudioError(
                "Consent must be documented: pass document='<where the signed release is filed>', "
                "e.g. 'release form RF-0192, signed 2026-11-02'."
            )
        if not scope:
            raise StudioError("Say which productions the consent covers: scope=['<production id>'], or ['*'] for all.")
        covered: list[str] = []
        for item in scope:
            key = (item or "").strip()
            covered.append("*" if key == "*" else self._productions.resolve(key))
        return {
            "likeness": likeness,
            "voice": voice,
            "scope": list(dict.fromkeys(covered)),
            "expires": _expiry(expires),
            "document": doc,
        }

    def _record(self, tx: Tx, pid: str, action: str, grant: dict[str, Any], recorded_by: str | None) -> None:
        tx.execute(
            sa.insert(consents).values(
                performer=pid,
                action=action,
                likeness=int(grant["likeness"]),
                voice=int(grant["voice"]),
                scope=json.dumps(grant["scope"]),
                expires=grant["expires"],
                document=grant["document"],
                recorded_by=_optional(recorded_by, "recorded_by", MAX_NAME),
                recorded_at=now_iso(),
            )
        )
        # Each production the performer is cast in shows the change in its own event log (production_get).
        cast_in = tx.scalars(
            sa.select(performer_roles.c.production).distinct().where(performer_roles.c.performer == pid)
        )
        for production in cast_in:
            self._productions.record_event(
                production,
                "performer_consent",
                {"performer": pid, "action": action},
                detail={
                    "performer": pid,
                    "action": action,
                    "covers_this_production": not _gap(self._current(tx, pid), production, audio=False),
                    "document": grant["document"],
                },
                actor=recorded_by,
                tx=tx,
            )

    def _add_name(self, tx: Tx, pid: str, label: str) -> None:
        taken = tx.row(sa.select(performer_names.c.performer).where(performer_names.c.name_key == label.lower()))
        if taken is not None:
            if taken["performer"] == pid:
                return
            raise StudioError(
                f"The name {label!r} already belongs to performer {taken['performer']!r}: names and aliases "
                "must be unique (performer_get shows who it is)."
            )
        tx.execute(sa.insert(performer_names).values(name_key=label.lower(), performer=pid, name=label))

    def _reference_assets(self, references: Sequence[str]) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for ref in dict.fromkeys(r.strip() for r in references):
            asset = self._productions.asset(ref)  # NotFound says what exists
            if asset.kind != "image":
                raise StudioError(f"Reference {ref!r} is a {asset.kind}: a performer's references are images.")
            out.append((asset.id, asset.sha256))
        return out

    def _add_references(self, tx: Tx, pid: str, refs: list[tuple[str, str]]) -> None:
        for asset, sha in refs:
            tx.upsert(
                performer_references,
                {"performer": pid, "asset": asset, "sha256": sha, "added_at": now_iso()},
                key=["performer", "asset"],
                update=[],
            )

    def _resolve(self, tx: Tx, performer: str) -> str:
        key = (performer or "").strip()
        found = tx.scalar(
            sa.union(
                sa.select(performers.c.id).where(performers.c.id == key),
                sa.select(performer_names.c.performer).where(performer_names.c.name_key == key.lower()),
            )
        )
        if found is not None:
            return str(found)
        known = tx.scalars(sa.select(performers.c.name).order_by(performers.c.created_at.desc()).limit(10))
        have = f"registered performers include {', '.join(known)}" if known else "no performer is registered yet"
        raise NotFound(f"No performer {performer[:80]!r}: {have}. Register one with performer_register.")

    def _current(self, tx: Tx, pid: str) -> ConsentRecord | None:
        row = tx.row(sa.select(consents).where(consents.c.performer == pid).order_by(consents.c.seq.desc()).limit(1))
        return _record_of(row) if row is not None else None

    def _performer_name(self, tx: Tx, pid: str) -> str:
        return str(tx.scalar(sa.select(performers.c.name).where(performers.c.id == pid)))

    def _performer(self, tx: Tx, pid: str) -> Performer:
        row = tx.row(sa.select(performers).where(performers.c.id == pid))
        assert row is not None
        names = tx.scalars(sa.select(performer_names.c.name).where(performer_names.c.performer == pid))
        history = [
            _record_of(r)
            for r in tx.rows(sa.select(consents).where(consents.c.performer == pid).order_by(consents.c.seq))
        ]
        return Performer(
            id=pid,
            name=row["name"],
            aliases=sorted(n for n in names if n != row["name"]),
            references=tx.scalars(
                sa.select(performer_references.c.asset)
                .where(performer_references.c.performer == pid)
                .order_by(performer_references.c.added_at)
            ),
            roles=[
                Role(production=r["production"], character=r["character"])
                for r in tx.rows(
                    sa.select(performer_roles.c.production, performer_roles.c.character)
                    .where(performer_roles.c.performer == pid)
                    .order_by(performer_roles.c.production)
                )
            ],
            consent=history[-1] if history else None,
            history=history,
            created_at=row["created_at"],
        )


def _gap(consent: ConsentRecord | None, production: str, audio: bool) -> str:
    """What the current consent lacks for a generation in `production`; '' when it covers it."""
    if consent is None:
        return "no consent is recorded"
    if consent.action == "withdraw":
        return f"consent was withdrawn on {consent.recorded_at[:10]}"
    if "*" not in consent.scope and production not in consent.scope:
        return f"the consent covers {', '.join(consent.scope)}, not {production!r}"
    if consent.expires is not None and datetime.fromisoformat(consent.expires) <= datetime.now(UTC):
        return f"the consent expired on {consent.expires[:10]}"
    if not consent.likeness:
        return "the consent does not cover likeness"
    if audio and not consent.voice:
        return "the consent does not cover voice, and this request generates audio (pass audio=false or record voice)"
    return ""


def _mentions(text: str, name: str) -> bool:
    return bool(name) and re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text, re.IGNORECASE) is not None


def _name(what: str, value: str) -> str:
    text = " ".join((value or "").split())
    if not text:
        raise StudioError(f"{what} is empty: pass the performer's name, e.g. 'Ada Obi'.")
    if len(text) > MAX_NAME:
        raise StudioError(f"{what} is {len(text)} characters: keep it to {MAX_NAME}.")
    return text


def _optional(value: str | None, what: str, limit: int) -> str | None:
    text = (value or "").strip()
    if len(text) > limit:
        raise StudioError(f"{what} is {len(text)} characters: keep it to {limit}.")
    return text or None


def _expiry(value: str | None) -> str | None:
    """An ISO date ('2027-06-30', the end of that day) or date-time, as a UTC ISO string; it must lie ahead."""
    if value is None or not value.strip():
        return None
    raw = value.strip()
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            moment = datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=UTC)
        else:
            moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
            moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    except ValueError:
        raise StudioError(f"expires {raw[:40]!r} is not a date: use 'YYYY-MM-DD' or an ISO date-time.") from None
    if moment <= datetime.now(UTC):
        raise StudioError(f"expires {raw!r} is in the past: a consent must still hold when it is recorded.")
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _record_of(row: RowMapping) -> ConsentRecord:
    return ConsentRecord(
        seq=row["seq"],
        action=row["action"],
        likeness=bool(row["likeness"]),
        voice=bool(row["voice"]),
        scope=json.loads(row["scope"]),
        expires=row["expires"],
        document=row["document"],
        recorded_by=row["recorded_by"],
        recorded_at=row["recorded_at"],
    )
