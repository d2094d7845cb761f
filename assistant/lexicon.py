"""What counsellors type: abbreviations, and the words that reveal a status, a need or a flag.

Every pattern runs on folded text (lower case, no accents), so "décrocheur" and "decrocheur" match alike.
"""

from __future__ import annotations

# Abbreviation -> expansion added to the retrieval query (the knowledge base spells things out).
ABBREVIATIONS: dict[str, str] = {
    "de": "demandeur d'emploi",
    "deld": "demandeur d'emploi de longue durée",
    "dena": "demandeur d'emploi non indemnisé",
    "th": "travailleur handicapé",
    "rqth": "reconnaissance de la qualité de travailleur handicapé handicap",
    "boeth": "bénéficiaire de l'obligation d'emploi des travailleurs handicapés handicap",
    "aah": "allocation aux adultes handicapés handicap",
    "cej": "contrat d'engagement jeune",
    "pacea": "parcours contractualisé d'accompagnement vers l'emploi et l'autonomie",
    "ptp": "projet de transition professionnelle",
    "cpf": "compte personnel de formation",
    "vae": "validation des acquis de l'expérience",
    "bc": "bilan de compétences",
    "cep": "conseil en évolution professionnelle",
    "ml": "mission locale",
    "ft": "france travail",
    "pe": "france travail pôle emploi",
    "cio": "centre d'information et d'orientation",
    "mna": "mineur non accompagné",
    "ase": "aide sociale à l'enfance",
    "qpv": "quartier prioritaire de la politique de la ville",
    "neet": "jeune ni en emploi ni en études ni en formation",
    "bafa": "brevet d'aptitude aux fonctions d'animateur",
    "rsa": "revenu de solidarité active",
    "brsa": "bénéficiaire du revenu de solidarité active",
    "csp": "contrat de sécurisation professionnelle",
    "mdph": "maison départementale des personnes handicapées",
    "e2c": "école de la deuxième chance",
    "epide": "établissement pour l'insertion dans l'emploi",
    "psad": "plateforme de suivi et d'appui aux décrocheurs",
    "mlds": "mission de lutte contre le décrochage scolaire",
    "scuio": "service universitaire d'information et d'orientation",
    "suio": "service universitaire d'information et d'orientation",
    "pij": "point information jeunesse",
    "bij": "bureau information jeunesse",
    "cidff": "centre d'information sur les droits des femmes et des familles",
    "cibc": "centre interinstitutionnel de bilan de compétences",
    "mife": "maison de l'information sur la formation et l'emploi",
    "cci": "chambre de commerce et d'industrie",
    "cma": "chambre de métiers et de l'artisanat",
    "apec": "association pour l'emploi des cadres",
    "cfa": "centre de formation d'apprentis apprentissage",
    "poei": "préparation opérationnelle à l'emploi",
    "afpr": "action de formation préalable au recrutement",
    "ase/pjj": "aide sociale à l'enfance",
    "fjt": "foyer de jeunes travailleurs logement",
    "bpi": "bénéficiaire de la protection internationale réfugié",
    "dnb": "diplôme national du brevet",
    "cap": "certificat d'aptitude professionnelle",
    "bts": "brevet de technicien supérieur",
    "but": "bachelor universitaire de technologie",
    "ccas": "centre communal d'action sociale",
    "caf": "caisse d'allocations familiales",
    "pmsmp": "période de mise en situation en milieu professionnel stage",
    "iae": "insertion par l'activité économique",
    "siae": "structure d'insertion par l'activité économique",
    "vie": "volontariat international en entreprise",
}

