"""The continuity ledger: entities with append-only facts that may change from a scene on.

A fact is (entity, attribute, value, from_scene). As of scene S an attribute's value is the latest
fact whose from_scene <= S in natural scene order ('2' < '10' < '10a'; None = from the start);
among facts for the same from_scene, the one set last. Facts are never updated or deleted: a
value of '' ends an attribute from a scene on.

Aliases ('the skipper' for 'Tomas Reyes') are stored the same way: append-only, one row each. A
character with a full name is also known by its first name and surname unless another entity shares them.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Annotated, Any

import anyio
import sqlalchemy as sa
from pydantic import BaseModel, Field, StringConstraints, ValidationError

from core import NotFound, StudioError, now_iso
from core.context import StudioContext
from core.state import Tx
from tools.continuity.models import (
    ENTITY_KINDS,
    Alias,
    ContinuityGetResult,
    ContinuitySetResult,
    EntityHistory,
    EntityState,
    Fact,
    Reference,
)
from tools.continuity.schema import continuity_aliases, continuity_entities, continuity_facts, continuity_references
from tools.production import SCENE_NAME, Production, ProductionService, natural_key

MAX_NAME = 100
MAX_VALUE = 500
MAX_ATTRIBUTES = 50
MAX_ALIASES = 20
# Words of a full name that name nobody on their own ('Captain Ode Brandt' is not 'Captain').
TITLES = set(
    "mr mrs ms miss mx dr doctor sir dame lord lady captain capt officer detective sergeant sgt inspector "
    "professor prof father mother sister brother aunt uncle old young little big the of de da van von la le".split()
)


class AliasInput(BaseModel):
    """The aliases of one continuity_set call, validated."""

    aliases: list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NAME)]] = Field(
        default_factory=list, max_length=MAX_ALIASES
    )


def _alias_problem(loc: tuple[int | str, ...], msg: str) -> str:
    """'alias 2: String should have at least 1 character' from a pydantic error location."""
    where = f"alias {int(loc[1]) + 1}" if len(loc) > 1 and isinstance(loc[1], int) else "aliases"
    return f"{where}: {msg}"


def _name_parts(name: str) -> list[str]:
    return re.findall(r"[A-Za-z0-9'’-]+", name)


def scene_le(a: str | None, b: str | None) -> bool:
    """Does a fact from scene `a` hold in scene `b`? None as `b` means 'the latest' (everything holds)."""
    if a is None or b is None:
        return True
    return natural_key(a) <= natural_key(b)


@dataclass
class Ledger:
    """Everything the ledger holds for one production, loaded in one read."""

    production: str
    kinds: dict[str, str] = field(default_factory=dict)  # entity (as first written) -> kind
    facts: list[Fact] = field(default_factory=list)  # in order set
    references: list[Reference] = field(default_factory=list)
    aliases: dict[str, list[str]] = field(default_factory=dict)  # entity -> aliases set, in order set
    alias_rows: list[Alias] = field(default_factory=list)

    def name(self, entity: str) -> str | None:
        """The stored spelling of an entity name, matched case-insensitively."""
        low = entity.strip().lower()
        return next((n for n in self.kinds if n.lower() == low), None)

    def stored_aliases(self, entity: str) -> list[str]:
        low = entity.lower()
        return [a for n, names in self.aliases.items() if n.lower() == low for a in names]

    def owner_of_alias(self, alias: str) -> str | None:
        """The entity an alias (or a name) already denotes, case-insensitively."""
        low = alias.strip().lower()
        named = self.name(alias)
        if named is not None:
            return named
        return next((n for n, names in self.aliases.items() if any(a.lower() == low for a in names)), None)

    def name_part_aliases(self, entity: str) -> list[str]:
        """A character's first name and surname ('Juno', 'Alvarez' of 'Juno Alvarez'), unless a title or
        shared with another entity's name or aliases (two Alvarez siblings: 'Alvarez' names neither)."""
        if self.kinds.get(entity) != "character":
            return []
        parts = _name_parts(entity)
        if len(parts) < 2:
            return []
        taken: set[str] = set()
        for other in self.kinds:
            if other.lower() != entity.lower():
                if self.kinds[other] == "character":  # 'Mara jacket' (wardrobe) is owned, not a namesake
                    taken |= {p.lower() for p in _name_parts(other)}
                taken |= {a.lower() for a in self.stored_aliases(other)}
                taken |= {p.lower() for a in self.stored_aliases(other) for p in _name_parts(a)}
        return [p for p in parts if p.lower() not in TITLES and p.lower() not in taken and len(p) > 1]

    def all_aliases(self, entity: str) -> list[str]:
        """Every other name of an entity: stored aliases first, then its name parts."""
        return list(dict.fromkeys([*self.stored_aliases(entity), *self.name_part_aliases(entity)]))

    def scene_entities(self) -> list[str]:
        return [n for n, k in self.kinds.items() if k == "scene"]

    def facts_of(self, entity: str) -> list[Fact]:
        low = entity.lower()
        return [f for f in self.facts if f.entity.lower() == low]

    def state(self, entity: str, scene: str | None) -> EntityState:
        latest: dict[str, Fact] = {}
        for fact in self.facts_of(entity):
            if not scene_le(fact.from_scene, scene):
                continue
            held = latest.get(fact.attribute)
            # Later from_scene wins; for the same from_scene the fact set later wins (facts are in set order).
            if held is None or natural_key(fact.from_scene or "") >= natural_key(held.from_scene or ""):
                latest[fact.attribute] = fact
        live = {a: f for a, f in latest.items() if f.value != ""}
        refs = [
            r.asset for r in self.references if r.entity.lower() == entity.lower() and scene_le(r.from_scene, scene)
        ]
        return EntityState(
            entity=entity,
            kind=self.kinds[entity],
            attributes={a: f.value for a, f in sorted(live.items())},
            fact_ids=[f.id for f in sorted(live.values(), key=lambda f: int(f.id[1:]))],
            references=list(dict.fromkeys(refs)),
            aliases=self.all_aliases(entity),
        )

    def states(self, scene: str | None, entities: Sequence[str] | None = None) -> list[EntityState]:
        wanted = None if entities is None else {e.strip().lower() for e in entities}
        order = {k: i for i, k in enumerate(ENTITY_KINDS)}
        names = sorted(self.kinds, key=lambda n: (order.get(self.kinds[n], 99), n.lower()))
        out = []
        for name in names:
            if wanted is not None and name.lower() not in wanted:
                continue
            # Another scene's own facts say nothing about this scene.
            if self.kinds[name] == "scene" and scene is not None and name.lower() != scene.lower():
                continue
            out.append(self.state(name, scene))
        return out

    def history(self, entity: str) -> EntityHistory:
        return EntityHistory(
            entity=entity,
            kind=self.kinds[entity],
            facts=self.facts_of(entity),
            references=[r for r in self.references if r.entity.lower() == entity.lower()],
            aliases=[a for a in self.alias_rows if a.entity.lower() == entity.lower()],
        )


