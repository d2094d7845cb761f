"""Source loaders on the real open-data extracts and on small fictitious files: records, sources, problems."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from pathlib import Path

import docx
import pytest

from ingest.sources.base import Loaded
from ingest.sources.discovery import load_paths
from ingest.sources.documents import SECTION_LIMIT
from knowledge.model import Structure

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
FIXTURES = Path(__file__).resolve().parent / "data" / "sources"

ANNUAIRE_HEADER = (
    "source_id,pivot_annuaire,type_structure,nom,adresse,code_postal,commune,code_insee_commune,"
    "code_departement,nom_departement,telephone,fax,email,email_possiblement_nominatif,site_web,"
    "fichier_source,millesime_source"
)


def fictitious_annuaire_row(source_id: str, pivot: str = "cio", insee: str = "38185", name: str = "") -> str:
    """A row in the directory extract's format; every value is made up (fake phone, example.org)."""
    department = insee[:2]
    label = name or f"Structure fictive {source_id} (test)"
    return (
        f"{source_id},{pivot},Type fictif,{label},1 rue de l'Essai,{department}000,Commune fictive,{insee},"
        f"{department},Département fictif,00 00 00 00 00,,contact@fictif.example.org,non,www.fictif.example.org,"
        "test.csv,test 2024-05"
    )


def messages(loaded: Loaded) -> list[str]:
    return [problem.message for problem in loaded.problems]


def by_id(loaded: Loaded) -> dict[str, Structure]:
    return {structure.id: structure for structure in loaded.structures}


@pytest.fixture(scope="module")
def structures_folder() -> Path:
    folder = SHARED_DATA / "structures"
    if not folder.is_dir():
        pytest.skip("../shared/data absent : extraits officiels non disponibles")
    return folder


@pytest.fixture(scope="module")
def real_directory(structures_folder: Path) -> Loaded:
    return load_paths([structures_folder / "annuaire_sp_2019_aura_spro.csv"])


@pytest.fixture(scope="module")
def fixtures() -> Loaded:
    return load_paths([FIXTURES])


# --- The real extracts (../shared/data) ------------------------------------------------------------------


@pytest.mark.shared_data
def test_real_directory_gives_505_sites_with_the_readme_counts_per_network(real_directory: Loaded) -> None:
    assert real_directory.problems == []
    assert len(real_directory.structures) == 505
    assert Counter(s.network for s in real_directory.structures) == {
        "mission_locale": 113,
        "information_jeunesse": 93,
        "cio": 49,
        "scuio": 8,
        "cci": 20,
        "cma": 13,
        "chambre_agriculture": 12,
        "cidff": 12,
        "mdph": 10,
        "apec": 4,
        "apecita": 1,
        "agefiph": 2,
        "greta": 18,
        "france_services": 145,
        "crous": 5,
    }


@pytest.mark.shared_data
def test_real_directory_mission_locales_per_department_match_the_readme(real_directory: Loaded) -> None:
    sites = [s for s in real_directory.structures if s.network == "mission_locale"]
    per_department = Counter(s.department for s in sites)
    assert per_department == {
        "01": 7, "03": 5, "07": 4, "15": 3, "26": 10, "38": 22, "42": 7, "43": 3, "63": 6, "69": 30, "73": 7, "74": 9,
    }  # fmt: skip


@pytest.mark.shared_data
def test_real_directory_flags_the_51_possibly_personal_emails(real_directory: Loaded) -> None:
    flagged = [c for s in real_directory.structures for c in s.contacts if c.email_possibly_personal]
    assert len(flagged) == 51
    assert all(c.email for c in flagged)


@pytest.mark.shared_data
def test_real_directory_contact_is_clean_and_attributed_to_dila_with_its_date(real_directory: Loaded) -> None:
    site = by_id(real_directory)["annuaire:agefiph-38193-01"]
    contact = site.contacts[0]
    assert site.typology is None and site.commune_insee == "38193" and site.department == "38"
    assert contact.phone == "08 00 11 10 09"
    assert contact.label.endswith("tél. numéro vert : service et appel gratuits")
    assert contact.url == "http://www.agefiph.fr"
    assert contact.as_of == date(2019, 10, 22)
    (source,) = real_directory.sources
    assert source.id == contact.source_id == site.source_id
    assert "Service-Public.fr / DILA" in source.licence and "22/10/2019" in source.licence
    assert source.as_of == date(2019, 10, 22)
    assert by_id(real_directory)["annuaire:cio-38185-01"].typology is None