# Status -> words (folded) that reveal it. Longest phrases are tried first by the parser.
STATUS_WORDS: dict[str, tuple[str, ...]] = {
    "collegien": ("collegien", "collegienne", "college", "en 3e", "en 3eme", "en troisieme", "en 4e", "en 4eme"),
    "lyceen": (
        "lyceen", "lyceenne", "lycee", "en terminale", "en seconde", "en premiere", "en 1ere", "en 2nde",
        "terminale", "bac pro en cours",
    ),
    "etudiant": (
        "etudiant", "etudiante", "etudiants", "fac", "faculte", "universite", "en licence", "en l1", "en l2",
        "en l3", "en master", "en bts", "en but", "en iut", "en prepa", "paces", "pass",
    ),
    "decrocheur": (
        "decrocheur", "decrocheuse", "decrocheurs", "decroche", "decrocher", "decrochage", "deccrocheur",
        "sorti du systeme scolaire", "sortie du systeme scolaire", "sans diplome", "a arrete l ecole",
        "a quitte l ecole", "a arrete les cours", "deschooled", "descolarise", "descolarisee", "neet",
        "plus scolarise", "plus scolarisee", "abandonne ses etudes", "sans qualification",
    ),
    "demandeur_emploi": (
        "demandeur d emploi", "demandeuse d emploi", "demandeurs d emploi", "deld", "dena", "chomage",
        "chomeur", "chomeuse", "sans emploi", "inscrit a france travail", "inscrite a france travail",
        "inscrit a pole emploi", "inscrite a pole emploi", "inscrit a ft", "inscrite a ft", "inscrit au ft",
        "inscrit a pe", "inscrite a pe", "inscrit a france travail depuis", "en recherche d emploi", "privee d emploi",
        "prive d emploi", "licencie", "licenciee", "au chomage",
    ),
    "cadre": ("cadre", "cadres", "ingenieur", "ingenieure", "manager", "managait", "manager une equipe",
              "encadrait", "poste a responsabilites", "poste a responsabilite", "directeur", "directrice",
              "chef de service", "chef de projet", "responsable marketing", "responsable commercial", "bac+5", "bac +5", "bac + 5", "jeune diplome",
              "jeune diplomee", "bac+3", "bac +3", "bac+4"),
    "salarie": (
        "salarie", "salariee", "salaries", "en cdi", "en cdd", "cdi", "cdd", "en poste", "interimaire",
        "employe", "employee", "ouvrier", "ouvriere", "aide soignante", "aide-soignante", "infirmiere",
        "travaille", "travaille comme", "en activite", "actif occupe", "active occupee",
    ),
    "independant": (
        "independant", "independante", "auto entrepreneur", "autoentrepreneur", "micro entrepreneur",
        "artisan", "artisane", "commercant", "commercante", "freelance", "profession liberale", "chef d entreprise",
    ),
    "agriculteur": ("agriculteur", "agricultrice", "exploitant agricole", "exploitante agricole", "eleveur",
                    "eleveuse", "viticulteur", "maraicher", "maraichere", "paysan"),
    "parent": ("parent", "parents", "maman", "papa", "mere d un", "pere d un", "mere d une", "pere d une",
               "mon fils", "ma fille", "son fils", "sa fille", "leur fils", "leur fille"),
    "fonctionnaire": ("fonctionnaire", "agent public", "agente publique", "fonction publique", "titulaire de la fonction"),
    "sans_activite": ("sans activite", "inactif", "inactive", "au foyer", "femme au foyer", "mere au foyer"),
}

NEED_WORDS: dict[str, tuple[str, ...]] = {
    "orientation_scolaire": (
        "orientation", "s orienter", "orienter", "apres la 3e", "apres la 3eme", "apres la troisieme",
        "affelnet", "specialites", "choix de specialite", "quelle filiere", "choisir une filiere",
        "choix d orientation", "voie pro", "seconde generale", "projet d orientation", "quel metier",
        "choisir un metier", "idee de metier", "sait pas quoi faire", "ne sait pas quoi faire",
    ),
    "reorientation": (
        "reorientation", "reorienter", "se reorienter", "changer de filiere", "changer de voie", "passerelle",
        "abandonner la fac", "arreter la fac", "quitter la fac", "changer de formation", "s est trompe de filiere",
        "s est trompee de filiere", "erreur d orientation",
    ),
    "emploi": (
        "emploi", "travail", "job", "boulot", "taf", "trouver du travail", "trouver un travail", "embauche",
        "cv", "candidature", "recherche d emploi", "chercher du travail", "cherche du travail", "postuler",
        "interim", "job d ete", "jobs d ete", "travailler",
    ),
    "formation": (
        "formation", "formations", "se former", "former", "qualification", "qualifiant", "diplome", "diplomante",
        "reprendre ses etudes", "reprendre des etudes", "reprise d etudes", "remise a niveau", "cap", "titre pro",
        "titre professionnel", "formatoin", "fomation",
    ),
    "reconversion": (
        "reconversion", "reconvertir", "se reconvertir", "reconverti", "changer de metier", "changer de voie pro",
        "nouveau metier", "ptp", "changer completement de metier", "changer de travail", "changer de job",
        "changer de profession", "changer de secteur", "autre metier", "n en peut plus de son metier", "transition pro", "transition professionnelle", "demission reconversion",
        "evolution professionnelle", "evoluer", "cep", "reconvertion",
    ),
    "vae": ("vae", "validation des acquis", "valider son experience", "valider ses acquis", "faire valider"),
    "bilan": ("bilan de competences", "bilan", "bc", "faire le point", "point sur sa carriere", "competences"),
    "creation_entreprise": (
        "creer son entreprise", "creer une entreprise", "creation d entreprise", "creation entreprise",
        "monter sa boite", "monter son entreprise", "se mettre a son compte", "s installer a son compte",
        "reprendre une entreprise", "reprise d entreprise", "entreprendre", "entrepreneur", "acre",
        "auto entreprise", "micro entreprise", "ouvrir un commerce", "ouvrir un restaurant", "installation agricole",
        "s installer en agriculture", "reprendre une exploitation", "creer sa micro", "creer",
        "ouvrir une boutique", "ouvrir un magasin", "ouvrir son salon", "lancer son activite", "lancer sa boite",
    ),
    "apprentissage": (
        "apprentissage", "apprenti", "apprentie", "alternance", "alternant", "alternante", "contrat pro",
        "contrat de professionnalisation", "cfa", "prepa apprentissage", "en alternance", "maitre d apprentissage",
    ),
    "logement": ("logement", "loger", "hebergement", "heberge", "fjt", "appartement", "appart", "sans domicile",
                 "a la rue", "colocation", "visale"),
    "mobilite": ("mobilite", "permis", "permis de conduire", "transport", "voiture", "deplacement", "se deplacer"),
    "international": ("etranger", "erasmus", "international", "internationale", "au pair", "volontariat",
                      "vie", "partir a l etranger", "travailler a l etranger", "pvt", "corps europeen"),
    "droits": ("droits", "juridique", "acces aux droits", "administratif", "papiers", "divorce", "separation",
               "pension", "demarches administratives", "demarches en ligne", "faire ses demarches",
               "dossier caf", "aide administrative", "titre de sejour", "avocat", "conseil juridique"),
    "handicap": ("aah", "dossier mdph", "pch", "compensation", "reconnaissance du handicap", "demande de rqth",
                 "faire une rqth", "faire reconnaitre", "orientation mdph", "esat", "emploi accompagne"),
    "sante": ("sante", "psy", "psychologue", "soins", "medecin", "depression", "addiction", "mal etre"),
    "financement": ("financer", "financement", "cpf", "compte formation", "aide financiere", "remuneration",
                    "bourse", "bourses", "payer sa formation", "prise en charge"),
    "engagement": ("service civique", "benevolat", "benevole", "bafa", "engagement", "volontariat",
                   "sapeur pompier volontaire", "snu"),
    "etudes_superieures": ("parcoursup", "mon master", "monmaster", "etudes superieures", "post bac", "apres le bac",
                           "bts", "but", "licence", "master", "prepa", "ecole d ingenieur", "crous"),
}

