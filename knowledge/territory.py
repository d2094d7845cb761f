"""Territory of Auvergne-Rhône-Alpes: communes, EPCI, employment areas, departments, places named in text."""

from __future__ import annotations

import csv
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import Literal, cast

from rapidfuzz import process
from rapidfuzz.distance import OSA

CommuneKind = Literal["commune-actuelle", "commune-deleguee", "commune-associee", "arrondissement-municipal"]
COMMUNE_KINDS: tuple[CommuneKind, ...] = (
    "commune-actuelle",
    "commune-deleguee",
    "commune-associee",
    "arrondissement-municipal",
)

DATA_DIR = Path(__file__).resolve().parent / "data" / "territory"


@dataclass(frozen=True)
class Commune:
    """A commune of the COG: current, former (déléguée, associée) or a Lyon arrondissement."""

    insee: str
    name: str
    kind: CommuneKind
    parent_insee: str | None
    department: str
    epci_code: str | None
    epci_name: str | None
    zone_code: str | None
    zone_name: str | None
    postcodes: tuple[str, ...]
    # 0 for communes déléguées and associées: the COG gives them no population of their own.
    population: int
    # (latitude, longitude) of the town hall (centres.csv); None when the source has no location.
    centre: tuple[float, float] | None = None


@dataclass(frozen=True)
class Resolution:
    """What a text designates: one commune, homonym candidates, a department only, or nothing."""

    communes: tuple[Commune, ...] = ()
    department: str | None = None
    matched: str | None = None

    @property
    def commune(self) -> Commune | None:
        return self.communes[0] if len(self.communes) == 1 else None

    @property
    def ambiguous(self) -> bool:
        return len(self.communes) > 1


NOTHING = Resolution()

# Curated short forms of the usual towns: how counsellors name them, not guesses. Where a small commune bears
# the short form as its real name (Clermont 74, Romans 01, Tournon 73, Vaulx 74), the short form still means
# the big town; the small one is chosen only when the department is also given ("Clermont (74)").
ALIASES: dict[str, str] = {
    "Clermont": "63113",  # Clermont-Ferrand
    "Bourg": "01053",  # Bourg-en-Bresse
    "Le Puy": "43157",  # Le Puy-en-Velay
    "Villefranche": "69264",  # Villefranche-sur-Saône
    "Bourgoin": "38053",  # Bourgoin-Jallieu
    "Aix": "73008",  # Aix-les-Bains
    "Thonon": "74281",  # Thonon-les-Bains
    "Évian": "74119",  # Évian-les-Bains
    "Chamonix": "74056",  # Chamonix-Mont-Blanc
    "Romans": "26281",  # Romans-sur-Isère
    "Tournon": "07324",  # Tournon-sur-Rhône
    "Cournon": "63124",  # Cournon-d'Auvergne
    "Caluire": "69034",  # Caluire-et-Cuire
    "Vaulx": "69256",  # Vaulx-en-Velin
    "Andrézieux": "42005",  # Andrézieux-Bouthéon
    "Ambérieu": "01004",  # Ambérieu-en-Bugey
}

# Commune names that are ordinary French (or English) words or first names: in free text they count only when
# capitalised AND introduced by a place word ("à Corps", not "le corps"). Checked against a French frequency
# list; communes of three letters or fewer are added automatically.
STOP_WORDS = frozenset(
    """
    abondance aime alex alix allan ally anse arches argentine bains ballons bard barges baume beaux
    bert bidon billy bois bonne borne bouchage bourg boyer broc brousse bully celle celles celliers
    cendre champagne champs chanterelle chapeau chapelle chapelles charly charmes chas chatte
    chaudiere cheres chevaline chevrier clefs colombe colombier compote confort cordon corps coteau
    coudes couleuvre cours courtes crans dance deserts donjon echalas echelles ecole engins
    entrelacs etable etables flat fleurie forteresse four fourneaux gaillard garde giron gouttieres
    gras haies halles herisson jardin job joyeuse joyeux jumeaux jure laps laurie lent limons longes
    lorette magnet maillet marches marges marin mars mauves mens mercy moire molles montagne morte
    mure mures noyer parent passage percy perrier pers pierre pilles pin plan plats pommiers port
    preaux precieux pres publier quartier quintal ramasse rance ravel relevant reposoir riviere
    rives roche rocher roux saillant sales salins salles sauvages servant singles souche soyons
    table target terrasse ternes touche tour trades treteau trinite tronche vans vaux vernon vers
    villes vogue
    """.split()
)