@pytest.mark.shared_data
def test_real_directory_typologies_use_data_inclusion_codes(real_directory: Loaded) -> None:
    typologies = {s.network: s.typology for s in real_directory.structures}
    assert typologies["mission_locale"] == "ML"
    assert typologies["information_jeunesse"] == "PIJ_BIJ"
    assert typologies["cma"] == "CCONS"
    assert typologies["france_services"] == "RFS"
    assert typologies["cio"] is None


@pytest.mark.shared_data
def test_transitions_pro_gives_one_structure_per_real_site_with_the_departments_it_serves(
    structures_folder: Path,
) -> None:
    loaded = load_paths([structures_folder / "transitions_pro_aura_2022.csv"])
    assert loaded.problems == []
    assert len(loaded.structures) == 3  # Lyon, Clermont-Ferrand, Grenoble
    lyon = by_id(loaded)["transitions_pro:69003"]
    assert lyon.network == "transitions_pro"
    assert lyon.serves.departments == ("01", "07", "26", "69")
    assert (lyon.address, lyon.postcode, lyon.commune) == ("83/85 Boulevard Vivier Merle", "69003", "Lyon")
    assert lyon.department is None  # it serves the Ain from Lyon
    ain = lyon
    contact = ain.contacts[0]
    assert contact.department == "69"
    assert contact.email == "plateforme@transitionspro-ara.fr"
    assert contact.url == "https://www.transitionspro-ara.fr"
    assert contact.as_of == date(2022, 5, 18)
    (source,) = loaded.sources
    assert source.as_of == date(2022, 5, 18) and "MIT" in source.licence
    served = sorted(d for s in loaded.structures for d in s.serves.departments)
    assert served == ["01", "03", "07", "15", "26", "38", "42", "43", "63", "69", "73", "74"]


@pytest.mark.shared_data
def test_whole_structures_folder_loads_every_file(structures_folder: Path) -> None:
    loaded = load_paths([structures_folder])
    # Only the two Missions Locales of Saône-et-Loire that serve three communes of the region are left out.
    assert [(Path(p.path).name, p.line) for p in loaded.problems] == [
        ("mission_locale_zones_couverture_unml_2026.csv", 316),
        ("mission_locale_zones_couverture_unml_2026.csv", 455),
    ]
    per_source = Counter(s.source_id for s in loaded.structures)
    assert per_source == {
        "annuaire/annuaire_sp_2019_aura_spro.csv": 505,
        "sites/france_services_anct_2024.csv": 325,
        "sites/france_travail_agences_2019.csv": 102,
        "sites/france_travail_directions_2024.csv": 8,
        "sites/mission_locale_referentiel_milo_2023.csv": 61,
        "unml/mission_locale_zones_couverture_unml_2026.csv": 61,
        "transitions_pro/transitions_pro_aura_2022.csv": 3,
    }
    assert {s.id for s in loaded.sources} == set(per_source)


# --- DILA JSON export (fictitious fixture) ----------------------------------------------------------------


def test_dila_json_keeps_our_pivots_in_the_region_with_the_communes_they_serve(fixtures: Loaded) -> None:
    sites = by_id(fixtures)
    grenoble = sites["annuaire:00000000-test-0000-0000-000000000001"]
    assert grenoble.network == "mission_locale" and grenoble.typology == "ML"
    assert grenoble.serves.communes == ("38185", "38421")  # 71270 is outside the region, 38185 once
    assert (grenoble.address, grenoble.postcode, grenoble.commune) == (
        "Immeuble Fictif - 1 rue de l'Exemple",
        "38000",
        "Grenoble",
    )
    contact = grenoble.contacts[0]
    assert contact.phone == "00 00 00 00 00"
    assert contact.url == "https://www.ml-fictive.example.org"
    assert contact.as_of == date(2024, 3, 15)
    assert not contact.email_possibly_personal
    assert not any("Mairie" in s.name for s in fixtures.structures)


