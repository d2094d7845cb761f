"""`spro teams-package`: the Teams app package an administrator sideloads, and the Teams face's small pure parts."""

from __future__ import annotations

import json
import struct
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from api.schemas import is_conversation_id
from api.teams.app_package import MANIFEST_DIR, draw_icons
from api.teams.bot import conversation_key, feedback_text, is_reset
from api.teams.cards import as_of_text, tel_uri

BOT_ID = "6F1C2B7E-0D2A-4C51-9A4E-3B8F2D6E1A90"


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_teams_package_holds_the_manifest_with_the_bot_id_and_both_icons(tmp_path: Path) -> None:
    output = tmp_path / "paquet" / "expert-spro-teams.zip"
    result = CliRunner().invoke(app, ["teams-package", "--output", str(output)], env={"SPRO_TEAMS_APP_ID": BOT_ID})
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(output) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(archive.read("manifest.json"))
        assert png_size(archive.read("color.png")) == (192, 192)
        assert png_size(archive.read("outline.png")) == (32, 32)
    assert float(manifest["manifestVersion"]) >= 1.17
    assert manifest["id"] == manifest["bots"][0]["botId"] == BOT_ID.lower()
    assert set(manifest["bots"][0]["scopes"]) == {"personal", "team", "groupChat"}
    assert "${{" not in json.dumps(manifest)
    assert len(manifest["name"]["short"]) <= 30 and len(manifest["description"]["short"]) <= 80
    assert all(manifest["developer"][k].startswith("https://") for k in ("websiteUrl", "privacyUrl", "termsOfUseUrl"))
    commands = manifest["bots"][0]["commandLists"][0]["commands"]
    assert "nouveau cas" in [c["title"] for c in commands] and len(commands) <= 10


@pytest.mark.parametrize(
    ("env", "args"),
    [({}, []), ({"SPRO_TEAMS_APP_ID": "mon-bot"}, []), ({"SPRO_TEAMS_APP_ID": BOT_ID}, ["--website", "http://x.fr"])],
    ids=["no bot id", "not a guid", "website not https"],
)
def test_teams_package_refuses_what_teams_would_refuse(tmp_path: Path, env: dict[str, str], args: list[str]) -> None:
    output = tmp_path / "expert-spro-teams.zip"
    result = CliRunner().invoke(app, ["teams-package", "--output", str(output), *args],
                                env={"SPRO_TEAMS_APP_ID": "", **env})
    assert result.exit_code == 2
    assert not output.exists()


def test_committed_icons_are_the_ones_the_drawing_makes(tmp_path: Path) -> None:
    draw_icons(tmp_path)
    for name in ("color.png", "outline.png"):
        assert (tmp_path / name).read_bytes() == (MANIFEST_DIR / name).read_bytes(), name


@pytest.mark.parametrize(
    ("phone", "uri"),
    [
        ("04 72 65 70 50", "tel:+33472657050"),
        ("04.74.06.12.30", "tel:+33474061230"),
        ("+33 4 72 65 70 50", "tel:+33472657050"),
        ("0033 4 72 65 70 50", "tel:+33472657050"),
        ("3949", "tel:3949"),
        ("", None),
        (None, None),
    ],
)
def test_phone_numbers_become_dialable_tel_uris(phone: str | None, uri: str | None) -> None:
    assert tel_uri(phone) == uri


def test_dates_are_shown_the_french_way() -> None:
    assert as_of_text("2019-10-22") == "à jour au 22/10/2019"
    assert as_of_text("2026-01-01") == "à jour en 01/2026"  # data dated to the month
    assert as_of_text("octobre 2019") == "à jour : octobre 2019"
    # The citation pop-up's keyword starts the sentence.
    assert as_of_text("2019-10-22", capital=True) == "À jour au 22/10/2019"
    assert as_of_text("2026-01-01", capital=True) == "À jour en 01/2026"


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ('{"feedbackText": "Le numéro ne répond plus"}', "Le numéro ne répond plus"),
        ('{"feedbackText": ""}', None),
        ("Texte libre d'un ancien client", "Texte libre d'un ancien client"),
        ('{"autre": 1}', None),
        ("", None),
    ],
)
def test_the_teams_feedback_form_is_read_whatever_its_shape(raw: str, text: str | None) -> None:
    assert feedback_text(raw) == text


@pytest.mark.parametrize("said", ["nouveau cas", "Nouveau cas !", "/nouveau", "NOUVELLE SITUATION", "recommencer"])
def test_new_case_commands_are_recognised(said: str) -> None:
    assert is_reset(said)


@pytest.mark.parametrize("said", ["nouveau métier pour une femme de 45 ans", "cas d'un jeune de 17 ans"])
def test_a_case_is_not_taken_for_a_command(said: str) -> None:
    assert not is_reset(said)


def test_teams_conversation_ids_become_store_ids() -> None:
    key = conversation_key("19:5f0e7c1d2b3a@thread.tacv2;messageid=1736935300000")
    assert is_conversation_id(key) and key.startswith("teams-")
    assert key != conversation_key("19:5f0e7c1d2b3a@thread.tacv2;messageid=1736935300001")
