"""Style material in, grounded passages out: ingest, search, list and remove kits.

Ingest reads, chunks and embeds everything first and writes only when all of it succeeded, so
a bad file changes nothing. Each source is then written under a journal row (tools/style/journal.py):
if the write is interrupted (the process dies, or Chroma stops answering), the source is rolled
back to its previous version, or forward when the new version is complete, so no file stays
half-indexed. The writer settles its own interrupted writes as soon as Chroma answers again;
another replica, or a restart, settles them once the writer's lease has run out.

Every Chroma call goes through `ChromaStore.run`: its own threads and a deadline.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

import anyio

from core import NotFound, StudioError, confine, crash_point, listing, now_iso, shown
from core.context import StudioContext
from tools.style.chunking import Chunk, chunk_document, chunk_id
from tools.style.embedder import Embedder, make_embedder
from tools.style.errors import StyleInputError
from tools.style.journal import IngestJournal, PendingSource, SourceWrite
from tools.style.models import (
    IngestResult,
    KitInfo,
    KitList,
    KitSource,
    RemoveResult,
    SearchResult,
    SkippedPath,
    SourceResult,
    StyleHit,
    StyleKind,
)
from tools.style.readers import SUPPORTED_SUFFIXES, Document, effective_kind, is_sidecar, read_source, read_text
from tools.style.schema import MIGRATIONS
from tools.style.store import UNREACHABLE, ChromaStore, ChromaUnavailable, check_kit_name

log = logging.getLogger(__name__)

__all__ = ["MAX_K", "MAX_LABELS", "MIGRATIONS", "StyleService", "shown_source", "source_name"]

# Metadata that, if it differs, makes an unchanged text a changed source.
_COMPARED = ("source_hash", "kind", "entities", "tags", "title", "heading", "position")
MAX_K = 50
MAX_QUERY_CHARS = 2000
MAX_LABELS = 50


@dataclass
class _SourcePlan:
    source: str
    kind: StyleKind
    chunks: list[Chunk]
    ids: list[str]
    metadatas: list[dict[str, Any]]
    old_ids: list[str]
    missing: list[int]  # positions of chunks to embed and write
    stale: list[str]  # ids of the old version to delete
    status: Literal["added", "replaced", "unchanged"]
    started_at: str
    vectors: dict[int, list[float]] = field(default_factory=dict)


class StyleService:
    def __init__(self, context: StudioContext) -> None:
        self._context = context
        self._settings = context.settings
        self.store = ChromaStore(context.settings)
        self.embedder: Embedder = make_embedder(
            context.settings.embedder, context.genai, context.settings.gemini_embedding_model
        )
        self.journal = IngestJournal(context, context.settings.ingest_lease_s)
        # Held by every write to Chroma and by settling the journal, so this process never settles a
        # source it is still writing.
        self._write_lock = anyio.Lock()
        self._next_sweep = 0.0  # time.monotonic() at which to look at the journal again
        self._own_pending = False  # a write of ours was interrupted: settle it as soon as Chroma answers

    # -- ingest ---------------------------------------------------------------------------------

    async def ingest(
        self,
        kit: str,
        paths: Sequence[str],
        text: str | None,
        title: str | None,
        kind: StyleKind,
        entities: Sequence[str],
        tags: Sequence[str],
        extra_roots: Sequence[Path] = (),
    ) -> IngestResult:
        check_kit_name(kit)
        entities, tags = _labels("entities", entities), _labels("tags", tags)
        if not paths and text is None:
            raise StudioError("Nothing to ingest: pass paths (files or directories) or text with a title.")
        if text is not None and not (title and title.strip()):
            raise StudioError("Inline text needs a title (it names the source): pass title='...'.")

        files, skipped = await anyio.to_thread.run_sync(self._collect_files, list(paths), list(extra_roots))
        docs = await anyio.to_thread.run_sync(self._read_all, files, text, title, tags)

        async with self._writing():
            await self._settle_due()
            collection = await self.store.run(self._existing_collection, kit)
            plans = [await self.store.run(self._plan, collection, kit, d, kind, entities, tags) for d in docs]
            # One embedding batch for every new chunk of every source: the embedder's best throughput.
            todo = [(plan, n) for plan in plans for n in plan.missing]
            vectors = await self.embedder.embed([plan.chunks[n].text for plan, n in todo]) if todo else []
            for (plan, n), vector in zip(todo, vectors, strict=True):
                plan.vectors[n] = vector
            if collection is None:  # created only now that every chunk is embedded: a failure leaves no kit
                collection = await self.store.run(lambda: self.store.collection(kit, self.embedder.name, create=True))
            changed = [plan for plan in plans if plan.status != "unchanged"]
            if changed:
                await self._write(collection, kit, changed)
        return IngestResult(
            kit=kit,
            embedder=self.embedder.name,
            sources=[SourceResult(source=p.source, kind=p.kind, status=p.status, chunks=len(p.ids)) for p in plans],
            chunks_added=sum(len(p.missing) for p in plans),
            chunks_removed=sum(len(p.stale) for p in plans),
            skipped=skipped,
        )

    @asynccontextmanager
    async def _writing(self) -> AsyncIterator[None]:
        """The write lock; a write queued behind one that found Chroma unavailable fails with it
        at once, rather than wait out another full timeout."""
        queued_at = time.monotonic()
        async with self._write_lock:
            if self.store.failed_since(queued_at):
                raise self.store.unavailable("did not answer a call made while this write waited its turn")
            yield

    def _existing_collection(self, kit: str) -> Any:
        """The kit's collection if it exists (refusing one another embedder built), else None."""
        if kit not in self.store.kits():
            return None
        return self.store.collection(kit, self.embedder.name)

    def _collect_files(
        self, raw_paths: list[str], extra_roots: list[Path]
    ) -> tuple[list[tuple[Path, str]], list[SkippedPath]]:
        try:
            return self._walk(raw_paths, extra_roots)
        except OSError as exc:  # a name too long for the file system, a vanished or unreadable entry
            shown = source_name(Path(str(exc.filename)), [*self._context.roots, *extra_roots]) if exc.filename else ""
            where = f" ({shown:.200})" if shown else ""
            raise StudioError(
                f"A path cannot be read{where}: {exc.strerror or type(exc).__name__}. Nothing was ingested; "
                "check the path (each name at most 255 bytes) and its permissions."
            ) from None

    def _walk(self, raw_paths: list[str], extra_roots: list[Path]) -> tuple[list[tuple[Path, str]], list[SkippedPath]]:
        """The files to ingest, each with its source name (see `source_name`), and what was skipped."""
        roots = [*self._context.roots, *extra_roots]
        limit = self._settings.max_files_per_ingest
        files: list[Path] = []
        skipped: list[SkippedPath] = []
        for raw in raw_paths:
            path = confine(raw, roots)
            if path.is_file():
                files.append(path)
                continue
            for found in sorted(path.rglob("*")):
                if any(part.startswith(".") for part in found.relative_to(path).parts) or not found.is_file():
                    continue
                if is_sidecar(found):
                    continue  # an image's caption: read with the image
                if found.suffix.lower() not in SUPPORTED_SUFFIXES:
                    skipped.append(
                        SkippedPath(
                            path=source_name(found, roots), reason=f"unsupported type {found.suffix or '(none)'}"
                        )
                    )
                    continue
                confine(str(found), roots)  # a symlink inside the directory may point outside
                files.append(found)
                if len(files) > limit:
                    raise StudioError(
                        f"{shown(raw)} holds more than {limit} ingestible files; nothing was ingested. Ingest its "
                        "subdirectories one at a time, or raise STUDIO_MAX_FILES_PER_INGEST."
                    )
        max_bytes = int(self._settings.max_file_mb * 1024 * 1024)
        for path in files:
            if path.stat().st_size > max_bytes:
                raise StudioError(
                    f"{source_name(path, roots)} is larger than {self._settings.max_file_mb:g} MB; nothing was "
                    "ingested. "
                    "Split it, or raise STUDIO_MAX_FILE_MB."
                )
        unique = list(dict.fromkeys(files))
        return [(path, source_name(path, roots)) for path in unique], skipped

    def _read_all(
        self, files: list[tuple[Path, str]], text: str | None, title: str | None, tags: list[str]
    ) -> list[Document]:
        docs: list[Document] = []
        try:
            for path, source in files:
                max_bytes = int(self._settings.max_file_mb * 1024 * 1024)
                docs.append(read_source(path, source=source, tags=tags, max_bytes=max_bytes))
            if text is not None:
                docs.append(read_text(text, title))
        except StyleInputError as exc:
            raise StudioError(f"{exc} Nothing was ingested.") from exc
        return docs

    def _plan(
        self, collection: Any, kit: str, doc: Document, kind: StyleKind, entities: list[str], tags: list[str]
    ) -> _SourcePlan:
        """What writing `doc` changes: which chunks are new (to embed), kept, or stale (to delete)."""
        chosen_kind = cast(StyleKind, effective_kind(kind, doc.kind_hint))
        doc_entities = list(entities)
        if chosen_kind == "character" and not doc_entities:
            doc_entities = [Path(doc.source).stem.lower()]
        chunks = chunk_document(doc)
        ids = [chunk_id(kit, doc.source, chunk.text) for chunk in chunks]
        now = now_iso("seconds")
        metadatas: list[dict[str, Any]] = []
        for chunk in chunks:
            meta: dict[str, Any] = {
                "kit": kit,
                "kind": chosen_kind,
                "source": doc.source,
                "title": doc.title,
                "heading": chunk.heading or "",
                "position": chunk.position,
                "source_hash": doc.content_hash,
                "ingested_at": now,
            }
            if doc_entities:
                meta["entities"] = doc_entities
            if tags:
                meta["tags"] = tags
            if doc.palette:  # brand swatches or an image's dominant colours, for palette checks
                meta["palette"] = [colour.hex for colour in doc.palette]
            metadatas.append(meta)

        existing = (
            collection.get(where={"source": doc.source}, include=["metadatas"])
            if collection is not None
            else {"ids": [], "metadatas": []}
        )
        old_ids: list[str] = list(existing["ids"])
        old_meta = dict(zip(existing["ids"], existing["metadatas"] or [], strict=False))
        unchanged = set(old_ids) == set(ids) and all(
            {k: old_meta[i].get(k) for k in _COMPARED} == {k: metadatas[n].get(k) for k in _COMPARED}
            for n, i in enumerate(ids)
        )
        return _SourcePlan(
            source=doc.source,
            kind=chosen_kind,
            chunks=chunks,
            ids=ids,
            metadatas=metadatas,
            old_ids=old_ids,
            missing=[] if unchanged else [n for n, i in enumerate(ids) if i not in old_meta],
            stale=[] if unchanged else [i for i in old_ids if i not in set(ids)],
            status="unchanged" if unchanged else ("replaced" if old_ids else "added"),
            started_at=now,
        )

    async def _write(self, collection: Any, kit: str, plans: list[_SourcePlan]) -> None:
        """Write the changed sources under journal rows, so an interruption in here is undone or finished.

        New chunks of all sources go to Chroma in large batches: per-call overhead dominates small ones.
        Shielded: a caller that disconnects does not stop a write halfway (each call still has its deadline)."""
        writes = [SourceWrite(p.source, p.old_ids, p.ids, p.started_at) for p in plans]
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(self.journal.begin, kit, writes)
            try:
                new = [(plan, n) for plan in plans for n in plan.missing]
                step = self._settings.ingest_write_batch
                for start in range(0, len(new), step):
                    batch = new[start : start + step]
                    await self.store.run(
                        lambda batch=batch: collection.upsert(
                            ids=[plan.ids[n] for plan, n in batch],
                            embeddings=[plan.vectors[n] for plan, n in batch],
                            documents=[plan.chunks[n].text for plan, n in batch],
                            metadatas=[plan.metadatas[n] for plan, n in batch],
                        )
                    )
                    crash_point("style.mid_upsert")
                for plan in plans:
                    kept = [n for n in range(len(plan.ids)) if n not in set(plan.missing)]
                    if kept:  # positions and labels may have changed even where the text did not
                        await self.store.run(
                            lambda plan=plan, kept=kept: collection.update(
                                ids=[plan.ids[n] for n in kept], metadatas=[plan.metadatas[n] for n in kept]
                            )
                        )
                    if plan.stale:
                        await self.store.run(lambda plan=plan: collection.delete(ids=plan.stale))
            except BaseException as exc:
                self._own_pending = True  # settled by the next call or the journal task, once Chroma answers
                if isinstance(exc, ChromaUnavailable):
                    raise ChromaUnavailable(
                        f"{exc} {_interrupted(kit, plans, self._settings.ingest_lease_s)}"
                    ) from None
                raise
            await anyio.to_thread.run_sync(self.journal.finish, kit, [p.source for p in plans])

    # -- settling interrupted writes ------------------------------------------------------------

    async def warm_embedder(self) -> None:
        """Load a local embedder once, off the event loop, right after start-up (a remote one needs no
        warming). A failure here is only logged: the first search reports it to its caller."""
        if self.embedder.name.startswith(("minilm/", "chroma-onnx/")):
            try:
                await self.embedder.embed(["warm-up"])
                log.info("embedder %s loaded", self.embedder.name)
            except Exception as exc:  # the search that needs it will say what is wrong
                log.warning("could not load the embedder %s at start-up: %s", self.embedder.name, exc)

    async def maintain_journal(self) -> None:
        """For the server's life: renew this process's journal leases, and settle interrupted writes
        (ours as soon as Chroma answers again, other owners' once their lease has run out)."""
        while True:
            await anyio.sleep(self._settings.ingest_lease_s / 3)
            try:
                await anyio.to_thread.run_sync(self.journal.renew)
                await self._ready()
            except StudioError as exc:
                log.info("Interrupted ingests not settled yet: %s", exc)
            except Exception:
                log.exception("Settling interrupted ingests failed; retrying later.")

    async def _ready(self) -> None:
        """Before a read: settle the journal when due, unless a write is under way (it will, after)."""
        if not self._settle_is_due():
            return
        try:
            self._write_lock.acquire_nowait()
        except anyio.WouldBlock:
            return
        try:
            await self._settle_due()
        finally:
            self._write_lock.release()

    def _settle_is_due(self) -> bool:
        return self._own_pending or time.monotonic() >= self._next_sweep

    async def _settle_due(self) -> None:
        """Finish or undo the interrupted writes this process may settle. The caller holds the write lock."""
        if not self._settle_is_due():
            return
        entries = await anyio.to_thread.run_sync(self.journal.settleable)
        self._next_sweep = time.monotonic() + self._settings.ingest_lease_s / 3
        mine = [e for e in entries if e.owner == self.journal.owner]
        self._own_pending = bool(mine)
        if mine and self.store.stragglers:
            # Calls of the interrupted write may still land in Chroma: settle after they are done.
            entries = [e for e in entries if e.owner != self.journal.owner]
        for entry in entries:
            if entry.owner != self.journal.owner:
                if not await anyio.to_thread.run_sync(self.journal.take_over, entry):
                    continue  # its owner renewed it, or another replica took it over
                self._own_pending = True
                log.warning(
                    "Taking over the interrupted ingest of %s (kit %s) from %s.", entry.source, entry.kit, entry.owner
                )
            outcome = await self.store.run(self._settle, entry)
            await anyio.to_thread.run_sync(self.journal.finish, entry.kit, [entry.source])
            log.warning("Interrupted ingest of %s into kit %s was %s.", entry.source, entry.kit, outcome)
        if not self.store.stragglers:
            self._own_pending = False

    def _settle(self, entry: PendingSource) -> str:
        """Leave the source wholly at its new version if that is complete, else wholly at its old one."""
        try:
            collection = self.store.collection(entry.kit, self.embedder.name)
        except ChromaUnavailable:
            raise
        except StudioError:
            return "dropped (its kit is gone or was built by another embedder)"
        present = set(collection.get(where={"source": entry.source}, include=[])["ids"])
        if entry.new_ids <= present:  # the new version is complete: drop what is left of the old
            keep, outcome = entry.new_ids, "completed"
        elif entry.old_ids <= present:  # the old version is intact: drop the partial new one
            keep, outcome = entry.old_ids, "rolled back"
        else:
            keep, outcome = frozenset(), "removed (ingest it again)"
        if present - keep:
            collection.delete(ids=sorted(present - keep))
        return outcome

    # -- search ---------------------------------------------------------------------------------

    async def search(
        self, query: str, kit: str | None, kinds: Sequence[str], entities: Sequence[str], k: int
    ) -> SearchResult:
        if not query.strip():
            raise StudioError("The query is empty: describe what you are looking for, e.g. 'Mara's coat colour'.")
        if len(query) > MAX_QUERY_CHARS:
            raise StudioError(f"The query is {len(query)} characters; keep it under {MAX_QUERY_CHARS}.")
        if not 1 <= k <= MAX_K:
            raise StudioError(f"k={k} is out of range: ask for 1 to {MAX_K} results.")
        entities = _labels("entities", entities)
        await self._ready()
        cached = self.store.cached(kit) if kit is not None else None
        collections: list[tuple[str, Any]] = (
            [(kit, cached)]
            if kit is not None and cached is not None
            else await self.store.run(self._search_collections, kit)
        )
        if not collections:
            return SearchResult(query=query, hits=[])
        [vector] = await self.embedder.embed([query])
        where = _where(kinds, entities)

        def run() -> list[StyleHit]:
            hits: list[StyleHit] = []
            for name, collection in collections:
                try:
                    found = collection.query(
                        query_embeddings=[vector],
                        n_results=k,
                        where=where,
                        include=["documents", "metadatas", "distances"],
                    )
                except UNREACHABLE:
                    raise
                except Exception as exc:  # e.g. another replica removed the kit since we opened it
                    self.store.forget(name)
                    raise StudioError(f"Searching kit {name!r} failed ({type(exc).__name__}: {exc}); retry.") from exc
                for id_, text, meta, dist in zip(
                    found["ids"][0],
                    found["documents"][0],
                    found["metadatas"][0],
                    found["distances"][0],
                    strict=True,
                ):
                    hits.append(_hit(name, id_, text, meta, dist, self._context.roots))
            return sorted(hits, key=lambda h: -h.score)[:k]

        return SearchResult(query=query, hits=await self.store.run(run))

    def _search_collections(self, kit: str | None) -> list[tuple[str, Any]]:
        if kit is not None:
            return [(kit, self.store.collection(kit, self.embedder.name))]
        return [
            (name, self.store.collection(name, self.embedder.name))
            for name, meta in sorted(self.store.kits().items())
            if meta.get("embedder") == self.embedder.name
        ]

    async def has_kit(self, kit: str) -> bool:
        return kit in await self.store.run(self.store.kits)

    async def brand_palette(self, kit: str) -> list[str]:
        """The hex codes of the kit's palette material (brand kit swatches), for continuity checks."""
        await self._ready()

        def run() -> list[str]:
            collection = self.store.collection(kit, self.embedder.name)
            metadatas = collection.get(where={"kind": "palette"}, include=["metadatas"])["metadatas"] or []
            return list(dict.fromkeys(str(h) for m in metadatas for h in (m.get("palette") or [])))

        return await self.store.run(run)

    # -- kits -----------------------------------------------------------------------------------

    async def kits(self) -> KitList:
        await self._ready()
        kits = await self.store.run(self.store.kits)
        # One call per kit, each with its own deadline: a large kit's metadata takes a while to read.
        return KitList(kits=[await self.store.run(self._kit_info, name, meta) for name, meta in sorted(kits.items())])

    async def kit(self, kit: str) -> KitInfo:
        await self._ready()

        def run() -> KitInfo:
            meta = self.store.kits().get(check_kit_name(kit))
            if meta is None:
                self.store.collection(kit, self.embedder.name)  # raises NotFound with the known kits
            return self._kit_info(kit, meta or {})

        return await self.store.run(run)

    def _kit_info(self, kit: str, meta: dict[str, Any]) -> KitInfo:
        embedder = str(meta.get("embedder", ""))
        collection = self.store.client().get_collection(f"studio-kit-{kit}", embedding_function=None)
        metadatas = collection.get(include=["metadatas"])["metadatas"] or []
        per_source: dict[str, KitSource] = {}
        for m in metadatas:
            source = shown_source(str(m.get("source")), self._context.roots)
            entry = per_source.setdefault(
                source, KitSource(source=source, title=str(m.get("title", "")), kind=str(m.get("kind")), chunks=0)
            )
            entry.chunks += 1
        return KitInfo(
            kit=kit,
            embedder=embedder,
            chunks=len(metadatas),
            sources=sorted(per_source.values(), key=lambda s: s.source),
        )

    async def remove(self, kit: str, source: str | None) -> RemoveResult:
        async with self._writing():
            await self._settle_due()

            def run() -> RemoveResult:
                meta = self.store.kits().get(check_kit_name(kit))
                if meta is None:
                    self.store.collection(kit, self.embedder.name)  # raises NotFound
                collection = self.store.client().get_collection(f"studio-kit-{kit}", embedding_function=None)
                if source is None:
                    count = collection.count()
                    self.store.delete_kit(kit)
                    return RemoveResult(kit=kit, source=None, chunks_removed=count, kit_deleted=True)
                ids = collection.get(where={"source": source}, include=[])["ids"]
                if not ids:
                    stored = {str(m.get("source")) for m in collection.get(include=["metadatas"])["metadatas"] or []}
                    # A source stored under its absolute path is known to the caller by the name answers show.
                    legacy = [name for name in stored if shown_source(name, self._context.roots) == source]
                    if legacy:
                        ids = collection.get(where={"source": {"$in": legacy}}, include=[])["ids"]
                if not ids:
                    known = listing(sorted(shown_source(name, self._context.roots) for name in stored), like=source)
                    raise NotFound(f"Kit {kit!r} has no source {shown(source)}. Its sources: {known}.")
                collection.delete(ids=ids)
                return RemoveResult(kit=kit, source=source, chunks_removed=len(ids), kit_deleted=False)

            return await self.store.run(run)