def test_dila_json_service_with_two_pivots_gives_one_site_per_network(fixtures: Loaded) -> None:
    sites = by_id(fixtures)
    youth = sites["annuaire:00000000-test-0000-0000-000000000003:information_jeunesse"]
    services = sites["annuaire:00000000-test-0000-0000-000000000003:france_services"]
    assert youth.serves.communes == ("69123",)
    assert services.serves.communes == ("69123", "69266")
    contact = youth.contacts[0]
    assert contact.phone == "00 00 00 00 00"  # written "+33 0 00 00 00 00"
    assert contact.email_possibly_personal  # prenom.nom@...
    assert contact.label.endswith("tél. numéro vert : appel gratuit")


def test_dila_json_leaves_out_corsica_and_overseas_and_reports_unusable_services(fixtures: Loaded) -> None:
    assert not any("Ajaccio" in s.name or "Réunion" in s.name for s in fixtures.structures)
    dila = [p for p in fixtures.problems if p.path.endswith("dila-base-locale_2024-07-23.json")]
    assert [p.message for p in dila] == [
        "service n° 6 : nom manquant",
        "service « 00000000-test-0000-0000-000000000007 » : commune inconnue, guichet ignoré",
        "2 guichet(s) hors Auvergne-Rhône-Alpes ignoré(s)",
    ]
    source = next(s for s in fixtures.sources if s.origin == "Service-Public.fr / DILA")
    assert source.as_of == date(2024, 7, 23)  # the date in the file name
    assert "dila-base-locale_2024-07-23.json" in source.licence


# --- data·inclusion (fictitious fixtures) ------------------------------------------------------------------


def test_data_inclusion_json_structure_gets_its_services_and_their_territory(fixtures: Loaded) -> None:
    site = by_id(fixtures)["data_inclusion:producteur-fictif--ml-1"]
    assert site.network == "mission_locale" and site.typology == "ML" and site.department == "69"
    assert [section.heading for section in site.offer] == ["Présentation", "Accompagnement vers l'emploi (test)"]
    assert "Publics : Jeunes de 16 à 25 ans" in site.offer[1].text
    # 75056 lies outside the region and "france" says nothing about which site serves a commune.
    assert site.serves.communes == ("69266", "69123")
    assert site.serves.departments == ("69",)
    assert site.serves.epcis == ("200046977",)
    assert not site.serves.region
    contact = site.contacts[0]
    assert (contact.phone, contact.email, contact.as_of) == (
        "00 00 00 00 00",
        "accueil@ml-fictive.example.org",
        date(2025, 1, 10),
    )
    source = next(s for s in fixtures.sources if s.id == site.source_id)
    assert "Licence Ouverte" in source.licence and "producteur-fictif" in source.origin
    assert source.as_of == date(2025, 2, 1)


def test_data_inclusion_consular_chamber_is_told_apart_by_its_name(fixtures: Loaded) -> None:
    assert by_id(fixtures)["data_inclusion:producteur-fictif--cma-1"].network == "cma"


def test_data_inclusion_json_problems_name_the_element_and_speak_french(fixtures: Loaded) -> None:
    found = messages(fixtures)
    assert "élément n° 3 : structure « producteur-fictif--caf-1 » : réseau inconnu « caf »" in found
    assert (
        "élément n° 5 : structure « producteur-fictif--invalide » invalide : "
        "« date_maj » : date invalide (« 2024-13-45 »)"
    ) in found
    assert "élément n° 2 : service rattaché à une structure absente « producteur-fictif--inconnue »" in found
    assert "1 structure(s) hors Auvergne-Rhône-Alpes ou sans localisation ignorée(s)" in found
    assert "data_inclusion:producteur-fictif--paris-1" not in by_id(fixtures)


def test_data_inclusion_csv_reads_lists_and_maps_typology(fixtures: Loaded) -> None:
    sites = by_id(fixtures)
    youth = sites["data_inclusion:csv--pij-1"]
    assert youth.network == "information_jeunesse" and youth.typology == "PIJ_BIJ"
    assert youth.serves.departments == ("26", "07")  # a JSON list in a CSV cell
    rights = sites["data_inclusion:csv--cidff-1"]
    assert rights.network == "cidff"  # first of {cidff,france-service}
    assert rights.serves.communes == ("42218", "42095")  # "42218;42095"
    assert "Conditions d'accès : Sur rendez-vous" in rights.offer[0].text


