"""Veo video jobs: the service behind the video_* tools, its store (SQL transitions), the poller and
the Vertex wire."""

from tools.generation.video.schema import MIGRATIONS
from tools.generation.video.service import MAX_WAIT_S, VideoJobs

__all__ = ["MAX_WAIT_S", "MIGRATIONS", "VideoJobs"]
