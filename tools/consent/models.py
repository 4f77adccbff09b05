"""The consent family's public models."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class ConsentRecord(BaseModel):
    seq: int
    action: Literal["grant", "withdraw"]
    likeness: bool = Field(description="Consent to use the performer's face and body.")
    voice: bool = Field(description="Consent to use the performer's voice (generated audio).")
    scope: list[str] = Field(description="Production ids it covers; ['*'] = every production.")
    expires: str | None = Field(description="ISO date or time after which it no longer holds; None = no expiry.")
    document: str | None = Field(description="Where the signed consent is on file, e.g. 'release form RF-0192'.")
    recorded_by: str | None
    recorded_at: str


class Role(BaseModel):
    production: str
    character: str


class Performer(BaseModel):
    id: str
    name: str
    aliases: list[str]
    references: list[str] = Field(description="Asset ids of reference images of the performer.")
    roles: list[Role] = Field(description="Characters they play, per production.")
    consent: ConsentRecord | None = Field(description="The current consent: the latest record; None = none recorded.")
    history: list[ConsentRecord] = Field(description="Every consent record, oldest first.")
    created_at: str


class Refusal(BaseModel):
    performer: str
    tool: str
    shot: str | None
    missing: str = Field(description="What consent was missing, and why.")
    at: str


class Appearance(BaseModel):
    performer: str
    name: str
    characters: list[str] = Field(description="The characters they play in this production.")
    likeness: bool = Field(description="Current consent covers likeness in this production.")
    voice: bool = Field(description="Current consent covers voice in this production.")
    consent: ConsentRecord | None


class ConsentReport(BaseModel):
    production: str
    performers: list[Appearance] = Field(description="Performers cast in, or named by requests of, the production.")
    refusals: list[Refusal] = Field(description="Every generation refused for missing consent, oldest first.")


class ConsentCheck(BaseModel):
    """Who a generation request involves and that their consent covers it (the guard's answer)."""

    performers: list[str] = Field(description="Performer ids the request involves.")