def test_data_inclusion_csv_problems_carry_their_line(fixtures: Loaded) -> None:
    csv_problems = {(p.line, p.message) for p in fixtures.problems if p.path.endswith("structures.csv")}
    assert csv_problems == {
        (4, "structure « csv--inconnu-1 » : réseau inconnu « ASSO »"),
        (5, "structure « csv--vide » invalide : « nom » : trop court (« Ab »)"),
    }


def test_data_inclusion_service_in_another_file_attaches_to_its_structure(tmp_path: Path) -> None:
    (tmp_path / "a_services.json").write_text(
        '[{"source": "test", "id": "s1", "structure_id": "st1", "nom": "Service fictif",'
        ' "description": "Description fictive.", "date_maj": "2024-01-01", "zone_eligibilite": ["38"]}]',
        encoding="utf-8",
    )
    (tmp_path / "b_structures.json").write_text(
        '[{"source": "test", "id": "st1", "nom": "Mission Locale Fictive", "date_maj": "2024-01-01",'
        ' "code_insee": "38185", "reseaux_porteurs": ["mission-locale"]}]',
        encoding="utf-8",
    )
    loaded = load_paths([tmp_path])
    assert loaded.problems == []
    (site,) = loaded.structures
    assert [s.heading for s in site.offer] == ["Service fictif"]
    assert site.serves.departments == ("38",)


# --- Documents ---------------------------------------------------------------------------------------------


def test_markdown_front_matter_attaches_and_headings_make_sections(fixtures: Loaded) -> None:
    document = next(d for d in fixtures.documents if d.id == "document:documents/ml-garantie-jeunes")
    assert document.network == "mission_locale"
    assert document.title == "Accompagnement intensif des jeunes en Mission Locale (document de test)"
    assert [s.heading for s in document.sections] == [
        "Présentation",
        "Pour qui ?",
        "Pour qui ? › Conditions",
        "Comment ?",
    ]
    assert "# ceci n'est pas un titre" in document.sections[-1].text  # fenced code is no heading
    assert document.source.as_of == date(2025, 3, 1)
    assert document.source.url == "https://example.org/document-fictif"


def test_html_takes_metadata_from_its_sidecar_and_drops_page_chrome(fixtures: Loaded) -> None:
    document = next(d for d in fixtures.documents if d.id == "document:documents/cio-presentation")
    assert document.network == "cio"
    assert document.title == "Le CIO, mode d'emploi (page de test)"
    assert [s.heading for s in document.sections] == ["Présentation", "Missions", "Missions › Publics", "Contact"]
    assert document.sections[0].text == "Page fictive écrite pour les tests du chargeur HTML."
    text = " ".join(s.text for s in document.sections)
    assert "Plan du site" not in text and "Mentions légales" not in text and "pas du texte" not in text
    assert document.source.origin == "Expert SPRO — jeu de test"
    # The sidecar is metadata, not a source of its own.
    assert not any(p.path.endswith(".yaml") for p in fixtures.problems)


def minimal_pdf(pages: list[list[str]], title: str | None = None) -> bytes:
    """A valid PDF written by hand: one Helvetica text line per entry, WinAnsi-encoded."""
    objects: list[bytes] = [b"", b""]  # catalog and page tree, filled in once the pages are known
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    kids: list[int] = []
    for lines in pages:
        operators = b"BT /F1 11 Tf 14 TL 72 770 Td "
        for line in lines:
            text = line.encode("cp1252").replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
            operators += b"(" + text + b") Tj T* "
        operators += b"ET"
        objects.append(b"<< /Length %d >>\nstream\n" % len(operators) + operators + b"\nendstream")
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >>"
            b" /Contents %d 0 R >>" % (len(objects))
        )
        kids.append(len(objects))
    objects[0] = b"<< /Type /Catalog /Pages 2 0 R >>"
    references = b" ".join(b"%d 0 R" % kid for kid in kids)
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (references, len(kids))
    if title is not None:
        objects.append(b"<< /Title (" + title.encode("cp1252") + b") >>")
    output = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(output))
        output += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(output)
    output += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    output += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    info = b" /Info %d 0 R" % len(objects) if title is not None else b""
    output += b"trailer\n<< /Size %d /Root 1 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, info, xref)
    return bytes(output)