# Ordinary words found inside multi-word names ("Saint-Pierre-la-Roche", "La Petite-Marche"): a multi-word name
# is a place as written only if it has a word outside these and STOP_WORDS.
COMMON_PARTS = frozenset(
    """
    accueil amant arc arrets bancs barres bas beau bel belle blanc blanche boeuf bois bon bonne bons
    bouge camp cardinal centre chaise chaises chambre champ chasse chat chateau chaudes chef chene
    cher cheval clair coeur coin colonel comte constant cote cotes cour croix dame dames demi desert
    desire deux dieu doux eaux entre etoile exil fer fier fonds foret froid front gaz grand grande
    haut haute honore hopital huile innocent jeune lac leger loup lune marche milieu mines mont
    montagnes mur murs neuf neuve noire noir notre or ours palais pas pays petit petite petites pied
    pierres places plaine plaisir plateau poche pont porte portes pre prix projet puits reine roi
    rue saint sainte salle secret serre sources sur sure tours trois vert vieille vieilles vieux
    village villages ville vital voir
    """.split()
)
# A one-word name of a town this big is a place even in lower case without "à": nobody writes "grenoble" as a
# common noun. The exceptions are ordinary words ("qu'il vienne", "des romans").
BIG_TOWN = 10_000
LOWERCASE_WORDS = frozenset({"vienne", "romans", "fontaine"})
# Words one typo away from a big town's name ("filière" / Fillière, "clauses" / Cluses): never read as a
# misspelt town. Found by comparing the towns with a French word list.
NEAR_TOWN_WORDS = frozenset(
    """
    aubiers baignais briguais chassiez clauses cramponne filiere fontaines moulions moulons tartare
    theiers tiers tournoi tournons valences
    """.split()
)

# Shortest word forgiven as a misspelt big town ("roane"); shorter words are too often ordinary ones.
SHORTEST_TYPO = 5

ARTICLES = frozenset({"le", "la", "les", "l", "de", "du", "des", "d", "en", "sur", "sous", "et", "aux", "au", "a"})
# "au Puy" is "à Le Puy": the contracted article belongs to the name; "au"/"aux" are place words themselves.
CONTRACTED = {"au": "le", "aux": "les", "du": "le", "des": "les"}
ABBREVIATIONS = {"st": "saint", "ste": "sainte", "mt": "mont", "s/": "sur", "ds": "dans"}
ORDINALS = frozenset({"e", "er", "ere", "re", "eme", "ieme", "em", "nd", "nde"})

# Words that put the next words in a place: "à Vienne", "habite Annecy", "secteur Roanne".
PLACE_CUES = frozenset(
    """
    a au aux sur vers habite habitent habitant habitante vit vivant vivent reside residant residante
    resident residente domicilie domiciliee demenage demenagee installe installee secteur cote pres
    proche autour alentours environs depuis commune ville region agglo agglomeration bassin
    originaire
    """.split()
)
# Words that do so through "de": "secteur de Roanne", "mission locale de Vienne", "au sud de Lyon".
DE_CUES = frozenset(
    """
    secteur cote pres proche autour alentours environs loin commune ville region agglo agglomeration
    bassin originaire venant provenant arrive arrivee cio locale antenne agence permanence pij bij
    campus sud nord est ouest
    """.split()
)
# Departments take "en" and "dans", not "à": "une formation à allier avec un emploi" is no Allier.
DEPARTMENT_CUES = frozenset({"en", "dans", "departement", "dept", "dpt", "dep", "secteur", "region", "habite"})
DEPARTMENT_MARKERS = frozenset({"departement", "dept", "dpt", "dep"})
# A name after these is a street or a school named after the place or a saint, not where the person is.
STREET_WORDS = frozenset({"rue", "avenue", "av", "bd", "boulevard", "place", "quai", "chemin", "route", "allee"})
SCHOOL_WORDS = frozenset({"lycee", "college", "ecole", "universite"})
# A number followed by these is an age, a duration or an amount, never a department or an arrondissement.
UNITS = frozenset(
    """
    an ans annee annees mois jour jours semaine semaines h heure heures min minutes fois euros euro
    eur k ke km kms personnes jeunes habitants
    """.split()
)
# Region and department names outside the region that contain one of ours: they must not yield Rhône or Loire.
BLOCKERS = (
    "Auvergne-Rhône-Alpes",
    "Rhône-Alpes",
    "Auvergne",
    "Bouches-du-Rhône",
    "Côtes-du-Rhône",
    "Haute-Vienne",
    "Loire-Atlantique",
    "Saône-et-Loire",
    "Maine-et-Loire",
    "Indre-et-Loire",
    "Pays de la Loire",
    "Centre-Val de Loire",
    "Savoie Mont Blanc",
)
# Towns outside the region that counsellors name (big cities, neighbours): they are no typo of ours
# ("Bordeaux" is not Bourdeaux in the Drôme). A name that is also one of our communes stays ours.
OUTSIDE_TOWNS = """
    Paris Marseille Toulouse Nice Nantes Montpellier Strasbourg Bordeaux Lille Rennes Reims Toulon Dijon Angers
    Nîmes Brest Tours Limoges Amiens Perpignan Metz Besançon Orléans Rouen Mulhouse Caen Nancy Avignon Poitiers
    Genève Lausanne Mâcon Chalon-sur-Saône Nevers Auxerre Orange Gap
    Briançon Digne-les-Bains Tulle Brive-la-Gaillarde Rodez Mende Alès Bourges Turin Milan Bruxelles Luxembourg
    """.split()

