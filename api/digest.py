"""The "Quoi de neuf" faces: the digest of a period as e-mail-ready HTML and plain text, the Atom feed, and the
SMTP sending (a setting; nothing is sent by default)."""

from __future__ import annotations

import email.policy
import smtplib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from feedgen.feed import FeedGenerator
from jinja2 import Environment, FileSystemLoader, select_autoescape

from api import messages
from knowledge.changes import ChangeSet, Digest, Entry
from knowledge.referentials import DEPARTMENTS
from knowledge.settings import Settings

TEMPLATES = Path(__file__).parent / "templates"
FEED_ENTRIES = 50
# Headers up to RFC 5322's 998 characters: folding would encode a long List-Unsubscribe URL and break it.
HEADERS_POLICY = email.policy.default.clone(max_line_length=998)


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["french_date"] = lambda d: d.strftime("%d/%m/%Y")
    return env


def link(public_url: str, entry: Entry) -> str:
    """The guide page of what changed: the sheet's page, or the guide of the site's department."""
    base = public_url.rstrip("/")
    if entry.kind == "network":
        return f"{base}/annuaire/reseau/{entry.record_id}"
    if entry.kind == "dispositif":
        return f"{base}/annuaire/dispositif/{entry.record_id}"
    return f"{base}/annuaire/{entry.departments[0]}" if entry.departments else f"{base}/annuaire"


def render(
    digest: Digest, network_names: Mapping[str, str], public_url: str, unsubscribe: str | None = None
) -> Rendered:
    """The digest as an e-mail: a subject, a plain-text part and an HTML part with the same content and links."""
    context = {
        "digest": digest,
        "names": network_names,
        "departments": DEPARTMENTS,
        "labels": messages.CHANGE_LABELS,
        "fields": messages.CHANGE_FIELD_LABELS,
        "link": lambda entry: link(public_url, entry),
        "guide": public_url.rstrip("/") + "/annuaire",
        "empty_text": messages.DIGEST_EMPTY,
        "unsubscribe": unsubscribe,
        "subscribe": public_url.rstrip("/") + "/abonnements",
        "feed": public_url.rstrip("/") + "/nouveautes.atom",
    }
    env = environment()
    subject = messages.digest_subject(digest.since, digest.until, digest.empty)
    return Rendered(
        subject=subject,
        text=env.get_template("digest.txt").render(subject=subject, **context),
        html=env.get_template("digest.html").render(subject=subject, **context),
    )


def atom(changesets: Sequence[ChangeSet], network_names: Mapping[str, str], public_url: str) -> bytes:
    """One feed entry per published version that changed something, newest first, each linking to the guide."""
    base = public_url.rstrip("/")
    feed = FeedGenerator()
    feed.id(f"{base}/nouveautes")
    feed.title(messages.FEED_TITLE)
    feed.subtitle(messages.FEED_SUBTITLE)
    feed.link(href=f"{base}/nouveautes.atom", rel="self")
    feed.link(href=f"{base}/nouveautes", rel="alternate")
    feed.language("fr")
    changed = [c for c in changesets if c.entries][-FEED_ENTRIES:]
    updated = max((c.published_at for c in changed), default=None)
    if updated is not None:
        feed.updated(updated)
    for changes in changed:  # feedgen lists the entries it was given last first
        item = feed.add_entry()
        item.id(f"{base}/nouveautes#{changes.version}")
        item.title(messages.feed_entry_title(changes.published_at, len(changes.entries)))
        item.published(changes.published_at)
        item.updated(changes.published_at)
        item.link(href=f"{base}/nouveautes#{changes.version}")
        lines = [
            f"{messages.CHANGE_LABELS[e.change]} : {e.title} ({network_names.get(e.networks[0], e.networks[0])})"
            if e.networks else f"{messages.CHANGE_LABELS[e.change]} : {e.title}"
            for e in changes.entries
        ]
        item.content("\n".join(lines), type="text")
    return bytes(feed.atom_str(pretty=True))


@dataclass(frozen=True)
class Outgoing:
    """One message for one recipient; with an unsubscribe link, the RFC 8058 one-click headers go with it."""

    recipient: str
    rendered: Rendered
    unsubscribe_url: str | None = None


def send(rendered: Rendered, settings: Settings, recipients: Sequence[str], now: datetime) -> int:
    """Send one rendered message to each recipient (no address disclosed to the others); returns the number
    sent. Refuses when no SMTP server is configured."""
    return deliver([Outgoing(r, rendered) for r in recipients], settings, now)


def deliver(outgoing: Sequence[Outgoing], settings: Settings, now: datetime) -> int:
    """Send each message over one SMTP session; refuses when no SMTP server is configured."""
    if settings.smtp_host is None:
        raise MailUnavailable("no SMTP server configured (SPRO_SMTP_HOST)")
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_user and settings.smtp_password is not None:
            smtp.login(settings.smtp_user, settings.smtp_password.get_secret_value())
        for item in outgoing:
            message = EmailMessage(policy=HEADERS_POLICY)
            message["Subject"] = item.rendered.subject
            message["From"] = settings.digest_sender
            message["To"] = item.recipient
            message["Date"] = format_datetime(now)
            if item.unsubscribe_url:
                message["List-Unsubscribe"] = f"<{item.unsubscribe_url}>"
                message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
            message.set_content(item.rendered.text)
            message.add_alternative(item.rendered.html, subtype="html")
            smtp.send_message(message)
    return len(outgoing)


class MailUnavailable(RuntimeError):
    """No SMTP server is configured: nothing can be sent."""


def confirmation(public_url: str, token: str) -> Rendered:
    """The message that asks the address's owner to confirm the subscription."""
    base = public_url.rstrip("/")
    context = {"confirm": f"{base}/abonnements/confirmer?jeton={token}", "guide": f"{base}/annuaire"}
    env = environment()
    return Rendered(
        subject=messages.CONFIRM_SUBJECT,
        text=env.get_template("confirm.txt").render(**context),
        html=env.get_template("confirm.html").render(**context),
    )


def unsubscribe_url(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/abonnements/desinscrire?jeton={token}"
