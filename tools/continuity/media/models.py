"""Pydantic models returned by the media continuity analysis."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from core.colour import Colour

BreakKind = Literal["cut", "transition", "identity", "subject_drift", "palette_shift", "flicker"]
RegionDetector = Literal["lbp_frontal_face", "colour_saliency", "dlib_hog_face", "change"]
Severity = Literal["error", "warning", "info"]


# hex and lab come from core.colour.Colour, shared with the style family. (No docstring: it would
# become a description in the tool's output schema.)
class PaletteColour(Colour):
    share: float = Field(description="fraction of the analysed pixels nearest to this colour")


class Region(BaseModel):
    """A box in fractions of the frame (0..1), with the detector that found it."""

    x: float
    y: float
    w: float
    h: float
    detector: RegionDetector


class Sample(BaseModel):
    index: int
    time_s: float
    similarity_to_opening: float = Field(description="cosine of this sample's feature vector with the first's")
    similarity_to_previous: float = Field(description="cosine with the previous sample's feature vector")
    consistency: float = Field(description="VBench-style s_t = ½[cos(f_t-1, f_t) + cos(f_1, f_t)]")
    ssim_to_opening: float
    ssim_to_previous: float
    structure_to_previous: float = Field(
        description="correlation of contrast-normalised luma with the previous sample after aligning any camera shift"
    )
    new_colour_fraction: float = Field(description="fraction of pixels whose colour the previous sample did not have")
    grade_shift: float = Field(
        description="ΔE of the colour shift shared by most of the frame since the previous sample"
    )
    mean_luma: float = Field(description="mean luma 0..255")
    subject: Region | None = None
    subject_lab: tuple[float, float, float] | None = None


class Break(BaseModel):
    time_s: float
    kind: BreakKind
    magnitude: float = Field(
        description="kind-specific size: 1-structure (cut, transition), face descriptor distance (identity), "
        "ΔE of the local colour change (subject_drift), ΔE of the grade shift (palette_shift), relative luma "
        "jump (flicker)"
    )
    detail: str
    start_s: float | None = Field(None, description="where the break starts (a transition's first frame)")
    end_s: float | None = Field(None, description="where it ends (a transition's last frame)")
    frames: tuple[int, int] | None = Field(None, description="first and last native frame numbers of the range")
    region: Region | None = Field(None, description="where in the frame, when the break is local")
    fix: str = Field("", description="what to do about it")


class PaletteMatch(BaseModel):
    hex: str
    share: float
    nearest_brand_hex: str
    delta_e: float = Field(description="CIEDE2000 distance to the nearest brand colour")
    on_palette: bool


class PaletteCheck(BaseModel):
    brand_palette: list[str]
    threshold_delta_e: float
    colours: list[PaletteMatch]
    off_palette_fraction: float = Field(
        description="fraction of pixels farther than the threshold from every brand colour"
    )
    passed: bool


class ReferenceCheck(BaseModel):
    reference: str
    score: float = Field(description="VBench image-to-video aggregate 0.4·max + 0.3·mean + 0.3·min")
    max_similarity: float
    mean_similarity: float
    min_similarity: float
    best_time_s: float
    worst_time_s: float
    passed: bool
    face: FaceMatch | None = Field(
        None, description="face identity against the reference's face (None when the reference shows no face)"
    )


class FaceMatch(BaseModel):
    """VBench-2.0-style identity: descriptor distances of the clip's faces to a reference face."""

    threshold: float = Field(description="dlib descriptor distance at or below which two faces are one person")
    faces_compared: int = Field(description="face samples in the clip compared with the reference")
    fraction_within: float = Field(description="share of those samples within the threshold")
    best_distance: float
    worst_distance: float
    worst_time_s: float | None = Field(description="time of the sample farthest from the reference")
    detail: str


class TransitionCheck(BaseModel):
    previous_clip: str
    score: float = Field(
        description="colour-and-light similarity of the previous clip's last frames to this clip's first"
    )
    colour_similarity: float
    light_delta_e: float = Field(description="CIEDE2000 between the mean colours of the two ends")
    is_break: bool
    detail: str
    face: FaceMatch | None = Field(
        None, description="this clip's first faces against the previous clip's last faces, when both show one"
    )


class FaceTrackSummary(BaseModel):
    track: int
    first_s: float
    last_s: float
    descriptors: int = Field(description="identity descriptors computed along the track")
    max_distance: float = Field(description="largest descriptor distance from the track's opening appearance")
    box: Region = Field(description="the face box at its first appearance")


class Finding(BaseModel):
    severity: Severity
    rule: str
    time_s: float | None = None
    message: str
    start_s: float | None = None
    end_s: float | None = None
    frames: tuple[int, int] | None = None
    fix: str = ""


class MediaAnalysis(BaseModel):
    path: str
    media_type: Literal["video", "image"]
    duration_s: float
    fps_native: float | None
    fps_sampled: float | None
    width: int
    height: int
    analysis_width: int
    analysis_height: int
    subject_consistency: float = Field(description="mean of the per-sample consistency s_t")
    samples: list[Sample]
    breaks: list[Break]
    palette: list[PaletteColour]
    palette_check: PaletteCheck | None = None
    reference_checks: list[ReferenceCheck] = []
    transition_check: TransitionCheck | None = None
    faces: list[FaceTrackSummary] = Field(default_factory=list, description="faces tracked through the clip")
    findings: list[Finding]