_TOKEN = re.compile(r"[sS]/|[^\W\d_]+|\d+")
_KIND_RANK = {kind: rank for rank, kind in enumerate(COMMUNE_KINDS)}


class _Strength(IntEnum):
    """How much evidence free text needs before a name counts as a place."""

    STOP = 0  # a common word: capitalised and introduced by a place word
    WORD = 1  # one distinctive word: capitalised or introduced by a place word
    MULTI = 2  # several ordinary words: also accepted when written with hyphens
    STRONG = 3  # a distinctive multi-word name or a big town: accepted as written


@dataclass(frozen=True)
class _Place:
    """What a normalised name designates."""

    communes: tuple[Commune, ...] = ()
    # Other communes bearing the name (a former commune, the real "Clermont"): chosen by a department hint.
    fallback: tuple[Commune, ...] = ()
    department: str | None = None
    strength: _Strength = _Strength.STRONG


@dataclass(frozen=True)
class _Mention:
    start: int
    end: int
    place: _Place
    text: str


@dataclass(frozen=True)
class _Tokens:
    text: str
    norms: tuple[str, ...]
    spans: tuple[tuple[int, int], ...]

    def original(self, start: int, end: int) -> str:
        return self.text[self.spans[start][0] : self.spans[end - 1][1]]

    def word(self, index: int) -> str:
        begin, end = self.spans[index]
        return self.text[begin:end]

    def hyphenated(self, start: int, end: int) -> bool:
        return any("-" in self.text[self.spans[i][1] : self.spans[i + 1][0]] for i in range(start, end - 1))

    def joined(self, start: int, end: int) -> bool:
        """The words are one written name: only hyphens and apostrophes between them."""
        gaps = (self.text[self.spans[i][1] : self.spans[i + 1][0]] for i in range(start, end - 1))
        return all(gap in ("-", "'", "’") for gap in gaps)


def fold(word: str) -> str:
    """Lower case without accents: the form every index and query is compared in."""
    word = word.casefold().replace("œ", "oe").replace("æ", "ae")
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))


def _tokenize(text: str) -> _Tokens:
    """Words of a text, folded, with their positions; "3ème" becomes "3e", "St" becomes "saint"."""
    norms: list[str] = []
    spans: list[tuple[int, int]] = []
    for match in _TOKEN.finditer(text):
        word = fold(match.group())
        word = ABBREVIATIONS.get(word, word)
        if norms and norms[-1].isdigit() and spans[-1][1] == match.start() and word in ORDINALS:
            norms[-1] = f"{int(norms[-1])}e"
            spans[-1] = (spans[-1][0], match.end())
            continue
        norms.append(word)
        spans.append((match.start(), match.end()))
    return _Tokens(text, tuple(norms), tuple(spans))


def normalize(text: str) -> str:
    """The folded words of a name or text, space-separated: "Saint-Étienne" and "St Etienne" agree."""
    return " ".join(_tokenize(text).norms)


def _by_population(communes: Iterable[Commune]) -> tuple[Commune, ...]:
    unique = {c.insee: c for c in communes}
    return tuple(sorted(unique.values(), key=lambda c: (-c.population, c.insee)))