def _load(tx: Tx, production: str) -> Ledger:
    ledger = Ledger(production)
    entities = continuity_entities.c
    for row in tx.rows(
        sa.select(entities.entity, entities.kind)
        .where(entities.production == production)
        .order_by(entities.created_at, entities.entity)
    ):
        ledger.kinds[row["entity"]] = row["kind"]
    facts = continuity_facts.c
    for row in tx.rows(sa.select(continuity_facts).where(facts.production == production).order_by(facts.seq)):
        ledger.facts.append(
            Fact(
                id=f"f{row['seq']}",
                entity=ledger.name(row["entity"]) or row["entity"],
                attribute=row["attribute"],
                value=row["value"],
                from_scene=row["from_scene"],
                note=row["note"],
                created_at=row["created_at"],
            )
        )
    refs = continuity_references.c
    for row in tx.rows(sa.select(continuity_references).where(refs.production == production).order_by(refs.seq)):
        ledger.references.append(
            Reference(
                entity=ledger.name(row["entity"]) or row["entity"],
                asset=row["asset"],
                from_scene=row["from_scene"],
                note=row["note"],
                created_at=row["created_at"],
            )
        )
    aliases = continuity_aliases.c
    for row in tx.rows(sa.select(continuity_aliases).where(aliases.production == production).order_by(aliases.seq)):
        entity = ledger.name(row["entity"]) or row["entity"]
        ledger.aliases.setdefault(entity, []).append(row["alias"])
        ledger.alias_rows.append(
            Alias(entity=entity, alias=row["alias"], note=row["note"], created_at=row["created_at"])
        )
    return ledger