def test_pdf_sections_follow_its_numbered_headings(tmp_path: Path) -> None:
    pdf = tmp_path / "transition.pdf"
    pdf.write_bytes(
        minimal_pdf(
            [
                [
                    "Document fictif de test.",
                    "1. Publics concernés",
                    "Les salariés en reconversion.",
                    "Durée : 12 mois.",
                ],
                ["2. Démarches", "Déposer un dossier auprès de Transitions Pro."],
            ],
            title="Projet de transition professionnelle (test)",
        )
    )
    (tmp_path / "transition.yaml").write_text("network: transitions_pro\norigin: test\n", encoding="utf-8")
    loaded = load_paths([pdf])
    assert loaded.problems == []
    (document,) = loaded.documents
    assert document.title == "Projet de transition professionnelle (test)"
    assert document.network == "transitions_pro"
    assert [(s.heading, s.text) for s in document.sections] == [
        ("Présentation", "Document fictif de test."),
        ("1. Publics concernés", "Les salariés en reconversion.\nDurée : 12 mois."),
        ("2. Démarches", "Déposer un dossier auprès de Transitions Pro."),
    ]


def test_pdf_without_headings_is_cut_by_page(tmp_path: Path) -> None:
    pdf = tmp_path / "notice.pdf"
    pdf.write_bytes(minimal_pdf([["Première page fictive."], ["Seconde page fictive."]]))
    (tmp_path / "notice.pdf.yaml").write_text("structure: annuaire:cio-38185-01\n", encoding="utf-8")
    (document,) = load_paths([tmp_path]).documents
    assert document.structure_id == "annuaire:cio-38185-01"
    assert document.title == "notice"
    assert [s.heading for s in document.sections] == ["Page 1", "Page 2"]


