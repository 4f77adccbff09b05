"""Review family: review submissions, append-only decisions and their feedback into the ledger, the
brief, the kit and the next prompt.

Other families use the names below, nothing else: a `ReviewService` (handed to them as `reviews`),
whose `feedback(pid, shot)` gives the latest verdict on a shot, and its models."""

from tools.review.family import ReviewFamily
from tools.review.models import Decision, Review, ReviewQueue, ShotFeedback
from tools.review.page import review_routes
from tools.review.service import ReviewService

__all__ = ["Decision", "Review", "ReviewFamily", "ReviewQueue", "ReviewService", "ShotFeedback", "review_routes"]