def _interrupted(kit: str, plans: list[_SourcePlan], lease_s: float) -> str:
    names = ", ".join(p.source for p in plans[:5]) + (f" and {len(plans) - 5} more" if len(plans) > 5 else "")
    return (
        f"The ingest into kit {kit!r} stopped while writing {len(plans)} source(s) ({names}). Each is journaled: "
        "as soon as Chroma answers again it is rolled back to its previous version (or finished, where the new "
        f"version was complete), on the next style call or within {lease_s / 3:g} s, with no restart. "
        "Then run the ingest again."
    )


def _labels(field: str, values: Sequence[str]) -> list[str]:
    cleaned = [v.strip().lower() for v in values]
    if any(not v for v in cleaned):
        raise StudioError(f"{field} contains an empty value: remove it or name it.")
    if len(cleaned) > MAX_LABELS or any(len(v) > 100 for v in cleaned):
        raise StudioError(f"{field}: at most {MAX_LABELS} values of at most 100 characters each.")
    return list(dict.fromkeys(cleaned))


def _where(kinds: Sequence[str], entities: Sequence[str]) -> dict[str, Any] | None:
    conditions: list[dict[str, Any]] = []
    if kinds:
        conditions.append({"kind": {"$in": list(kinds)}})
    if entities:
        any_entity = [{"entities": {"$contains": e}} for e in entities]
        conditions.append(any_entity[0] if len(any_entity) == 1 else {"$or": any_entity})
    if not conditions:
        return None
    return conditions[0] if len(conditions) == 1 else {"$and": conditions}