def _strength(key: str, communes: Sequence[Commune] = (), short_is_common: bool = True) -> _Strength:
    words = key.split()
    distinct = [w for w in words if w not in ARTICLES]
    if len(distinct) >= 2:
        # "Bourg-en-Bresse" is a place as written; "petite marche" or "deux chaises" need more evidence.
        rare = [w for w in distinct if w not in STOP_WORDS and w not in COMMON_PARTS]
        return _Strength.STRONG if rare else _Strength.MULTI
    word = distinct[0] if distinct else key
    if word in STOP_WORDS or (short_is_common and len(word) <= 3):
        return _Strength.STOP
    if any(c.population >= BIG_TOWN for c in communes) and word not in LOWERCASE_WORDS:
        return _Strength.STRONG  # "grenoble", "chambery": counsellors type big towns in lower case
    return _Strength.WORD


def _merge(places: Sequence[_Place]) -> _Place:
    if len(places) == 1:
        return places[0]
    communes = _by_population(c for p in places for c in p.communes)
    fallback = _by_population(c for p in places for c in p.fallback if c not in communes)
    departments = {p.department for p in places if p.department}
    department = departments.pop() if len(departments) == 1 else None
    return _Place(communes, fallback, department, min(p.strength for p in places))


def _read_centres(path: Path) -> dict[str, tuple[float, float]]:
    """Commune centres written by scripts/build_commune_centres.py; none when the file is absent."""
    if not path.is_file():
        return {}
    with path.open(encoding="utf-8", newline="") as handle:
        return {row["insee"]: (float(row["latitude"]), float(row["longitude"])) for row in csv.DictReader(handle)}