def _stored_entity(tx: Tx, production: str, name: str) -> str | None:
    """The stored spelling of entity `name`, matched case-insensitively by the database ('Mara' is
    'mara'); None if there is none. Asked inside the write transaction that then inserts the entity
    otherwise, so 'Mara' and 'mara' stay one entity on both engines."""
    entities = continuity_entities.c
    found: str | None = tx.scalar(
        sa.select(entities.entity)
        .where(entities.production == production, sa.func.lower(entities.entity) == name.lower())
        .order_by(entities.created_at, entities.entity)
        .limit(1)
    )
    return found


def _attribute_key(raw: str) -> str:
    key = re.sub(r"[\s\-]+", "_", (raw or "").strip().lower())
    if not key:
        raise StudioError("An attribute name is empty: name each attribute, e.g. {'jacket': 'red wool'}.")
    if len(key) > MAX_NAME:
        raise StudioError(f"Attribute name {raw[:40]!r}... is longer than {MAX_NAME} characters: shorten it.")
    return key


def _checked_fact(entity: str, kind: str, attributes: dict[str, str]) -> tuple[str, dict[str, str]]:
    """The entity name and normalised attributes of a fact to set; StudioError says what is wrong."""
    name = (entity or "").strip()
    if not name:
        raise StudioError("entity is empty: name the entity, e.g. 'Mara', 'lantern' or (kind='scene') '12'.")
    if len(name) > MAX_NAME:
        raise StudioError(f"entity name is longer than {MAX_NAME} characters: use a short name.")
    if kind not in ENTITY_KINDS:
        raise StudioError(f"Unknown entity kind {kind!r}: use one of {', '.join(ENTITY_KINDS)}.")
    if kind == "scene" and not SCENE_NAME.match(name):
        raise StudioError(
            f"A scene entity is named by its scene, and {name!r} is not a scene name: use 1-32 letters, "
            "digits, '.', '_' or '-', e.g. '3' or '12a'."
        )
    if len(attributes) > MAX_ATTRIBUTES:
        raise StudioError(f"{len(attributes)} attributes in one call: set at most {MAX_ATTRIBUTES} at a time.")
    values: dict[str, str] = {}
    for raw_key, raw_value in attributes.items():
        key = _attribute_key(raw_key)
        if key in values:
            raise StudioError(f"Attribute {key!r} is given twice (as spelled differently): give it once.")
        if not isinstance(raw_value, str):
            raise StudioError(f"Attribute {key!r} must be a string, e.g. 'red wool'; got {raw_value!r}.")
        value = " ".join(raw_value.split())
        if len(value) > MAX_VALUE:
            raise StudioError(f"Attribute {key!r} is longer than {MAX_VALUE} characters: shorten it.")
        values[key] = value
    return name, values


