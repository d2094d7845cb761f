"""A commune named by a client (INSEE code or name), resolved or refused with a French message."""

from __future__ import annotations

from api import messages
from api.errors import ApiError, ErrorCode
from knowledge.territory import Commune, Territory


def commune_of(territory: Territory, text: str) -> Commune:
    """The one commune an INSEE code or a name designates; ApiError(unknown_commune) otherwise."""
    commune = territory.commune(text.strip())
    if commune is not None:
        return commune
    resolution = territory.resolve(text)
    if resolution.commune is not None:
        return resolution.commune
    if resolution.ambiguous:
        names = ", ".join(f"{c.name} ({c.department})" for c in resolution.communes[:5])
        raise ApiError(ErrorCode.AMBIGUOUS_COMMUNE, messages.AMBIGUOUS_COMMUNE.format(value=names))
    raise ApiError(ErrorCode.UNKNOWN_COMMUNE, messages.UNKNOWN_COMMUNE.format(value=text[:80]))
