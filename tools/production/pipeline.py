"""Pipeline figures of a production, from its event log: how often each stage passes, and what the
chain of them ships.

A six-step chain at 97% a step ships 83%: the studio must see its own figure. Each family writes the
events this reads (its `detail` carries the shot):
- `preflight` (generation, before spending): outcome `pass`, `errors` (refused) or `overridden`;
- `video_job` (generation, when a job ends): outcome `done`, `failed`, `cancelled`, `unknown_submission`,
  detail `asset`, `actual_usd` and `duration_s` for a done job;
- `continuity_check_media` (continuity): detail `errors`, the error findings the check left open;
- `review_decide` (review): detail `decision`; the latest decision on an asset is its verdict.
Figures are per scene and for the production; a rate with nothing counted is None, never 0 or 1.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tools.production.models import PipelineFigures, PipelineReport, Rate, Shot


@dataclass
class _Tally:
    preflight_runs: int = 0
    preflight_passed: int = 0
    jobs_ended: int = 0
    jobs_done: int = 0
    media_checks: int = 0
    media_passed: int = 0
    takes_by_shot: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    verdicts: dict[str, tuple[str, str]] = field(default_factory=dict)  # asset -> (shot, decision)
    seconds: dict[str, float] = field(default_factory=dict)  # asset -> the take's length
    spent_usd: float = 0.0
    attempted: set[str] = field(default_factory=set)


def pipeline_report(
    pid: str, shots: Iterable[Shot], events: Iterable[tuple[str, str, Mapping[str, Any]]]
) -> PipelineReport:
    """Figures from (tool, outcome, detail) events in log order, for the production's shots."""
    durations = {s.ref: s.duration_s for s in shots}
    tallies: dict[str, _Tally] = defaultdict(_Tally)
    for tool, outcome, detail in events:
        shot = detail.get("shot")
        if not isinstance(shot, str) or shot not in durations:
            continue
        tally = tallies[shot.split("/")[0]]
        if tool == "preflight":
            tally.attempted.add(shot)
            tally.preflight_runs += 1
            tally.preflight_passed += outcome == "pass"
        elif tool == "video_job" and outcome in ("done", "failed", "unknown_submission"):
            tally.attempted.add(shot)
            tally.jobs_ended += 1
            if outcome == "done":
                tally.jobs_done += 1
                tally.takes_by_shot[shot] += 1
                tally.spent_usd += float(detail.get("actual_usd") or 0.0)
                if isinstance(detail.get("asset"), str):
                    tally.seconds[detail["asset"]] = float(detail.get("duration_s") or durations[shot])
        elif tool == "continuity_check_media":
            tally.media_checks += 1
            tally.media_passed += int(detail.get("errors") or 0) == 0
        elif tool == "review_decide" and isinstance(detail.get("asset"), str):
            tally.verdicts[detail["asset"]] = (shot, str(detail.get("decision")))
    scenes = {scene: _figures(t, durations) for scene, t in sorted(tallies.items())}
    return PipelineReport(production=pid, overall=_figures(_merged(tallies.values()), durations), scenes=scenes)


def _merged(tallies: Iterable[_Tally]) -> _Tally:
    out = _Tally()
    for t in tallies:
        out.preflight_runs += t.preflight_runs
        out.preflight_passed += t.preflight_passed
        out.jobs_ended += t.jobs_ended
        out.jobs_done += t.jobs_done
        out.media_checks += t.media_checks
        out.media_passed += t.media_passed
        for shot, n in t.takes_by_shot.items():
            out.takes_by_shot[shot] += n
        out.verdicts.update(t.verdicts)
        out.seconds.update(t.seconds)
        out.spent_usd += t.spent_usd
        out.attempted |= t.attempted
    return out


def _figures(t: _Tally, durations: Mapping[str, float]) -> PipelineFigures:
    decided = list(t.verdicts.values())
    approved: dict[str, str] = {}  # shot -> its approved take (the later one, if two were approved)
    for asset, (shot, decision) in t.verdicts.items():
        if decision == "approve":
            approved[shot] = asset
    approved_shots = sorted(approved)
    stages = [
        Rate.of(t.preflight_passed, t.preflight_runs),
        Rate.of(t.jobs_done, t.jobs_ended),
        Rate.of(t.media_passed, t.media_checks),
        Rate.of(sum(d == "approve" for _, d in decided), len(decided)),
    ]
    chained: float | None = 1.0
    for stage in stages:
        chained = None if chained is None or stage.rate is None else chained * stage.rate
    takes = [t.takes_by_shot.get(shot, 0) for shot in approved_shots]
    # An approved take's own length (an image or an imported clip counts its shot's planned length).
    approved_seconds = sum(t.seconds.get(asset, durations[shot]) for shot, asset in approved.items())
    return PipelineFigures(
        preflight=stages[0],
        generation=stages[1],
        media_check=stages[2],
        review=stages[3],
        retakes_per_approved_shot=round((sum(takes) - len(takes)) / len(takes), 3) if takes else None,
        spend_usd=round(t.spent_usd, 4),
        spend_per_approved_second_usd=round(t.spent_usd / approved_seconds, 4) if approved_seconds else None,
        end_to_end_yield=Rate.of(len(approved_shots), len(t.attempted | set(approved_shots))),
        chained_stage_rate=None if chained is None else round(chained, 4),
    )
