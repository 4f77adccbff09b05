"""A registered performer's face in a take without consent is an error finding that blocks approval;
with consent it is noted. Real footage (tests/data/footage, CC-BY-4.0), dlib identity, a real client."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import av
from mcp import Client
from PIL import Image

from tests.helpers import build_app, call, error_text, make_production

FOOTAGE = Path(__file__).resolve().parents[1] / "data" / "footage"
SHOTS = [{"number": 1, "description": "Ada signs the word for book.", "duration_s": 4}]


def still_of(clip: Path, out: Path) -> Path:
    with av.open(str(clip)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    Image.fromarray(frames[len(frames) // 2]).save(out)
    return out


def likeness_findings(result: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in result["findings"] if f["rule"] == "consent.likeness"]


async def test_a_performer_on_screen_without_consent_blocks_approval_until_consent_is_recorded(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    inbox = data / "in"
    inbox.mkdir(parents=True)
    portrait = still_of(FOOTAGE / "book_a.mp4", inbox / "ada.png")
    take_a = inbox / "take_a.mp4"
    shutil.copy(FOOTAGE / "book_a.mp4", take_a)
    shutil.copy(FOOTAGE / "sister_b.mp4", inbox / "take_b.mp4")
    app = build_app(data)
    async with Client(app.server) as client:
        pid = await make_production(client, "Likeness", shots={"1": SHOTS})
        reference = await call(client, "continuity_check_media", production=pid, path=str(portrait))
        ada = await call(client, "performer_register", name="Ada Obi", references=[reference["asset"]])

        other = await call(client, "continuity_check_media", production=pid, path=str(inbox / "take_b.mp4"))
        assert [c["appears"] for c in other["likeness"]] == [False]
        assert likeness_findings(other) == []

        checked = await call(client, "continuity_check_media", production=pid, path=str(take_a), shot="1/1")
        [check] = checked["likeness"]
        assert check["performer"] == ada["id"] and check["appears"] and not check["consent_covers"]
        [finding] = likeness_findings(checked)
        assert (
            finding["severity"] == "error"
            and "Ada Obi" in finding["found"]
            and "performer_consent" in (finding["suggestion"] or "")
        )
        # The performer's reference is not a reference for how the clip should look.
        assert all(not r["reference"].endswith(".png") for r in checked["analysis"]["reference_checks"])

        await call(client, "review_submit", asset=checked["asset"])
        text = error_text(
            await client.call_tool("review_decide", {"asset": checked["asset"], "decision": "approve", "notes": ""})
        )
        assert "cannot be approved" in text and "Ada Obi" in text
        review = await call(client, "review_get", review=checked["asset"])
        assert review["status"] == "in_review" and review["decisions"] == []

        await call(client, "performer_consent", performer="Ada Obi", likeness=True, scope=[pid], document="RF-7")
        again = await call(client, "continuity_check_media", production=pid, asset=checked["asset"])
        assert likeness_findings(again) == [] and again["likeness"][0]["consent_covers"]
        assert any("Ada Obi appears" in note for note in again["notes"])
        approved = await call(client, "review_decide", asset=checked["asset"], decision="approve", notes="")
        assert approved["status"] == "approved"
