"""The README's settings table cannot drift from the settings model: it is the generated table, and
that table has a row for every setting."""

from __future__ import annotations

import re
import subprocess

from pydantic import BaseModel, Field, SecretStr

from core import Settings
from core.genai.settings import TUNABLE_FIELDS
from server.settings_doc import COMMAND, END, START, _default, readme_table, settings_table
from tests.conftest import BIN, REPO


def test_the_readme_table_is_the_generated_one() -> None:
    readme = (REPO / "README.md").read_text()
    assert START in readme and END in readme, f"README.md lost its {START} / {END} markers"
    assert readme_table(readme) == settings_table(), (
        f"README.md's settings table differs from the settings models: replace the lines between {START} and "
        f"{END} with the output of `{COMMAND}`"
    )


def test_every_setting_has_a_row() -> None:
    expected = {f"STUDIO_{name.upper()}" for name in Settings.model_fields}
    expected |= {f"STUDIO_GENAI_{name.upper()}" for name in TUNABLE_FIELDS}
    rows = {
        match for line in settings_table().splitlines() for match in re.findall(r"^\| `(STUDIO_[A-Z0-9_]+)` \|", line)
    }
    assert sorted(expected - rows) == []


def test_defaults_are_readable_and_secrets_are_not_shown() -> None:
    rows = {line.split(" | ")[0].strip("| `"): line.split(" | ")[1] for line in settings_table().splitlines()[2:]}
    assert rows["STUDIO_STATE_URL"] == "—"  # None, and a secret
    assert rows["STUDIO_ALLOWED_ROOTS"] == "`[]`" and rows["STUDIO_CHROMA_HEADERS"] == "`{}`"
    assert rows["STUDIO_CHROMA_SSL"] == "`false`" and rows["STUDIO_WARM_EMBEDDER"] == "`true`"
    assert rows["STUDIO_STATE_TIMEOUT_S"] == "`30`" and rows["STUDIO_GENAI_TIMEOUT_S"] == "`120`"
    assert rows["STUDIO_DATA_DIR"] == "`studio-data`"

    class WithSecret(BaseModel):
        token: SecretStr = Field(SecretStr("s3cret-default"), description="A token.")

    assert _default(WithSecret.model_fields["token"]) == "(hidden)"


def test_the_command_prints_the_table() -> None:
    done = subprocess.run(
        [str(BIN / "studio-mcp"), *COMMAND.split()[1:]], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == settings_table() + "\n"
