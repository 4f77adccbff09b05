"""Assets: media files with provenance, named by content.

The file is written (atomically) before its row, so a crash in between leaves at worst an unused
file, never a row pointing at nothing. Saving identical bytes again returns the existing asset,
so a retried save is harmless.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from mcp.types import ResourceLink

from core import NotFound, confine, display
from core import now_iso as now
from core.state import Tx
from tools.production import media
from tools.production.base import ServiceBase
from tools.production.errors import InvalidInput
from tools.production.models import Asset, parse_shot_ref
from tools.production.schema import assets, shots

ASSET_URI = "studio://assets/{asset}"


def asset_id(production: str, sha256: str) -> str:
    """One asset per production and content: the same file used by two productions is two assets
    (sharing one file on disk), so each keeps its own shot and provenance."""
    return "a_" + hashlib.sha256(f"{production}\0{sha256}".encode()).hexdigest()[:20]


def asset_link(asset: Asset) -> ResourceLink:
    """An MCP resource link to the asset's bytes, for tool results."""
    return ResourceLink(
        name=asset.id,
        title=f"{asset.kind} for {asset.production} {asset.shot or ''}".strip(),
        uri=asset.uri,
        mime_type=asset.mime_type,
        size=asset.bytes,
    )


class AssetStore(ServiceBase):
    @property
    def media_dir(self) -> Path:
        return self._context.settings.data_dir / "media"

    def save_asset(
        self,
        pid: str,
        shot: str | None,
        kind: str,
        mime_type: str,
        data: bytes,
        provenance: dict[str, Any] | None = None,
        parent: str | None = None,
    ) -> Asset:
        """Store bytes (e.g. a generated video) as an asset of a production, optionally of a shot."""
        if not data:
            raise InvalidInput("The asset is empty (0 bytes): there is nothing to save.")
        self._check_kind(kind, mime_type)
        prov = _provenance(provenance)
        self._check_refs(pid, shot, parent)
        sha, path = media.store_bytes(self.media_dir, data, media.extension(mime_type))
        return self._record(pid, shot, kind, mime_type, sha, len(data), path, prov, parent)

    def add_asset_file(
        self,
        pid: str,
        path: str,
        shot: str | None = None,
        provenance: dict[str, Any] | None = None,
        parent: str | None = None,
        mime_type: str | None = None,
        roots: list[Path] | None = None,
    ) -> Asset:
        """Import an existing image or video file (a caller's path, so confined to the allowed roots)."""
        source = confine(path, roots if roots is not None else self._context.roots)
        if not source.is_file():
            raise InvalidInput(f"{path!r} is not a file: pass the path of an image or video file.")
        limit_mb = self._context.settings.max_media_mb
        if source.stat().st_size > limit_mb * 1024 * 1024:
            raise InvalidInput(
                f"{path!r} is {source.stat().st_size / 1024 / 1024:,.0f} MB, more than STUDIO_MAX_MEDIA_MB "
                f"({limit_mb:g} MB): pass a shorter or smaller export; nothing was copied."
            )
        mime = mime_type or media.guess_mime(source)
        kind = "video" if mime.startswith("video/") else "image"
        self._check_kind(kind, mime)
        prov = {"imported_from": str(source), **_provenance(provenance)}
        self._check_refs(pid, shot, parent)
        sha, size, stored = media.store_file(self.media_dir, source, media.extension(mime))
        if size == 0:
            raise InvalidInput(f"{path!r} is empty (0 bytes): pass a real image or video file.")
        return self._record(pid, shot, kind, mime, sha, size, stored, prov, parent)

    def asset(self, asset: str, *, tx: Tx | None = None) -> Asset:
        key = (asset or "").strip()
        if key.startswith("studio://assets/"):
            key = key.removeprefix("studio://assets/")
        with self._tx(tx, read_only=True) as t:
            row = t.row(sa.select(assets).where(assets.c.id == key))
        if row is None:
            form = (
                ""
                if _looks_like_id(key)
                else " Asset ids look like 'a_' + 20 hex digits, e.g. 'a_3f9c0e1d2b4a59687766'."
            )
            raise NotFound(
                f"No asset {asset!r}.{form} Asset ids come from generation results and production_get; "
                "a file on disk can be checked by path instead."
            )
        return self._asset_from_row(row)

    def asset_path(self, asset: str) -> Path:
        found = self.asset(asset)
        path = Path(found.path)
        if not path.is_file():
            raise NotFound(
                f"Asset {found.id}'s file is missing from {display(path, self._context.roots)}: the media directory "
                "was altered."
            )
        return path

    def assets(self, pid: str, shot: str | None = None) -> list[Asset]:
        query = sa.select(assets).where(assets.c.production == pid).order_by(assets.c.created_at, assets.c.id)
        if shot is not None:
            query = query.where(assets.c.shot == shot)
        return [self._asset_from_row(r) for r in self.state.rows(query)]

    # -- internals -------------------------------------------------------------------------------

    def _check_kind(self, kind: str, mime_type: str) -> None:
        if kind not in ("video", "image"):
            raise InvalidInput(f"Asset kind {kind!r} is not supported: use 'video' or 'image'.")
        if not mime_type.startswith(f"{kind}/"):
            raise InvalidInput(f"A {kind} asset needs a {kind}/* media type, not {mime_type!r}.")

    def _check_refs(self, pid: str, shot: str | None, parent: str | None) -> None:
        with self._read() as tx:
            self.resolve(pid, tx)  # an unknown production is NotFound, not a foreign-key failure
            if shot is not None:
                try:
                    scene, number = parse_shot_ref(shot)
                except ValueError as exc:
                    raise InvalidInput(str(exc)) from None
                found = tx.row(
                    sa.select(shots.c.number).where(
                        shots.c.production == pid, shots.c.scene == scene, shots.c.number == number
                    )
                )
                if found is None:
                    raise NotFound(f"No shot {shot!r} in production {pid!r}: save it with shots_save first.")
            if parent is not None:
                self.asset(parent, tx=tx)

    def _record(
        self,
        pid: str,
        shot: str | None,
        kind: str,
        mime_type: str,
        sha: str,
        size: int,
        path: Path,
        provenance: dict[str, Any],
        parent: str | None,
    ) -> Asset:
        aid = asset_id(pid, sha)
        relative = path.relative_to(self._context.settings.data_dir)
        with self.state.transaction() as tx:
            values = {
                "id": aid,
                "production": pid,
                "shot": shot,
                "kind": kind,
                "mime_type": mime_type,
                "sha256": sha,
                "bytes": size,
                "path": str(relative),
                "provenance": json.dumps(provenance),
                "parent": parent,
                "created_at": now(),
            }
            tx.upsert(assets, values, key=["id"], update=[])  # the same bytes again: the existing asset
            return self.asset(aid, tx=tx)

    def _asset_from_row(self, row: Any) -> Asset:
        return Asset(
            id=row["id"],
            production=row["production"],
            shot=row["shot"],
            kind=row["kind"],
            mime_type=row["mime_type"],
            sha256=row["sha256"],
            bytes=row["bytes"],
            path=str((self._context.settings.data_dir / row["path"]).resolve()),
            uri=ASSET_URI.format(asset=row["id"]),
            provenance=json.loads(row["provenance"]),
            parent=row["parent"],
            created_at=row["created_at"],
        )


def _provenance(provenance: dict[str, Any] | None) -> dict[str, Any]:
    try:
        return dict(json.loads(json.dumps(provenance or {})))
    except (TypeError, ValueError) as exc:
        raise InvalidInput(
            f"The provenance is not plain JSON data ({exc}): pass strings, numbers, lists and dicts."
        ) from None


def _looks_like_id(key: str) -> bool:
    return len(key) == 22 and key.startswith("a_") and all(c in "0123456789abcdef" for c in key[2:])