FLAG_WORDS: dict[str, tuple[str, ...]] = {
    "handicap": (
        "handicap", "handicape", "handicapee", "rqth", "th", "travailleur handicape", "travailleuse handicapee",
        "boeth", "aah", "en situation de handicap", "mdph", "invalidite", "dys", "dyslexique", "autiste",
        "autisme", "tsa", "tdah", "maladie chronique", "inaptitude", "inapte", "probleme de sante",
        "problemes de sante", "probleme de dos", "accident du travail", "maladie professionnelle",
        "ne peut plus exercer", "ne peut plus faire", "restrictions medicales", "handicap reconnu",
    ),
    "victime_violences": ("violence", "violences", "victime", "conjugal", "conjugales", "harcelement", "battue",
                          "emprise", "agression"),
    "sortie_ase": ("ase", "aide sociale a l enfance", "contrat jeune majeur", "place en foyer", "placee en foyer",
                   "foyer de l enfance", "sortant de l ase", "sortie de l ase", "pupille", "mecs"),
    "refugie": ("refugie", "refugiee", "refugies", "protection internationale", "bpi", "demandeur d asile",
                "demandeuse d asile", "exile", "exilee", "protection subsidiaire", "primo arrivant", "primo arrivante"),
    "mna": ("mna", "mineur non accompagne", "mineure non accompagnee", "mineurs non accompagnes"),
    "qpv": ("qpv", "quartier prioritaire", "politique de la ville", "quartier politique"),
    "rsa": ("rsa", "brsa", "beneficiaire du rsa", "au rsa", "allocataire du rsa", "minima sociaux"),
    "neet": ("neet", "ni en emploi ni en formation"),
    "femme": ("femme", "femmes", "mere isolee", "maman solo", "enceinte", "jeune fille", "jeune femme",
              "mere celibataire", "mere de famille"),
    "senior": ("senior", "seniors", "fin de carriere"),
    "licenciement": ("licencie", "licenciee", "licenciement", "rupture conventionnelle", "plan social", "pse",
                     "csp", "fin de contrat", "liquidation", "inaptitude"),
}

# Abbreviations and names that designate a network: naming one is talking about a case.
NETWORK_MENTIONS: tuple[str, ...] = (
    "ml", "ft", "pe", "cio", "psad", "e2c", "epide", "mdph", "scuio", "suio", "pij", "bij", "cidff", "cibc",
    "mife", "cci", "cma", "apec", "cap emploi", "mission locale", "france travail", "pole emploi",
    "transitions pro", "info jeunes", "france vae", "via competences", "agefiph", "crous", "greta",
)

# Words that say the counsellor is replacing the need rather than adding one ("plutôt pour une reconversion").
REPLACE_MARKERS: tuple[str, ...] = ("plutot", "en fait", "finalement", "non ", "pas pour", "au lieu")
ADD_MARKERS: tuple[str, ...] = ("aussi", "egalement", "en plus", "de plus")

# Topics that are plainly outside guidance, training and employment: refuse rather than stretch.
OUT_OF_SCOPE_WORDS: tuple[str, ...] = (
    "meteo", "recette", "cuisine", "football", "match", "score", "horoscope", "blague", "wifi", "mot de passe",
    "impots", "impot", "declaration de revenus", "poeme", "quel temps", "bourse de paris", "bitcoin", "crypto", "film", "serie", "musique",
    "diagnostic", "symptome", "ordonnance", "medicament", "voyage touristique", "vacances", "restaurant ouvert",
    "pizza", "programme tele", "loto", "jeu video", "capitale", "president", "elections",
)
