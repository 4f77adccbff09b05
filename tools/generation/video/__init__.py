"""Veo video jobs: the service behind the video_* tools, its store (SQL transitions), the poller and
the Vertex wire."""

from tools.generation.video.service import MAX_WAIT_S, VideoJobs
from tools.generation.video.store import MIGRATIONS

__all__ = ["MAX_WAIT_S", "MIGRATIONS", "VideoJobs"]