class Territory:
    """The communes and departments of the region, with indexes to recognise them in text."""

    def __init__(self, communes: Iterable[Commune], departments: Mapping[str, str]) -> None:
        self._rows = tuple(sorted(communes, key=lambda c: (c.insee, _KIND_RANK[c.kind])))
        self._departments = dict(departments)
        self._by_insee: dict[str, Commune] = {}
        for row in self._rows:
            # Many communes déléguées share the code of their commune nouvelle: the current commune wins.
            self._by_insee.setdefault(row.insee, row)
        self._by_epci: dict[str, list[Commune]] = defaultdict(list)
        self._by_postcode: dict[str, list[Commune]] = defaultdict(list)
        for row in self._rows:
            if row.kind == "commune-actuelle" and row.epci_code:
                self._by_epci[row.epci_code].append(row)
            if row.kind in ("commune-actuelle", "arrondissement-municipal"):
                for postcode in row.postcodes:
                    self._by_postcode[postcode].append(row)
        self._keys = self._index_names()
        self._longest = max(len(key.split()) for key in self._keys)
        compact: dict[str, list[_Place]] = defaultdict(list)
        for key, place in self._keys.items():
            compact[key.replace(" ", "")].append(place)
        self._compact = {key: _merge(places) for key, places in compact.items()}
        searchable = [(k, p) for k, p in self._compact.items() if len(k) >= 6 and (p.communes or p.department)]
        self._fuzzy_all = ([k for k, _ in searchable], [p for _, p in searchable])
        towns = [(k, p) for k, p in self._keys.items() if " " not in k and p.communes and len(k) >= 6]
        towns = [(k, p) for k, p in towns if p.strength is _Strength.STRONG]
        self._fuzzy_towns = ([k for k, _ in towns], [p for _, p in towns])

    @classmethod
    def load(cls, directory: Path | None = None) -> Territory:
        """Read the shipped table (or the one in `directory`) written by scripts/build_territory.py."""
        directory = directory or DATA_DIR
        centres = _read_centres(directory / "centres.csv")
        with (directory / "communes.csv").open(encoding="utf-8", newline="") as handle:
            communes = [
                Commune(
                    insee=row["insee"],
                    name=row["name"],
                    kind=cast(CommuneKind, row["kind"]),
                    parent_insee=row["parent_insee"] or None,
                    department=row["department"],
                    epci_code=row["epci_code"] or None,
                    epci_name=row["epci_name"] or None,
                    zone_code=row["zone_code"] or None,
                    zone_name=row["zone_name"] or None,
                    postcodes=tuple(row["postcodes"].split()),
                    population=int(row["population"] or 0),
                    centre=centres.get(row["insee"]),
                )
                for row in csv.DictReader(handle)
            ]
        with (directory / "departements.csv").open(encoding="utf-8", newline="") as handle:
            departments = {row["code"]: row["name"] for row in csv.DictReader(handle)}
        return cls(communes, departments)

    def commune(self, insee: str) -> Commune | None:
        """The commune with this INSEE code; the current commune when a commune déléguée shares its code."""
        return self._by_insee.get(insee)

    def current(self, insee: str) -> Commune | None:
        """The current commune a code belongs to.

        Communes déléguées and associées give their commune de rattachement, and Lyon arrondissements give
        Lyon (69123): an arrondissement is not a commune. Callers wanting arrondissement precision keep the
        arrondissement that `resolve` returns and use this for the commune level.
        """
        commune = self._by_insee.get(insee)
        if commune is None or commune.kind == "commune-actuelle" or commune.parent_insee is None:
            return commune
        return self._by_insee.get(commune.parent_insee)

    def communes(self, kind: CommuneKind | None = None) -> tuple[Commune, ...]:
        """Every row of the table, or those of one kind, by INSEE code."""
        return tuple(c for c in self._rows if kind is None or c.kind == kind)

    def department_name(self, code: str) -> str:
        """French name of a department of the region; KeyError for any other code."""
        return self._departments[code]

    def departments(self) -> dict[str, str]:
        return dict(self._departments)

    def biggest_towns(self, department: str, count: int) -> tuple[Commune, ...]:
        """The most populated current communes of a department (COG population), the biggest first."""
        return _by_population(
            c for c in self._rows if c.kind == "commune-actuelle" and c.department == department
        )[:count]

    def communes_of_epci(self, epci_code: str) -> tuple[Commune, ...]:
        """Current communes of an EPCI, by INSEE code (former communes and arrondissements are left out)."""
        return tuple(self._by_epci.get(epci_code, ()))

    def resolve(self, text: str) -> Resolution:
        """The place a whole text stands for (a chip answer, a query parameter): name, code or department."""
        tokens = _tokenize(text)
        if not tokens.norms:
            return NOTHING
        whole = self._whole(tokens, department_numbers=True)
        if whole is not None:
            return whole
        found = self._combine(tokens, self._scan(tokens, permissive=True))
        if found is not NOTHING:
            return found
        if any(n.isdigit() for n in tokens.norms):
            return NOTHING
        compact = "".join(tokens.norms)
        place = self._fuzzy(compact) or self._fuzzy(compact, towns_only=True)
        return self._combine(tokens, [_Mention(0, len(tokens.norms), place, text.strip())] if place else [])

    def find(self, message: str) -> Resolution:
        """The place a counsellor's free sentence clearly mentions, if any; the first one if several.

        Conservative on purpose: a common word is not a place unless written like one ("à Corps"), a number is
        a department only with a marker ("dans le 63", "(38)"), and a typo is forgiven only in a capitalised
        name introduced by a place word ("à Villeurbane") or in a long word one letter away from a big town
        ("valance").
        """
        tokens = _tokenize(message)
        if not tokens.norms:
            return NOTHING
        # A message that is only a place (an answer to "où ?"); bare department numbers are too often ages.
        whole = self._whole(tokens, department_numbers=False)
        if whole is not None:
            return whole
        mentions = self._scan(tokens, permissive=False)
        if not any(m.place.communes for m in mentions):
            mentions += self._fuzzy_mentions(tokens)
        return self._combine(tokens, mentions)

    def _index_names(self) -> dict[str, _Place]:
        # Each key collects (tier, commune); the lowest tier is what the key means, the rest is fallback.
        tiers: dict[str, list[tuple[int, Commune]]] = defaultdict(list)
        for row in self._rows:
            key = normalize(row.name)
            if row.kind == "commune-actuelle":
                tiers[key].append((1, row))
                words = key.split()
                if words[0] in ("le", "la", "les", "l") and len(words) >= 3:
                    # "Pont-de-Claix" for "Le Pont-de-Claix"; one-word remainders ("Teil") are too common.
                    tiers[" ".join(words[1:])].append((3, row))
            elif row.kind == "arrondissement-municipal":
                for form in self._arrondissement_forms(row):
                    tiers[form].append((1, row))
            elif row.parent_insee is not None:
                # A former commune's name designates the commune it now belongs to ("Annecy-le-Vieux").
                tiers[key].append((2, self._by_insee[row.parent_insee]))
        for alias, insee in ALIASES.items():
            tiers[normalize(alias)].append((0, self._by_insee[insee]))
        families = self._saint_families()

        keys: dict[str, _Place] = {}
        for key, entries in tiers.items():
            best = min(tier for tier, _ in entries)
            communes = _by_population(c for tier, c in entries if tier == best)
            fallback = _by_population(c for tier, c in entries if tier != best and c not in communes)
            keys[key] = _Place(communes, fallback, None, _strength(key, communes))
        for stem, family in families.items():
            exact = keys.get(stem)
            if exact is None:
                if len(family) >= 2:
                    keys[stem] = _Place(_by_population(family), (), None, _Strength.MULTI)
            elif exact.communes and max(c.population for c in family) > max(c.population for c in exact.communes):
                # "st julien": the small Saint-Julien (69) and every Saint-Julien-… are candidates, by size; a
                # commune bigger than all its namesakes keeps its name (Saint-Étienne, Saint-Flour).
                keys[stem] = _Place(_by_population((*exact.communes, *family)), exact.fallback, None, exact.strength)
        for code, name in self._departments.items():
            key = normalize(name)
            # No department name is a commune name in the region; if one became so, the commune would win.
            # "Ain" is short but no ordinary word: it needs no more evidence than "Isère".
            keys.setdefault(key, _Place(department=code, strength=_strength(key, short_is_common=False)))
        for blocker in (*BLOCKERS, *OUTSIDE_TOWNS):
            keys.setdefault(normalize(blocker), _Place())
        return keys

    def _saint_families(self) -> dict[str, list[Commune]]:
        """Current communes by their saint ("saint julien" -> Saint-Julien-en-Genevois, Saint-Julien-Chapteuil…).

        Counsellors shorten these names to the saint; unless a commune bears that exact name and is bigger than
        all the others (Saint-Étienne, Saint-Flour), the short form is ambiguous and the candidates are asked.
        """
        families: dict[str, list[Commune]] = defaultdict(list)
        for row in self._rows:
            words = normalize(row.name).split()
            if row.kind == "commune-actuelle" and len(words) > 2 and words[0] in ("saint", "sainte"):
                families[" ".join(words[:2])].append(row)
        return families

    @staticmethod
    def _arrondissement_forms(row: Commune) -> list[str]:
        # "Lyon 3e Arrondissement": also "Lyon 3e", "Lyon 3", "Lyon 03", "Lyon 3e arr".
        official = normalize(row.name)
        city, number = official.split()[:2]
        bare = number.rstrip("e")
        forms = {
            official,
            f"{city} {number}",
            f"{city} {bare}",
            f"{city} {bare.zfill(2)}",
            f"{city} {number} arr",
        }
        return sorted(forms)

    def _whole(self, tokens: _Tokens, department_numbers: bool) -> Resolution | None:
        norms = tokens.norms
        mention: _Mention | None = None
        if len(norms) == 1 and norms[0].isdigit():
            place = self._number_place(norms[0], department_numbers)
            mention = _Mention(0, 1, place, tokens.word(0)) if place else None
        else:
            key = " ".join(norms)
            place = self._keys.get(key) or self._compact.get(key.replace(" ", ""))
            common_word = place is not None and place.strength is _Strength.STOP and not department_numbers
            if common_word and not tokens.word(0)[:1].isupper():
                place = None  # "job" alone is a word; "Job" alone is the commune
            if place is not None and (place.communes or place.department):
                mention = _Mention(0, len(norms), place, tokens.original(0, len(norms)))
        return self._combine(tokens, [mention]) if mention else None

    def _scan(self, tokens: _Tokens, permissive: bool) -> list[_Mention]:
        norms = tokens.norms
        found: list[_Mention] = []
        for i, norm in enumerate(norms):
            if norm.isdigit():
                number = self._number(tokens, i, permissive)
                if number is not None:
                    found.append(number)
                continue
            starts: list[tuple[int, str | None]] = [(i, None)]
            if norm in CONTRACTED and i + 1 < len(norms):
                starts.append((i + 1, norm))
            for start, contracted in starts:
                prefix = [CONTRACTED[contracted]] if contracted else []
                for length in range(min(self._longest, len(norms) - start), 0, -1):
                    words = prefix + list(norms[start : start + length])
                    key = " ".join(words)
                    place = self._keys.get(key)
                    if place is None and len(key) >= 10:
                        # "Saint Martin Dheres", "Villefranchesursaone": spacing is not a typo.
                        place = self._compact.get(key.replace(" ", ""))
                    if place is None:
                        continue
                    end = start + length
                    if permissive or self._accepted(tokens, start, end, place, contracted):
                        found.append(_Mention(start, end, place, tokens.original(start, end)))
                        break
        # The longest mention wins where mentions overlap ("Puy-de-Dôme" over "Le Puy", "Lyon 3" over "03").
        chosen: list[_Mention] = []
        for mention in sorted(found, key=lambda m: (m.start - m.end, m.start)):
            if all(mention.end <= c.start or mention.start >= c.end for c in chosen):
                chosen.append(mention)
        return sorted((m for m in chosen if m.place.communes or m.place.department), key=lambda m: m.start)

    def _accepted(self, tokens: _Tokens, start: int, end: int, place: _Place, contracted: str | None) -> bool:
        norms = tokens.norms
        if not place.communes and not place.department:
            return True  # blockers always take their words
        if norms[end - 1].isdigit() and end < len(norms) and norms[end] in UNITS:
            return False  # "Lyon 3 ans" is Lyon, not its 3rd arrondissement
        if self._institution_before(norms, start - (1 if contracted else 0)):
            return False
        if (
            place.communes
            and start >= 2
            and norms[start - 1] in ("le", "la", "l", "les")
            and norms[start - 2] == "dans"
        ):
            return False  # "dans la Vienne", "dans la Loire": a department or a river, not the commune
        first = next((i for i in range(start, end) if norms[i] not in ARTICLES), start)
        word = tokens.word(first)
        capitalised = word[:1].isupper()
        titled = capitalised and not word.isupper()
        if place.communes:
            cued = self._commune_cue(norms, start, contracted)
        else:
            cued = self._department_cue(norms, start)
        if place.strength is _Strength.STRONG:
            return True
        if place.strength is _Strength.MULTI:
            return cued or capitalised or tokens.hyphenated(start, end)
        if place.strength is _Strength.WORD:
            return cued or capitalised
        return cued and titled

    @staticmethod
    def _commune_cue(norms: Sequence[str], start: int, contracted: str | None) -> bool:
        if contracted in ("au", "aux"):
            return True
        at = start - 1 if contracted else start  # first word before the name (or its contracted article)
        if contracted:  # "secteur du Puy"
            return at >= 1 and norms[at - 1] in DE_CUES
        if at >= 1 and norms[at - 1] in PLACE_CUES:
            return True
        return at >= 2 and norms[at - 1] in ("de", "d", "du", "des") and norms[at - 2] in DE_CUES

    @staticmethod
    def _department_cue(norms: Sequence[str], start: int) -> bool:
        # "en Isère", "dans la Drôme", "département de l'Ain": skip articles back to the cue.
        at = start - 1
        while at >= 0 and start - at <= 3 and norms[at] in ("le", "la", "les", "l", "de", "du", "d", "des"):
            at -= 1
        return at >= 0 and norms[at] in DEPARTMENT_CUES

    @staticmethod
    def _institution_before(norms: Sequence[str], start: int) -> bool:
        at = start - 1
        if at >= 0 and norms[at] in SCHOOL_WORDS:
            return True
        if at >= 1 and norms[at] in ("de", "d", "du", "des"):
            at -= 1
        return at >= 0 and norms[at] in STREET_WORDS

    def _number(self, tokens: _Tokens, i: int, permissive: bool) -> _Mention | None:
        norms = tokens.norms
        norm = norms[i]
        following = norms[i + 1] if i + 1 < len(norms) else ""
        if following in UNITS:
            return None
        if len(norm) == 5:
            if not permissive and tokens.text[tokens.spans[i][1] :].lstrip().startswith("€"):
                return None
            place = self._number_place(norm, department_numbers=False)
        elif len(norm) == 2 and (permissive or self._department_marker(tokens, i)):
            place = self._number_place(norm, department_numbers=True)
        else:
            place = None
        return _Mention(i, i + 1, place, tokens.word(i)) if place else None

    def _number_place(self, number: str, department_numbers: bool) -> _Place | None:
        if len(number) == 2:
            return _Place(department=number) if department_numbers and number in self._departments else None
        if len(number) != 5 or number[:2] not in self._departments:
            return None
        # A postcode before an INSEE code: counsellors write postcodes, and 38200 is both Vienne's postcode
        # and another commune's INSEE code.
        communes = self._by_postcode.get(number)
        if communes:
            # 69003 is the postcode of Lyon and of its 3rd arrondissement: the arrondissement is more precise.
            cities = {c.parent_insee for c in communes if c.kind == "arrondissement-municipal"}
            return _Place(_by_population(c for c in communes if c.insee not in cities))
        commune = self._by_insee.get(number)
        if commune is None:
            return None
        if commune.kind in ("commune-deleguee", "commune-associee"):
            commune = self.current(number) or commune
        return _Place((commune,))

    @staticmethod
    def _department_marker(tokens: _Tokens, i: int) -> bool:
        norms = tokens.norms
        before = norms[max(0, i - 2) : i]
        if before[-1:] and before[-1] in DEPARTMENT_MARKERS:
            return True  # "département 38", "dept 74"
        if len(before) == 2 and before[0] in ("dans",) and before[1] in ("le", "l"):
            return True  # "dans le 63"
        if len(before) == 2 and before[0] in DEPARTMENT_MARKERS and before[1] in ("du", "de", "le"):
            return True  # "département du 38"
        begin, end = tokens.spans[i]
        # "(38)"
        return tokens.text[:begin].rstrip().endswith("(") and tokens.text[end:].lstrip().startswith(")")

    def _fuzzy(self, compact: str, towns_only: bool = False) -> _Place | None:
        """The place whose name is one typo away (two for long names); all of them when several are.

        Big towns are searched from five letters ("roane" for Roanne), any place from six.
        """
        if len(compact) < (SHORTEST_TYPO if towns_only else 6) or not compact.isalpha():
            return None
        keys, places = self._fuzzy_towns if towns_only else self._fuzzy_all
        limit = 1 if len(compact) < 12 else 2
        hits = process.extract(compact, keys, scorer=OSA.distance, score_cutoff=limit, limit=None)
        # Typos rarely hit the first letter; requiring it keeps "Rives" from answering for "Dives".
        hits = [hit for hit in hits if keys[hit[2]][0] == compact[0]]
        if not hits:
            return None
        best = min(hit[1] for hit in hits)
        return _merge([places[hit[2]] for hit in hits if hit[1] == best])

    def _fuzzy_mentions(self, tokens: _Tokens) -> list[_Mention]:
        norms = tokens.norms
        for i, norm in enumerate(norms):
            if norm in STOP_WORDS or norm in self._compact:
                continue  # an exact name that the rules turned down: no typo to forgive
            cued = i >= 1 and (
                norms[i - 1] in PLACE_CUES or i >= 2 and norms[i - 1] in ("de", "d") and norms[i - 2] in DE_CUES
            )
            if cued and tokens.word(i)[:1].isupper():
                # "à Villeurbane", "à Bourg-en-Brese": any name, over up to three hyphenated words.
                for end in range(min(i + 3, len(norms)), i, -1):
                    if not tokens.joined(i, end):
                        continue
                    compact = "".join(norms[i:end])
                    place = None if compact in self._compact else self._fuzzy(compact)
                    if place is not None:
                        return [_Mention(i, end, place, tokens.original(i, end))]
            elif (len(norm) >= 7 or cued or len(norms) == 1) and norm not in NEAR_TOWN_WORDS:
                # "colo valance": a long word one typo away from a big town, which no common word is; "à roane",
                # or "roane" alone (the answer to "where?"): a shorter one after a place word.
                place = self._fuzzy(norm, towns_only=True)
                if place is not None:
                    return [_Mention(i, i + 1, place, tokens.word(i))]
        return []

    def _combine(self, tokens: _Tokens, mentions: Sequence[_Mention]) -> Resolution:
        places = [m for m in mentions if m.place.communes]
        departments = [m.place.department for m in mentions if m.place.department and not m.place.communes]
        hint = departments[0] if departments else None
        if not places:
            if hint is None:
                return NOTHING
            first = next(m for m in mentions if m.place.department)
            return Resolution((), hint, first.text)
        primary = places[0]
        candidates = primary.place.communes
        # "Vienne 38200", "Saint-Priest 69800": a second mention narrows the first when they agree.
        for other in places[1:]:
            common = _by_population(c for c in candidates if c in other.place.communes)
            if common:
                candidates = common
        if hint is not None:
            chosen = [c for c in candidates if c.department == hint]
            chosen = chosen or [c for c in primary.place.fallback if c.department == hint]
            if chosen:
                candidates = _by_population(chosen)
        spread = {c.department for c in candidates}
        department = spread.pop() if len(spread) == 1 else hint
        return Resolution(candidates, department, primary.text)
