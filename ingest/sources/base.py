"""What every loader returns: records, the sources they cite, and the problems met (file and line)."""

from __future__ import annotations

from dataclasses import dataclass, field

from knowledge.model import Dispositif, Document, Network, Source, Structure


@dataclass(frozen=True)
class Problem:
    """A piece of input that was skipped, with where it stands, so an admin can fix it."""

    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        return f"{where}: {self.message}"


@dataclass
class Loaded:
    """Records from one or more sources; loaders never raise on bad input, they report it."""

    networks: list[Network] = field(default_factory=list)
    dispositifs: list[Dispositif] = field(default_factory=list)
    structures: list[Structure] = field(default_factory=list)
    documents: list[Document] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def add_row_structure(self, structure: Structure, seen: set[str], path: str, line: int, row_id: object) -> bool:
        """Keep a structure read from one row of a file, unless an earlier row gave the same id (reported)."""
        if structure.id in seen:
            self.problems.append(Problem(path, line, f"identifiant en double « {row_id} »"))
            return False
        seen.add(structure.id)
        self.structures.append(structure)
        return True

    def extend(self, other: Loaded) -> None:
        self.networks.extend(other.networks)
        self.dispositifs.extend(other.dispositifs)
        self.structures.extend(other.structures)
        self.documents.extend(other.documents)
        self.sources.extend(other.sources)
        self.problems.extend(other.problems)
