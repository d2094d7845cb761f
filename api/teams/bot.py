"""The Teams bot on Microsoft's Teams SDK: the SDK checks the Bot Framework token and parses the activities;
a message goes through the widget's own turn (`api.conversation.converse`), a thumbs up or down and a card's
report ("Contact erroné", "Pas pertinent") into the widget's feedback store (`api.feedback.record_feedback`);
the app's install in a chat or a team gets one welcome card.

Imported only when the bot is configured: the SDK takes seconds to import and reads a .env file when it does.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import logging
import re
import unicodedata
import warnings
from functools import partial
from typing import Any

from microsoft_teams.common.experimental import ExperimentalWarning
from pydantic_core import PydanticCustomError
from starlette.concurrency import run_in_threadpool

with warnings.catch_warnings():
    # The SDK builds a preview (html widget) default at import time, which warns; nothing of ours uses it.
    warnings.simplefilter("ignore", ExperimentalWarning)
    from microsoft_teams.apps import ActivityContext, App, AppOptions
    from microsoft_teams.apps.http.adapter import HttpMethod, HttpRequest, HttpResponse, HttpRouteHandler

from microsoft_teams.api import ConversationUpdateActivity, InvokeResponse
from microsoft_teams.api.activities.install_update import InstalledActivity, UninstalledActivity
from microsoft_teams.api.activities.invoke.message import MessageSubmitActionInvokeActivity
from microsoft_teams.api.activities.message import MessageActivity, MessageActivityInput
from microsoft_teams.api.activities.typing import TypingActivityInput
from microsoft_teams.api.activities.utils import StripMentionsTextOptions, strip_mentions_text
from microsoft_teams.api.auth.cloud_environment import PUBLIC, with_overrides
from microsoft_teams.apps.auth import InboundActivityTokenValidator
from microsoft_teams.apps.events import ActivityEvent

from api.conversation import Exchange, converse
from api.errors import ApiError
from api.feedback import NETWORK_RESULT_PREFIX, record_feedback
from api.runtime import Served
from api.schemas import MESSAGE_MAX, REASON_MAX, clean_text
from api.services import Services
from api.store import Rating
from api.teams import messages, teams_configured
from api.teams.cards import REPORT_TITLES
from api.teams.compose import compose
from api.teams.forms import Refusal, Report, read_submission, welcome_card
from api.teams.keys import KeyRing, OffLoopTokenValidator
from api.teams.replies import ReplyLog, WelcomeLog
from api.teams.tokens import ConnectorTokens
from assistant.dialogue import ConversationState, TurnContext

log = logging.getLogger(__name__)

MESSAGING_ENDPOINT = "/api/messages"
CHANNEL = "teams"
_TAG = re.compile(r"<[^>]+>")
_NOT_WORD = re.compile(r"[^\w]+")


class HandlerAdapter:
    """The SDK's HttpServerAdapter seam: the SDK hands over its messaging handler (token check, then the
    activity through our handlers) and our FastAPI route calls it; no second app, no route of its own."""

    def __init__(self) -> None:
        self.handler: HttpRouteHandler | None = None

    def register_route(self, method: HttpMethod, path: str, handler: HttpRouteHandler) -> None:
        if path == MESSAGING_ENDPOINT:
            self.handler = handler

    def serve_static(self, path: str, directory: str) -> None:
        raise NotImplementedError("the Teams face serves no static page")

    async def start(self, port: int) -> None:
        raise NotImplementedError("the API's own server runs the bot")

    async def stop(self) -> None:
        return None


class TeamsBot:
    """Built at start-up (`start`), closed at shutdown (`close`); `handle` answers one POST /api/messages."""

    def __init__(self, services: Services) -> None:
        # The SDK builds its own deprecated bot client inside every API client, once per activity; the
        # deprecation is the SDK's to fix, and would flood the logs (and fail strict test runs).
        warnings.filterwarnings(
            "ignore", message="The bot client is deprecated", category=DeprecationWarning, module=r"microsoft_teams\."
        )
        settings = services.settings
        self._services = services
        self._replies = ReplyLog(services.store)
        self._welcomes = WelcomeLog(services.store)
        self._adapter = HandlerAdapter()
        self._keys = KeyRing(
            timeout=settings.teams_keys_timeout,
            ttl=settings.teams_keys_ttl,
            retry_interval=settings.teams_keys_retry_interval,
        )
        app_id, secret = settings.teams_app_id, settings.teams_app_secret
        authenticated = teams_configured(settings)
        self._app_id = app_id if authenticated else None
        self._cloud = with_overrides(
            PUBLIC,
            openid_metadata_url=settings.teams_openid_metadata_url,
            login_endpoint=settings.teams_login_endpoint,
        )
        options: AppOptions = {
            "http_server_adapter": self._adapter,
            "messaging_endpoint": MESSAGING_ENDPOINT,
            "cloud": self._cloud,
            # Explicit, so the SDK's own environment switch (DANGEROUSLY_ALLOW_...) cannot turn checks off.
            "dangerously_allow_unauthenticated_requests": not authenticated,
            "state": False,
            "fetch_user_token": False,
        }
        if authenticated and app_id is not None and secret is not None:
            options["client_id"] = app_id
            options["tenant_id"] = settings.teams_tenant_id
            options["token"] = ConnectorTokens(app_id, secret, settings.teams_tenant_id, settings.teams_login_endpoint)
        self._app = App(**options)
        self._app.on_message(self._on_message)
        self._app.on_message_submit_feedback(self._on_feedback)
        self._app.on_install_add(self._on_install)
        self._app.on_install_remove(self._on_uninstall)
        self._app.on_conversation_update(self._on_conversation_update)

    async def start(self) -> None:
        await self._app.initialize()
        server = self._app.server
        if self._app_id is not None:
            # The SDK's validator, with the key source swapped for one that never blocks the event loop.
            if not isinstance(server._token_validator, InboundActivityTokenValidator):
                raise RuntimeError("the Teams SDK no longer checks tokens where expected: Teams bot not started")
            server._token_validator = OffLoopTokenValidator(self._app_id, self._cloud, self._keys)
        process = server.on_request
        if process is None:
            raise RuntimeError("the Teams SDK registered no activity handler")
        limiter = self._services.limiter

        async def within_limit(event: ActivityEvent) -> InvokeResponse[Any]:
            # Reached only once the token is validated: a forger cannot spend somebody else's allowance.
            wait = await limiter.take(sender_key(event.body.model_extra or {}))
            if wait > 0:
                return InvokeResponse(status=429, body={"retry_after": wait})
            return await process(event)

        server.on_request = within_limit

    async def close(self) -> None:
        await self._app.http_client.http.aclose()
        await self._app.api.http.http.aclose()
        await self._keys.aclose()

    async def handle(self, body: dict[str, Any], headers: dict[str, str]) -> HttpResponse:
        if self._adapter.handler is None:
            raise RuntimeError("the Teams bot was not started")
        return await self._adapter.handler(HttpRequest(body=body, headers=headers))

    # --- activities ----------------------------------------------------------------------------------------

    async def _on_message(self, ctx: ActivityContext[MessageActivity]) -> None:
        activity = ctx.activity
        key = conversation_key(activity.conversation.id)
        submitted = read_submission(activity.value)
        if submitted is not None:
            # A card's Action.Submit: the person clicked on our card, so in channels too, with no @mention.
            if isinstance(submitted, Refusal):
                await ctx.send(submitted.message)
            elif isinstance(submitted, Report):
                await self._report(ctx, key, submitted)
            else:
                await self._answer(ctx, key, submitted.text, submitted.remove)
            return
        if activity.conversation.conversation_type not in (None, "personal") and not activity.is_recipient_mentioned():
            return  # in channels and group chats, only what is addressed to the bot
        text = read_text(activity)
        if not text:
            await ctx.send(messages.EMPTY_MESSAGE)
            return
        if is_reset(text):
            await run_in_threadpool(self._services.store.delete_conversation, key)
            await ctx.send(messages.NEW_CASE)
            return
        await self._answer(ctx, key, text)

    async def _answer(
        self, ctx: ActivityContext[MessageActivity], key: str, text: str, remove: tuple[str, ...] = ()
    ) -> None:
        """One turn of the conversation, sent as one message (answer, structure cards, case card); `remove`: need
        or flag codes a correction takes off the case."""
        if len(text) > MESSAGE_MAX:
            await ctx.send(messages.TOO_LONG.format(max=MESSAGE_MAX))
            return
        try:
            served = self._services.served()
        except ApiError:
            await ctx.send(messages.INDEX_UNAVAILABLE)
            return
        await ctx.send(TypingActivityInput())
        exchange = await run_in_threadpool(self._converse, served, key, text, remove)
        referents = await run_in_threadpool(
            self._services.curation.rooms.referents, [s.id for s in exchange.referral.structures]
        )
        reply = compose(exchange.referral, served.runtime.index.networks, exchange.turn, referents)
        sent = await ctx.send(reply)
        if sent.id:
            await run_in_threadpool(self._replies.remember, key, sent.id, exchange.turn)

    async def _report(self, ctx: ActivityContext[MessageActivity], key: str, report: Report) -> None:
        """A card's "Contact erroné" or "Pas pertinent": the widget's report, through the same function."""
        served = self._services.slot.current
        record = partial(
            record_feedback,
            self._services.store,
            served,
            conversation_id=key,
            turn=report.turn,
            rating="down",
            kind=report.kind,
            reason=reason_text(report.reason),
            structure_id=report.structure_id,
            channel=CHANNEL,
        )
        try:
            item = await run_in_threadpool(record)
        except ApiError as exc:
            log.warning("Teams report refused: %s", exc.code)
            await ctx.send(messages.REPORT_REFUSED.format(detail=exc.detail))
            return
        if report.field is not None:
            await run_in_threadpool(self._services.curation.rooms.note_report_field, item.id, report.field)
        name = structure_name(served, report.structure_id)
        await ctx.send(messages.REPORT_THANKS.format(kind=REPORT_TITLES[report.kind], name=name))

    def _converse(self, served: Served, key: str, text: str, remove: tuple[str, ...]) -> Exchange:
        store = self._services.store
        if store.load(key) is None:
            # `converse` keeps only ids the store knows (it issues a new one otherwise): open this chat's first.
            store.save(key, ConversationState())
        return converse(served, store, text, key, TurnContext(remove=remove) if remove else None)

    async def _on_feedback(self, ctx: ActivityContext[MessageSubmitActionInvokeActivity]) -> None:
        activity = ctx.activity
        key = conversation_key(activity.conversation.id)
        reply_to = activity.reply_to_id
        answer = await run_in_threadpool(self._replies.find, key, reply_to) if reply_to else None
        if answer is None:
            log.warning("Teams feedback on an answer this server did not send (or sent over 30 days ago)")
            return
        value = activity.value.action_value
        rating: Rating = "up" if value.reaction == "like" else "down"
        record = partial(
            record_feedback,
            self._services.store,
            self._services.slot.current,
            conversation_id=answer.conversation_id,
            turn=answer.turn,
            rating=rating,
            reason=feedback_text(value.feedback),
            channel=CHANNEL,
        )
        try:
            await run_in_threadpool(record)
        except ApiError as exc:
            log.warning("Teams feedback refused: %s", exc.code)

    # --- install: one welcome card per install of the app in a conversation ------------------------------

    async def _on_install(self, ctx: ActivityContext[InstalledActivity]) -> None:
        await self._welcome(ctx, ctx.activity.conversation.id)

    async def _on_uninstall(self, ctx: ActivityContext[UninstalledActivity]) -> None:
        await run_in_threadpool(self._welcomes.forget, conversation_key(ctx.activity.conversation.id))

    async def _on_conversation_update(self, ctx: ActivityContext[ConversationUpdateActivity]) -> None:
        activity = ctx.activity
        bot = activity.recipient.id
        if any(member.id == bot for member in activity.members_added or ()):
            await self._welcome(ctx, activity.conversation.id)
        elif any(member.id == bot for member in activity.members_removed or ()):
            await run_in_threadpool(self._welcomes.forget, conversation_key(activity.conversation.id))
        # Other members joining or leaving: nothing to say.

    async def _welcome(self, ctx: ActivityContext[Any], conversation_id: str) -> None:
        # Teams announces one install twice (installationUpdate, conversationUpdate): the first to claim it sends.
        key = conversation_key(conversation_id)
        if not await run_in_threadpool(self._welcomes.claim, key):
            return
        try:
            await ctx.send(MessageActivityInput().add_card(welcome_card()))
        except Exception:
            await run_in_threadpool(self._welcomes.forget, key)  # not sent: the next announcement may try again
            raise


def conversation_key(conversation_id: str) -> str:
    """The store's id for a Teams conversation (globally unique in Teams): store ids are 64 characters of
    [A-Za-z0-9_-] at most, Teams' are longer and hold ':', ';' and '@'; a digest also keeps Teams identifiers
    out of the database."""
    digest = hashlib.sha256(conversation_id.encode()).digest()
    return "teams-" + base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sender_key(activity: dict[str, Any]) -> str:
    """The rate-limit key of a Teams activity: its sender (Entra object id, else Teams id), else its
    conversation; never the relay address, which every Teams user shares."""
    sender = activity.get("from")
    if isinstance(sender, dict):
        for field in ("aadObjectId", "id"):
            value = sender.get(field)
            if isinstance(value, str) and value:
                return f"teams-user:{value}"
    conversation = activity.get("conversation")
    if isinstance(conversation, dict) and isinstance(conversation.get("id"), str):
        return f"teams-conversation:{conversation['id']}"
    return "teams-unknown"


def structure_name(served: Served | None, result_id: str) -> str:
    """What the counsellor saw on the card: a site's name, or its network's for a network-level result."""
    index = served.runtime.index if served is not None else None
    if index is not None:
        if result_id in index.structures:
            return index.structures[result_id].name
        network = index.networks.get(result_id.removeprefix(NETWORK_RESULT_PREFIX))
        if network is not None:
            return network.name
    return result_id


def reason_text(raw: str | None) -> str | None:
    """A report's reason as the widget's route takes it: cleaned text, REASON_MAX characters at most."""
    if raw is None:
        return None
    try:
        return clean_text(raw)[:REASON_MAX] or None
    except PydanticCustomError:
        return None


def read_text(activity: MessageActivity) -> str:
    """The counsellor's words: the bot's @mention removed, other mentions reduced to names, HTML undone."""
    text = strip_mentions_text(activity, StripMentionsTextOptions(account_id=activity.recipient.id)) or ""
    text = html.unescape(_TAG.sub(" ", text))
    try:
        return clean_text(text)
    except PydanticCustomError:
        return ""


def is_reset(text: str) -> bool:
    folded = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return " ".join(_NOT_WORD.sub(" ", folded).split()) in messages.RESET_COMMANDS


def feedback_text(raw: str) -> str | None:
    """Teams sends the form as a JSON string, `{"feedbackText": "..."}`; older clients send the text itself."""
    try:
        parsed = json.loads(raw)
    except ValueError:
        parsed = raw
    text = parsed.get("feedbackText", "") if isinstance(parsed, dict) else parsed
    if not isinstance(text, str):
        return None
    try:
        return clean_text(text)[:REASON_MAX]
    except PydanticCustomError:
        return None

