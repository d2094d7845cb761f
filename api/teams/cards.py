"""One Adaptive Card per structure: name, network, why, contacts as buttons (call, write, website), hours, where
each field comes from and how old it is; a network's national way in is labelled as such."""

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
from assistant.referral import ContactInfo, Provenance, StructureResult
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
        body.append(_contact(contact, same_name=contact.label == result.name, network=network))
    if not result.contacts:
        if network is not None and network.website:
            website: list[Action] = [OpenUrlAction(title=messages.NETWORK_WEBSITE, url=network.website)]
            body.append(ActionSet(actions=website))
        if result.excerpts:
            body.append(_source_line(result.excerpts[0].source_title, None))
    return AdaptiveCard(version="1.5", body=body, msteams=TeamsCardProperties(width="full"))


def _contact(contact: ContactInfo, same_name: bool, network: Network | None) -> Container:
    national = contact.kind == "national"
    items: list[CardElement] = []
    if national:
        # Never to be taken for a local site: named, then the network's own wording of what it is.
        items.append(TextBlock(text=messages.NATIONAL, weight="Bolder", color="Accent", wrap=True))
        items.append(TextBlock(text=contact.label, wrap=True, spacing="None"))
    elif not same_name:
        items.append(TextBlock(text=contact.label, weight="Bolder", wrap=True))
    place = " ".join(p for p in (contact.address, contact.commune) if p)
    phone = (
        messages.PHONE_WITH_NOTE.format(phone=contact.phone, note=contact.phone_note)
        if contact.phone and contact.phone_note
        else contact.phone
    )
    shown = (
        (messages.ADDRESS, place),
        (messages.NATIONAL_PHONE if national else messages.PHONE, phone),
        (messages.EMAIL, contact.email),
        (messages.HOURS, " · ".join(contact.hours)),
    )
    facts = [Fact(title=title, value=value) for title, value in shown if value]
    if facts:
        items.append(FactSet(facts=facts))
    website = messages.WEBSITE
    if national:
        locator = network.national.locator_url if network and network.national else None
        website = messages.NETWORK_LOCATOR if contact.url and contact.url == locator else messages.NETWORK_WEBSITE
    buttons: list[Action] = [
        OpenUrlAction(title=title, url=url)
        for title, url in (
            (messages.CALL, tel_uri(contact.phone)),
            (messages.WRITE, f"mailto:{contact.email}" if contact.email else None),
            (website, contact.url),
        )
        if url
    ]
    if buttons:
        items.append(ActionSet(actions=buttons))
    if contact.stale:
        items.append(TextBlock(text=messages.STALE, color="Warning", weight="Bolder", size="Small", wrap=True))
    items.append(TextBlock(text=provenance_text(contact), size="Small", is_subtle=True, wrap=True, spacing="Small"))
    return Container(items=items, separator=True, spacing="Medium", style="emphasis" if national else None)


def _source_line(source: str, as_of: str | None) -> TextBlock:
    text = (
        messages.SOURCE_DATED.format(source=source, as_of=as_of_text(as_of))
        if as_of
        else messages.SOURCE.format(source=source)
    )
    return TextBlock(text=text, size="Small", is_subtle=True, wrap=True, spacing="Small")


def provenance_text(contact: ContactInfo) -> str:
    """« Source : téléphone, courriel — Service-Public.fr / DILA, à jour au 22/10/2019 ; adresse — UNML, … »."""
    lines = contact.provenance or (Provenance((), contact.source, contact.as_of),)
    return messages.SOURCE.format(source=" ; ".join(provenance_line(p) for p in lines))


def provenance_line(provenance: Provenance) -> str:
    """One source of a contact: the fields it gave (if not all of them), its producer, its date."""
    text = (
        messages.FIELDS_FROM.format(fields=", ".join(provenance.fields), source=provenance.source)
        if provenance.fields
        else provenance.source
    )
    return f"{text}, {as_of_text(provenance.as_of)}" if provenance.as_of else text


def as_of_text(iso: str) -> str:
    """2019-10-22 -> « à jour au 22/10/2019 »; 2026-01-01 (data dated to the month) -> « à jour en 01/2026 »."""
    try:
        day = date.fromisoformat(iso[:10])
    except ValueError:
        return messages.UP_TO_DAY.format(date=iso)
    if day.day == 1:
        return messages.UP_TO_MONTH.format(month=day.strftime("%m/%Y"))
    return messages.UP_TO_DAY.format(date=day.strftime("%d/%m/%Y"))


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