def test_docx_sections_come_from_heading_styles_and_tables_are_kept(tmp_path: Path) -> None:
    word = docx.Document()
    word.add_heading("Le CEP pour les actifs (test)", 0)
    word.add_paragraph("Introduction fictive.")
    word.add_heading("Pour qui ?", 1)
    word.add_paragraph("Tout actif, salarié ou indépendant.")
    word.add_heading("Où ?", 2)
    table = word.add_table(rows=2, cols=2)
    for row, values in zip(table.rows, [("Département", "Opérateur"), ("38", "Opérateur fictif")], strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    word.save(str(tmp_path / "cep.docx"))
    (tmp_path / "cep.docx.yaml").write_text("network: cep_actifs\nas_of: 2025-06-30\n", encoding="utf-8")
    loaded = load_paths([tmp_path])
    assert loaded.problems == []
    (document,) = loaded.documents
    assert document.title == "Le CEP pour les actifs (test)"
    assert [(s.heading, s.text) for s in document.sections] == [
        ("Présentation", "Introduction fictive."),
        ("Pour qui ?", "Tout actif, salarié ou indépendant."),
        ("Pour qui ? › Où ?", "Département | Opérateur\n38 | Opérateur fictif"),
    ]
    assert document.source.as_of == date(2025, 6, 30)
    assert document.source.origin == "origine non précisée"


def test_long_sections_are_split_between_paragraphs_under_the_same_heading(tmp_path: Path) -> None:
    paragraphs = [f"Paragraphe fictif numéro {n}. " + "Texte de remplissage. " * 25 for n in range(8)]
    sentence_block = "Phrase fictive sans fin de paragraphe. " * 60
    body = "\n\n".join(paragraphs) + "\n\n" + sentence_block
    (tmp_path / "long.md").write_text(f"---\nnetwork: cio\n---\n## Longue section\n\n{body}\n", encoding="utf-8")
    (document,) = load_paths([tmp_path]).documents
    assert len(document.sections) > 3
    assert all(s.heading == "Longue section" for s in document.sections)
    assert all(len(s.text) <= SECTION_LIMIT for s in document.sections)
    assert document.sections[0].text.startswith("Paragraphe fictif numéro 0.")
    joined = " ".join(" ".join(s.text.split()) for s in document.sections)
    assert joined == " ".join(body.split())  # nothing lost, nothing duplicated


# --- Bad input: reported with file (and line), never raised ------------------------------------------------


def test_malformed_csv_row_is_reported_with_its_line_and_other_rows_kept(tmp_path: Path) -> None:
    rows = [
        ANNUAIRE_HEADER,
        fictitious_annuaire_row("cio-38185-91"),
        fictitious_annuaire_row("cio-38185-92") + ",colonne en trop",
        fictitious_annuaire_row("cio-38185-93"),
    ]
    (tmp_path / "annuaire.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    loaded = load_paths([tmp_path / "annuaire.csv"])
    assert [(p.line, p.message) for p in loaded.problems] == [(3, "ligne mal formée : 18 colonnes au lieu de 17")]
    assert sorted(by_id(loaded)) == ["annuaire:cio-38185-91", "annuaire:cio-38185-93"]
    contact = loaded.structures[0].contacts[0]
    assert contact.url == "https://www.fictif.example.org" and contact.as_of == date(2024, 5, 1)


def test_unknown_network_and_department_outside_the_region_are_reported(tmp_path: Path) -> None:
    rows = [
        ANNUAIRE_HEADER,
        fictitious_annuaire_row("mairie-38185-01", pivot="mairie"),
        fictitious_annuaire_row("cio-75056-01", insee="75056"),
        fictitious_annuaire_row("cio-38185-01"),
    ]
    (tmp_path / "annuaire.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    loaded = load_paths([tmp_path])
    assert [str(p) for p in loaded.problems] == [
        f"{tmp_path / 'annuaire.csv'}:2: réseau inconnu « mairie »",
        f"{tmp_path / 'annuaire.csv'}:3: département hors Auvergne-Rhône-Alpes « 75 »",
    ]
    assert len(loaded.structures) == 1


def test_cp1252_file_is_read_with_its_accents(tmp_path: Path) -> None:
    rows = [ANNUAIRE_HEADER, fictitious_annuaire_row("cio-38185-01", name="Centre d’orientation fictif Évian")]
    (tmp_path / "annuaire.csv").write_bytes(("\r\n".join(rows) + "\r\n").encode("cp1252"))
    loaded = load_paths([tmp_path])
    assert loaded.problems == []
    assert loaded.structures[0].name == "Centre d’orientation fictif Évian"


def test_empty_files_are_reported(tmp_path: Path) -> None:
    (tmp_path / "vide.csv").write_text("", encoding="utf-8")
    (tmp_path / "blanc.json").write_text("  \n", encoding="utf-8")
    (tmp_path / "bom.md").write_bytes(b"\xef\xbb\xbf\n")
    (tmp_path / "en-tete.csv").write_text(ANNUAIRE_HEADER + "\n", encoding="utf-8")
    loaded = load_paths([tmp_path])
    assert sorted((Path(p.path).name, p.message) for p in loaded.problems) == [
        ("blanc.json", "fichier vide"),
        ("bom.md", "fichier vide"),
        ("en-tete.csv", "aucune ligne de données"),
        ("vide.csv", "fichier vide"),
    ]


def test_truncated_json_is_reported_with_its_line(tmp_path: Path) -> None:
    text = (FIXTURES / "data_inclusion" / "structures_et_services.json").read_text(encoding="utf-8")
    (tmp_path / "coupe.json").write_text(text[: len(text) // 2], encoding="utf-8")
    loaded = load_paths([tmp_path])
    (problem,) = loaded.problems
    assert problem.message.startswith("JSON tronqué ou invalide : ligne ")
    assert problem.line is not None and problem.line > 1
    assert loaded.structures == []


def test_csv_cut_inside_a_quoted_value_is_reported_and_earlier_rows_kept(tmp_path: Path) -> None:
    rows = [ANNUAIRE_HEADER, fictitious_annuaire_row("cio-38185-01"), fictitious_annuaire_row("cio-38185-02")]
    text = "\n".join(rows) + '\ncio-38185-03,cio,Type fictif,"Nom coupé'
    (tmp_path / "annuaire.csv").write_text(text, encoding="utf-8")
    loaded = load_paths([tmp_path])
    assert [(p.line, p.message) for p in loaded.problems] == [
        (4, "guillemet non refermé (ligne tronquée ?) : ligne ignorée")
    ]
    assert len(loaded.structures) == 2


def test_stray_quote_does_not_swallow_the_rows_after_it(tmp_path: Path) -> None:
    rows = [
        ANNUAIRE_HEADER,
        'cio-38185-01,cio,"Type cassé',
        fictitious_annuaire_row("cio-38185-02"),
        fictitious_annuaire_row("cio-38185-03"),
    ]
    (tmp_path / "annuaire.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    loaded = load_paths([tmp_path])
    assert [p.line for p in loaded.problems] == [2]
    assert sorted(by_id(loaded)) == ["annuaire:cio-38185-02", "annuaire:cio-38185-03"]


def test_garbage_pdf_and_docx_are_reported_not_raised(tmp_path: Path) -> None:
    (tmp_path / "faux.pdf").write_bytes(b"%PDF-1.4\n\x00\x01 ceci n'est pas un PDF \xff\xfe" * 10)
    (tmp_path / "faux.pdf.yaml").write_text("network: cio\n", encoding="utf-8")
    (tmp_path / "faux.docx").write_bytes(b"PK\x03\x04 archive tronquee")
    (tmp_path / "faux.docx.yaml").write_text("network: cio\n", encoding="utf-8")
    loaded = load_paths([tmp_path])
    assert sorted((Path(p.path).name, p.message.split(" (")[0]) for p in loaded.problems) == [
        ("faux.docx", "document Word illisible"),
        ("faux.pdf", "PDF illisible"),
    ]
    assert loaded.documents == []


def test_binary_data_in_a_text_format_is_an_encoding_problem(tmp_path: Path) -> None:
    (tmp_path / "binaire.csv").write_bytes(b"source_id,nom\n\x00\x01\x02\x81\x8d\n")
    (problem,) = load_paths([tmp_path]).problems
    assert problem.message.startswith("encodage illisible")


def test_documents_need_a_known_attachment(tmp_path: Path) -> None:
    (tmp_path / "sans-rattachement.md").write_text("# Titre\n\nTexte fictif.\n", encoding="utf-8")
    (tmp_path / "reseau-inconnu.md").write_text("---\nnetwork: pole_emploi\n---\nTexte fictif.\n", encoding="utf-8")
    (tmp_path / "yaml-casse.md").write_text("---\nnetwork: [cio\n---\nTexte fictif.\n", encoding="utf-8")
    (tmp_path / "non-ferme.md").write_text("---\nnetwork: cio\nTexte fictif.\n", encoding="utf-8")
    (tmp_path / "sans-texte.md").write_text("---\nnetwork: cio\n---\n## Titre seul\n", encoding="utf-8")
    loaded = load_paths([tmp_path])
    assert sorted((Path(p.path).name, p.line, p.message) for p in loaded.problems) == [
        ("non-ferme.md", 1, "en-tête YAML non refermé (ligne « --- » manquante)"),
        ("reseau-inconnu.md", None, "réseau inconnu « pole_emploi »"),
        (
            "sans-rattachement.md",
            None,
            "rattachement manquant : indiquer « network » (réseau) ou « structure » dans les métadonnées",
        ),
        ("sans-texte.md", None, "aucun texte exploitable dans le document"),
        ("yaml-casse.md", 2, "métadonnées YAML invalides"),
    ]
    assert loaded.documents == []


def test_unknown_files_are_reported_and_hidden_files_ignored(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("rien", encoding="utf-8")
    (tmp_path / "orphelin.yaml").write_text("network: cio\n", encoding="utf-8")
    (tmp_path / "tableau.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    (tmp_path / "objet.json").write_text('{"cle": 1}', encoding="utf-8")
    (tmp_path / ".cache").mkdir()
    (tmp_path / ".cache" / "x.csv").write_text("a\n", encoding="utf-8")
    loaded = load_paths([tmp_path, tmp_path / "absent"])
    assert sorted((Path(p.path).name, p.message) for p in loaded.problems) == [
        ("absent", "fichier ou dossier introuvable"),
        ("notes.txt", "format non reconnu"),
        ("objet.json", "format non reconnu (JSON)"),
        ("orphelin.yaml", "format non reconnu"),
        ("tableau.csv", "format non reconnu (colonnes : a, b)"),
    ]


def test_the_same_site_loaded_twice_is_reported_once(tmp_path: Path) -> None:
    rows = [ANNUAIRE_HEADER, fictitious_annuaire_row("cio-38185-01"), fictitious_annuaire_row("cio-38185-01")]
    (tmp_path / "a.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (tmp_path / "copie").mkdir()
    (tmp_path / "copie" / "b.csv").write_text("\n".join(rows[:2]) + "\n", encoding="utf-8")
    loaded = load_paths([tmp_path])
    assert sorted((Path(p.path).name, p.line, p.message) for p in loaded.problems) == [
        ("a.csv", 3, "identifiant en double « cio-38185-01 »"),
        ("b.csv", None, "structure « annuaire:cio-38185-01 » déjà chargée : ignorée"),
    ]
    assert len(loaded.structures) == 1


def test_document_with_a_script_link_is_refused(tmp_path: Path) -> None:
    (tmp_path / "fiche.md").write_text(
        "---\ntitle: Fiche\nnetwork: mission_locale\nurl: javascript:alert(1)\n---\n# Titre\n\nTexte.\n",
        encoding="utf-8",
    )
    loaded = load_paths([tmp_path])
    assert not loaded.documents and loaded.problems


def test_dila_api_records_of_france_travail_and_cap_emploi_keep_hours_and_coordinates(tmp_path: Path) -> None:
    """The API serialises lists as JSON strings; hours are day ranges with up to two slots."""
    record = {
        "id": "00000000-test-0000-0000-0000000000fe",
        "nom": "Cap emploi fictif de l'Isère (test)",
        "code_insee_commune": "38185",
        "pivot": json.dumps([{"type_service_local": "cap_emploi", "code_insee_commune": []}]),
        "adresse": json.dumps([{"type_adresse": "Adresse", "numero_voie": "1 rue de l'Exemple", "code_postal": "38000",
                                "nom_commune": "Grenoble", "latitude": "45.18", "longitude": "5.72"}]),
        "telephone": json.dumps([{"valeur": "00 00 00 00 00", "description": ""}]),
        "plage_ouverture": json.dumps([
            {"nom_jour_debut": "Lundi", "nom_jour_fin": "Jeudi", "valeur_heure_debut_1": "09:00:00",
             "valeur_heure_fin_1": "12:00:00", "valeur_heure_debut_2": "13:30:00", "valeur_heure_fin_2": "17:00:00"},
            {"nom_jour_debut": "Vendredi", "nom_jour_fin": "Vendredi", "valeur_heure_debut_1": "09:00:00",
             "valeur_heure_fin_1": "12:00:00"},
        ]),
        "date_modification": "2026-11-30T10:00:00",
    }
    agency = {**record, "id": "00000000-test-0000-0000-0000000000ff", "nom": "Agence France Travail fictive",
              "pivot": json.dumps([{"type_service_local": "france_travail", "code_insee_commune": []}])}
    path = tmp_path / "annuaire-api_2026-12-01.json"
    path.write_text(json.dumps({"service": [record, agency]}), encoding="utf-8")
    loaded = load_paths([path])
    assert loaded.problems == []
    cap, ft = loaded.structures
    assert (cap.network, ft.network) == ("cap_emploi", "france_travail")
    assert (cap.latitude, cap.longitude) == (45.18, 5.72)
    hours = {h.day: h.hours for h in cap.contacts[0].hours}
    assert hours == {"lundi": "09:00 - 12:00 / 13:30 - 17:00", "mardi": "09:00 - 12:00 / 13:30 - 17:00",
                     "mercredi": "09:00 - 12:00 / 13:30 - 17:00", "jeudi": "09:00 - 12:00 / 13:30 - 17:00",
                     "vendredi": "09:00 - 12:00"}