def _hit(kit: str, id_: str, text: str, meta: dict[str, Any], distance: float, roots: Sequence[Path]) -> StyleHit:
    return StyleHit(
        id=id_,
        kit=kit,
        text=text,
        source=shown_source(str(meta.get("source", "")), roots),
        title=str(meta.get("title", "")),
        kind=meta.get("kind", "guide"),
        entities=list(meta.get("entities") or []),
        tags=list(meta.get("tags") or []),
        heading=str(meta.get("heading", "")),
        score=round(1.0 - float(distance), 4),
    )


def source_name(path: Path, roots: Sequence[Path]) -> str:
    """How a file is named in a kit and in every answer: never by its absolute path on the server.

    Relative to the working directory when that lies inside an allowed root holding the file (the
    name then reads the same on any machine, e.g. 'kit/characters/mara.md'); otherwise relative to
    the innermost allowed root holding it, prefixed with that root's own name ('notes/guide.md' under
    the root '/srv/studio/notes'). On a shared server, paths above the roots are no one's business."""
    path = Path(os.path.abspath(path))
    holding = [root for root in (Path(r).resolve() for r in roots) if path.is_relative_to(root)]
    cwd = Path.cwd().resolve()
    if path.is_relative_to(cwd) and any(cwd.is_relative_to(root) for root in holding):
        return path.relative_to(cwd).as_posix()
    if not holding:
        return path.name  # not under a root: cannot happen for a confined path, and shows nothing if it does
    root = max(holding, key=lambda r: len(r.parts))
    return (Path(root.name or "root") / path.relative_to(root)).as_posix()


def shown_source(source: str, roots: Sequence[Path]) -> str:
    """A stored source name as answers show it: kits written before sources were named relative to a
    root may hold absolute paths, which are shown (and accepted by style_remove) the new way."""
    return source_name(Path(source), roots) if source.startswith("/") else source
