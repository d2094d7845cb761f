"""One Adaptive Card per structure: name, network, why, contacts as buttons (call, write, website), source and date."""

from __future__ import annotations

import re
from datetime import date

from microsoft_teams.cards import (
    Action,
    ActionSet,
    AdaptiveCard,
    CardElement,
    Container,
    Fact,
    FactSet,
    OpenUrlAction,
    TeamsCardProperties,
    TextBlock,
)

from api.teams import messages
from assistant.referral import ContactInfo, StructureResult
from knowledge.model import Network

MAX_CONTACTS = 3
_NOT_DIALLED = re.compile(r"[^\d+]")


def structure_card(result: StructureResult, network: Network | None) -> AdaptiveCard:
    body: list[CardElement] = [TextBlock(text=result.name, weight="Bolder", size="Medium", wrap=True)]
    network_name = network.name if network else result.network
    if network_name != result.name:  # a network-level result is named after its network already
        body.append(TextBlock(text=network_name, is_subtle=True, spacing="None", wrap=True))
    if result.reasons:
        body.append(TextBlock(text=messages.WHY, weight="Bolder", spacing="Medium"))
        body.append(TextBlock(text="\n".join(f"- {reason}" for reason in result.reasons), wrap=True, spacing="Small"))
    for contact in result.contacts[:MAX_CONTACTS]:
        body.append(_contact(contact, same_name=contact.label == result.name))
    if not result.contacts:
        if network is not None and network.website:
            website: list[Action] = [OpenUrlAction(title=messages.NETWORK_WEBSITE, url=network.website)]
            body.append(ActionSet(actions=website))
        if result.excerpts:
            body.append(_source_line(result.excerpts[0].source_title, None))
    return AdaptiveCard(version="1.5", body=body, msteams=TeamsCardProperties(width="full"))


def _contact(contact: ContactInfo, same_name: bool) -> Container:
    items: list[CardElement] = []
    if not same_name:
        items.append(TextBlock(text=contact.label, weight="Bolder", wrap=True))
    place = " ".join(p for p in (contact.address, contact.commune) if p)
    shown = ((messages.ADDRESS, place), (messages.PHONE, contact.phone), (messages.EMAIL, contact.email))
    facts = [Fact(title=title, value=value) for title, value in shown if value]
    if facts:
        items.append(FactSet(facts=facts))
    buttons: list[Action] = [
        OpenUrlAction(title=title, url=url)
        for title, url in (
            (messages.CALL, tel_uri(contact.phone)),
            (messages.WRITE, f"mailto:{contact.email}" if contact.email else None),
            (messages.WEBSITE, contact.url),
        )
        if url
    ]
    if buttons:
        items.append(ActionSet(actions=buttons))
    items.append(_source_line(contact.source, contact.as_of))
    return Container(items=items, separator=True, spacing="Medium")


def _source_line(source: str, as_of: str | None) -> TextBlock:
    text = (
        messages.SOURCE_DATED.format(source=source, date=french_date(as_of))
        if as_of
        else messages.SOURCE.format(source=source)
    )
    return TextBlock(text=text, size="Small", is_subtle=True, wrap=True, spacing="Small")


def tel_uri(phone: str | None) -> str | None:
    """A dialable tel: URI (RFC 3966); French national numbers get the +33 prefix."""
    if not phone:
        return None
    digits = _NOT_DIALLED.sub("", phone)
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    elif len(digits) == 10 and digits.startswith("0"):
        digits = "+33" + digits[1:]
    return f"tel:{digits}" if len(digits.lstrip("+")) >= 3 else None


def french_date(iso: str | None) -> str:
    """2019-10-22 -> 22/10/2019; anything else is shown as it is."""
    if not iso:
        return ""
    try:
        return date.fromisoformat(iso[:10]).strftime("%d/%m/%Y")
    except ValueError:
        return iso
