"""One Adaptive Card per structure: name, network, why, contacts as buttons (call, write, website), hours, where
each field comes from and how old it is; a network's national way in is labelled as such. Under it, three actions:
copy the contact, report it as wrong, say the structure is off the point (both reports through the widget's
feedback path, `api.feedback.record_feedback`).

Teams has no clipboard action for bots. "Copier" opens (Action.ShowCard) the contact as plain text in a
multi-line text field: the text of a field can be selected and copied in every Teams client (Ctrl+A, Ctrl+C; a long
press on a phone), which is not true of a card's TextBlocks everywhere, nor of its CodeBlock (no copy button and
no selection in Teams' cards: microsoft/teams.ts#234; not rendered on phones). The field belongs to no form: no
button sends it."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import date
from typing import Literal

from microsoft_teams.cards import (
    Action,
    ActionSet,
    AdaptiveCard,
    CardElement,
    Choice,
    ChoiceSetInput,
    Container,
    Fact,
    FactSet,
    OpenUrlAction,
    ShowCardAction,
    SubmitAction,
    TeamsCardProperties,
    TextBlock,
    TextInput,
)

from api.curation.store import Referent
from api.teams import messages
from assistant.referral import ContactInfo, Provenance, StructureResult
from knowledge.model import Network

MAX_CONTACTS = 3
# The reason of a report, as the widget's form takes it (api/schemas.py keeps REASON_MAX of it).
REASON_INPUT_MAX = 1000
# What a card's Action.Submit sends back (`value` of the message activity), read by api/teams/forms.py.
ACTION_KEY = "spro"
ReportKind = Literal["contact_errone", "non_pertinent"]
REPORT_TITLES: dict[ReportKind, str] = {
    "contact_errone": messages.REPORT_CONTACT,
    "non_pertinent": messages.REPORT_IRRELEVANT,
}
_NOT_DIALLED = re.compile(r"[^\d+]")
_NOT_WORD = re.compile(r"[^\w]+")


def structure_card(
    result: StructureResult, network: Network | None, turn: int, referents: Sequence[Referent] = ()
) -> AdaptiveCard:
    """`turn` is the conversation turn that showed the card: a report names it, as the widget's does;
    `referents`: the named referents of the site (added by its structure, with their consent)."""
    body: list[CardElement] = [TextBlock(text=result.name, weight="Bolder", size="Medium", wrap=True)]
    network_name = network_label(result, network)
    if network_name is not None:
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
    for referent in referents:
        body.append(TextBlock(text=referent_text(referent), wrap=True, spacing="Medium"))
    if result.freshness is not None:
        body.append(TextBlock(text=_capital(result.freshness.text) + ".", wrap=True, size="Small", is_subtle=True))
    actions: list[Action] = [_copy_action(result, network, referents)]
    if result.contacts:
        actions.append(_report_action("contact_errone", result, turn))
    actions.append(_report_action("non_pertinent", result, turn))
    return AdaptiveCard(version="1.5", body=body, actions=actions, msteams=TeamsCardProperties(width="full"))


def referent_text(referent: Referent) -> str:
    """"Référent·e : Camille Martin, chargée de relations entreprises — pour : RQTH — 04 79 … — c.martin@…"."""
    parts = [f"{messages.REFERENT}{referent.name}, {referent.role}"]
    if referent.topics:
        parts.append(f"{messages.REFERENT_FOR}{referent.topics}")
    parts.extend(p for p in (referent.phone, referent.email) if p)
    return " — ".join(parts)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _copy_action(
    result: StructureResult, network: Network | None, referents: Sequence[Referent] = ()
) -> ShowCardAction:
    text = "\n".join(contact_lines(result, network, referents))
    field = TextInput(id="copy", label=messages.COPY_LABEL, value=text, is_multiline=True)
    shown = AdaptiveCard(body=[field, TextBlock(text=messages.COPY_HINT, wrap=True, size="Small", is_subtle=True)])
    return ShowCardAction(title=messages.COPY, card=shown)


def _report_action(kind: ReportKind, result: StructureResult, turn: int) -> ShowCardAction:
    reason = TextInput(
        id=f"reason_{kind}", label=messages.REPORT_REASON, is_multiline=True, max_length=REASON_INPUT_MAX
    )
    send = SubmitAction(
        title=messages.REPORT_SEND,
        data={ACTION_KEY: "report", "kind": kind, "structure": result.id, "turn": turn},
    )
    body: list[CardElement] = [reason]
    if kind == "contact_errone":
        # The field goes with the report to the editors' queue of the site's network.
        field = ChoiceSetInput(
            id=f"field_{kind}",
            label=messages.REPORT_FIELD,
            style="compact",
            placeholder=messages.REPORT_FIELD_UNKNOWN,
            choices=[Choice(title=label, value=code) for code, label in messages.REPORT_FIELDS.items()],
        )
        body = [field, reason]
    return ShowCardAction(title=REPORT_TITLES[kind], card=AdaptiveCard(body=body, actions=[send]))


def contact_lines(result: StructureResult, network: Network | None, referents: Sequence[Referent] = ()) -> list[str]:
    """The card's contacts as plain lines, as the widget's "Copier" writes them (blank lines between contacts)."""
    lines = [result.name]
    network_name = network_label(result, network)
    if network_name is not None:
        lines.append(network_name)
    for contact in result.contacts[:MAX_CONTACTS]:
        national = contact.kind == "national"
        lines.append("")
        if national:
            lines.extend((messages.NATIONAL, contact.label))
        elif contact.label != result.name:
            lines.append(contact.label)
        lines.extend(f"{title} : {value}" for title, value in _shown(contact))
        if contact.url:
            lines.append(f"{_website_title(contact, network)} : {contact.url}")
        if contact.stale:
            lines.append(messages.STALE)
        lines.append(provenance_text(contact))
    if not result.contacts and network is not None and network.website:
        lines.extend(("", f"{messages.NETWORK_WEBSITE} : {network.website}"))
    for referent in referents:
        lines.extend(("", referent_text(referent)))
    if result.freshness is not None:
        lines.extend(("", _capital(result.freshness.text) + "."))
    return lines


def network_label(result: StructureResult, network: Network | None) -> str | None:
    """The network's name to show under the structure's, unless the structure's says it already (a network-level
    result is named after its network; "CIO" is in "Centre d'information et d'orientation (CIO) - Vienne")."""
    if network is None:
        return None if repeats(result.name, result.network) else result.network
    if repeats(result.name, network.name) or repeats(result.name, network.short_name):
        return None
    return network.name


def repeats(name: str, network_name: str) -> bool:
    """The network's name adds nothing beside the structure's when it is in it already: "France Travail" beside
    "France Travail", "Mission Locale" beside "Mission Locale de Lyon" (compared without case or accents)."""
    folded_name, folded_network = _fold(name), _fold(network_name)
    return not folded_network or f" {folded_network} " in f" {folded_name} "


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(_NOT_WORD.sub(" ", plain).split())


def _contact(contact: ContactInfo, same_name: bool, network: Network | None) -> Container:
    national = contact.kind == "national"
    items: list[CardElement] = []
    if national:
        # Never to be taken for a local site: named, then the network's own wording of what it is.
        items.append(TextBlock(text=messages.NATIONAL, weight="Bolder", color="Accent", wrap=True))
        items.append(TextBlock(text=contact.label, wrap=True, spacing="None"))
    elif not same_name:
        items.append(TextBlock(text=contact.label, weight="Bolder", wrap=True))
    facts = [Fact(title=title, value=value) for title, value in _shown(contact)]
    if facts:
        items.append(FactSet(facts=facts))
    buttons: list[Action] = [
        OpenUrlAction(title=title, url=url)
        for title, url in (
            (messages.CALL, tel_uri(contact.phone)),
            (messages.WRITE, f"mailto:{contact.email}" if contact.email else None),
            (_website_title(contact, network), contact.url),
        )
        if url
    ]
    if buttons:
        items.append(ActionSet(actions=buttons))
    if contact.stale:
        items.append(TextBlock(text=messages.STALE, color="Warning", weight="Bolder", size="Small", wrap=True))
    items.append(TextBlock(text=provenance_text(contact), size="Small", is_subtle=True, wrap=True, spacing="Small"))
    return Container(items=items, separator=True, spacing="Medium", style="emphasis" if national else None)


def _shown(contact: ContactInfo) -> list[tuple[str, str]]:
    """The contact's facts that have a value: address, phone (with its note), e-mail, hours."""
    place = " ".join(p for p in (contact.address, contact.commune) if p)
    phone = (
        messages.PHONE_WITH_NOTE.format(phone=contact.phone, note=contact.phone_note)
        if contact.phone and contact.phone_note
        else contact.phone
    )
    national = contact.kind == "national"
    shown = (
        (messages.ADDRESS, place),
        (messages.NATIONAL_PHONE if national else messages.PHONE, phone),
        (messages.EMAIL, contact.email),
        (messages.HOURS, " · ".join(contact.hours)),
    )
    return [(title, value) for title, value in shown if value]


def _website_title(contact: ContactInfo, network: Network | None) -> str:
    if contact.kind != "national":
        return messages.WEBSITE
    locator = network.national.locator_url if network and network.national else None
    return messages.NETWORK_LOCATOR if contact.url and contact.url == locator else messages.NETWORK_WEBSITE


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


def as_of_text(iso: str, *, capital: bool = False) -> str:
    """2019-10-22 -> « à jour au 22/10/2019 »; 2026-01-01 (data dated to the month) -> « à jour en 01/2026 »;
    `capital` for the start of a sentence (the citation pop-up)."""
    try:
        day = date.fromisoformat(iso[:10])
    except ValueError:
        text = messages.UP_TO_OTHER.format(date=iso)
    else:
        month = day.day == 1
        text = (
            messages.UP_TO_MONTH.format(month=day.strftime("%m/%Y"))
            if month
            else messages.UP_TO_DAY.format(date=day.strftime("%d/%m/%Y"))
        )
    return text[:1].upper() + text[1:] if capital else text


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