class LedgerService:
    """The ledger of every production; handed to the generation family as `ledger`."""

    def __init__(self, context: StudioContext, productions: ProductionService) -> None:
        self._context = context
        self._productions = productions

    async def production(self, production: str) -> Production:
        """A production by id or name, for a tool call: read once, then passed along."""
        if not production or not production.strip():
            raise StudioError("production is empty: pass a production id or name (see production_create).")
        return await anyio.to_thread.run_sync(self._productions.get, production)

    async def load(self, production: Production) -> Ledger:
        """Everything the ledger holds for a production, in one read."""
        return await anyio.to_thread.run_sync(self._load_sync, production.id)

    def _load_sync(self, pid: str) -> Ledger:
        with self._context.state.transaction(read_only=True) as tx:
            return _load(tx, pid)

    @staticmethod
    def known_scenes(prod: Production, ledger: Ledger) -> list[str]:
        """Scenes that exist: those with shots, and those with a `scene` entity."""
        names = {s.lower(): s for s in [*prod.scenes, *ledger.scene_entities()]}
        return sorted(names.values(), key=natural_key)

    @classmethod
    def check_scene(cls, prod: Production, ledger: Ledger, scene: str, what: str) -> str:
        for known in cls.known_scenes(prod, ledger):
            if known.lower() == scene.strip().lower():
                return known
        have = ", ".join(cls.known_scenes(prod, ledger)[:30]) or "none yet"
        raise NotFound(
            f"{what} {scene!r} is not a scene of production {prod.id!r} (scenes: {have}). A scene exists once it "
            "has shots (shots_save) or a scene entity (continuity_set(entity='<scene>', kind='scene'))."
        )

    async def set(
        self,
        production: str,
        entity: str,
        kind: str,
        attributes: dict[str, str],
        from_scene: str | None,
        note: str | None,
        references: Sequence[str],
        aliases: Sequence[str] = (),
    ) -> ContinuitySetResult:
        prod = await self.production(production)
        name, values = _checked_fact(entity, kind, attributes)
        refs = list(dict.fromkeys(r.strip() for r in references))
        for ref in refs:
            if not ref:
                raise StudioError("A reference asset id is empty: pass asset ids such as 'a_0123456789abcdef0123'.")
            await self._check_asset(prod.id, ref)
        try:
            alias_list = list(dict.fromkeys(AliasInput(aliases=list(aliases)).aliases))
        except ValidationError as exc:
            problem = "; ".join(_alias_problem(e["loc"], e["msg"]) for e in exc.errors())
            raise StudioError(
                f"Bad aliases ({problem}): pass up to {MAX_ALIASES} other names, each 1-{MAX_NAME} characters, "
                "e.g. aliases=['the skipper', 'Tom']."
            ) from None
        if alias_list and kind == "scene":
            raise StudioError("A scene entity takes no aliases: a scene is named by its scene, e.g. '12'.")
        note = note.strip() if note and note.strip() else None
        # Validation that needs the ledger and the writes share one transaction, so a concurrent set
        # cannot slip between them.
        return await anyio.to_thread.run_sync(
            functools.partial(self._set_sync, prod, name, kind, values, from_scene, note, refs, alias_list)
        )

    def record_in(
        self,
        tx: Tx,
        prod: Production,
        entity: str,
        kind: str,
        attributes: dict[str, str],
        from_scene: str | None,
        note: str | None,
    ) -> ContinuitySetResult:
        """Set attributes inside the caller's transaction (a review decision stating a fact)."""
        name, values = _checked_fact(entity, kind, attributes)
        return self._set_sync(prod, name, kind, values, from_scene, note, [], [], tx)

    async def _check_asset(self, production: str, asset: str) -> None:
        found = await anyio.to_thread.run_sync(self._productions.asset, asset)  # NotFound says what exists
        if found.production != production:
            raise StudioError(f"Asset {asset!r} belongs to production {found.production!r}, not {production!r}.")

    def _set_sync(
        self,
        prod: Production,
        name: str,
        kind: str,
        values: dict[str, str],
        from_scene: str | None,
        note: str | None,
        refs: list[str],
        aliases: list[str],
        tx_in: Tx | None = None,
    ) -> ContinuitySetResult:
        with nullcontext(tx_in) if tx_in is not None else self._context.state.transaction() as tx:
            ledger = _load(tx, prod.id)
            existing = ledger.name(name) or _stored_entity(tx, prod.id, name)
            if existing is not None and ledger.kinds[existing] != kind:
                raise StudioError(
                    f"{existing!r} is already a {ledger.kinds[existing]} in production {prod.id!r}; an entity "
                    f"keeps its kind. Use kind={ledger.kinds[existing]!r}, or a different name for the {kind}."
                )
            if existing is not None and not values and not refs and not aliases:
                raise StudioError(f"Nothing to set on {existing!r}: pass attributes, references and/or aliases.")
            for alias in aliases:
                holder = ledger.owner_of_alias(alias)
                if holder is not None and holder.lower() != (existing or name).lower():
                    raise StudioError(
                        f"Alias {alias!r} already names {holder!r} in production {prod.id!r}: an alias must name "
                        "one entity. Pick a different alias."
                    )
            created = existing is None
            name = existing or name
            at = now_iso()
            if created:
                tx.execute(
                    sa.insert(continuity_entities).values(production=prod.id, entity=name, kind=kind, created_at=at)
                )
                ledger.kinds[name] = kind
            scene = None
            if from_scene is not None:
                if not from_scene.strip():
                    raise StudioError("from_scene is empty: pass a scene name, or leave it out for 'from the start'.")
                scene = LedgerService.check_scene(prod, ledger, from_scene, "from_scene")
            current = ledger.state(name, scene).attributes if not created else {}
            same_scene = {f.attribute: f.value for f in ledger.facts_of(name) if f.from_scene == scene}
            facts: list[Fact] = []
            for key, value in values.items():
                # An identical fact at the same scene adds nothing (a retried call stays one fact).
                if same_scene.get(key) == value and current.get(key, "") == value:
                    continue
                seq = tx.scalar(
                    sa.insert(continuity_facts)
                    .values(
                        production=prod.id,
                        entity=name,
                        attribute=key,
                        value=value,
                        from_scene=scene,
                        note=note,
                        created_at=at,
                    )
                    .returning(continuity_facts.c.seq)
                )
                facts.append(
                    Fact(
                        id=f"f{seq}",
                        entity=name,
                        attribute=key,
                        value=value,
                        from_scene=scene,
                        note=note,
                        created_at=at,
                    )
                )
            added_refs: list[Reference] = []
            have_refs = {(r.asset, r.from_scene) for r in ledger.references if r.entity.lower() == name.lower()}
            for asset in refs:
                if (asset, scene) in have_refs:
                    continue
                tx.execute(
                    sa.insert(continuity_references).values(
                        production=prod.id, entity=name, asset=asset, from_scene=scene, note=note, created_at=at
                    )
                )
                added_refs.append(Reference(entity=name, asset=asset, from_scene=scene, note=note, created_at=at))
            added_aliases: list[Alias] = []
            have_aliases = {a.lower() for a in [name, *ledger.stored_aliases(name)]}
            for alias in aliases:
                if alias.lower() in have_aliases:
                    continue  # already known: a retried call adds nothing
                have_aliases.add(alias.lower())
                tx.execute(
                    sa.insert(continuity_aliases).values(
                        production=prod.id, entity=name, alias=alias, note=note, created_at=at
                    )
                )
                added_aliases.append(Alias(entity=name, alias=alias, note=note, created_at=at))
            state = _load(tx, prod.id).state(name, scene)
            args: dict[str, Any] = {
                "entity": name,
                "kind": kind,
                "attributes": values,
                "from_scene": scene,
                "note": note,
                "references": refs,
            }
            detail = {"facts": len(facts), "references": len(added_refs)}
            if aliases:  # events of calls without aliases read as before
                args["aliases"] = aliases
                detail["aliases"] = len(added_aliases)
            self._productions.record_event(
                prod.id,
                "continuity_set",
                args,
                "ok",
                detail,
                tx=tx,
            )
        return ContinuitySetResult(
            production=prod.id,
            entity=name,
            kind=kind,
            created=created,
            facts=facts,
            references=added_refs,
            aliases=added_aliases,
            state=state,
        )

    async def get(
        self,
        production: str,
        entity: str | None,
        scene: str | None,
        history: bool,
    ) -> ContinuityGetResult:
        prod = await self.production(production)
        ledger = await self.load(prod)
        if scene is not None:
            scene = self.check_scene(prod, ledger, scene, "scene")
        names: list[str] | None = None
        if entity is not None:
            name = ledger.name(entity) if entity.strip() else None
            if name is None:
                known = ", ".join(list(ledger.kinds)[:30]) or "none yet (add one with continuity_set)"
                raise NotFound(f"No entity {entity!r} in production {prod.id!r}'s ledger; entities: {known}.")
            names = [name]
        states = ledger.states(scene, names)
        if names is not None and not states:
            states = [ledger.state(names[0], scene)]  # a scene entity asked for by name, as of another scene
        shown = names if names is not None else (list(ledger.kinds) if history else [])
        return ContinuityGetResult(
            production=prod.id, scene=scene, entities=states, history=[ledger.history(n) for n in shown]
        )
