"""The Adaptive Cards that ask, and what they send back: the welcome card, the understood case with the question
that matters most (an Input.ChoiceSet) and its "Corriger la situation" form, and the reading of a card's
Action.Submit.

An Action.Submit comes back as a message activity of the same conversation, without text, its `value` holding
the action's data and the card's inputs (in channels too, where it is not an @mention). The place answer becomes
the counsellor's message; a correction is said in the words of the widget's chip editors ("la personne a 22 ans",
"elle cherche aussi : VAE", "à Lyon"), which the assistant's turn() reads like any message, and a need or flag
unticked is taken off the case the widget's way too ("retirer de la situation : …" with its code in
`TurnContext.remove`): both faces correct a case the same way. Only what the counsellor changed is said.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
    NumberInput,
    ShowCardAction,
    SubmitAction,
    TeamsCardProperties,
    TextBlock,
    TextInput,
)

from api.teams import messages
from api.teams.cards import ACTION_KEY, REASON_INPUT_MAX, REPORT_TITLES, ReportKind
from assistant.referral import Clarification, Understood
from knowledge.referentials import DEPARTMENTS, FLAG_LABELS, NEED_LABELS, STATUS_LABELS

AGE_MAX = 120
PLACE_MAX = 100
# Teams sends the ids of a multi-select ChoiceSet joined by commas.
_MULTI_SEPARATOR = ","


def welcome_card() -> AdaptiveCard:
    body: list[CardElement] = [
        TextBlock(text=messages.WELCOME_TITLE, weight="Bolder", size="Large", wrap=True),
        TextBlock(text=messages.WELCOME_WHAT, wrap=True),
        TextBlock(text=messages.WELCOME_HOW, wrap=True),
        TextBlock(text=f"« {messages.WELCOME_EXAMPLE} »", wrap=True, weight="Bolder", spacing="Small"),
        TextBlock(text=messages.WELCOME_PRIVACY, wrap=True),
        TextBlock(text=messages.WELCOME_RESET, wrap=True),
        TextBlock(text=messages.WELCOME_MENTION, wrap=True, is_subtle=True, size="Small"),
    ]
    return AdaptiveCard(version="1.5", body=body, msteams=TeamsCardProperties(width="full"))


def case_card(understood: Understood, clarification: Clarification | None) -> AdaptiveCard:
    """What was understood, the question's options as a compact list with its button, and the correction form."""
    body: list[CardElement] = [TextBlock(text=messages.UNDERSTOOD, weight="Bolder", wrap=True)]
    facts = [Fact(title=title, value=value) for title, value in understood_facts(understood)]
    body.append(FactSet(facts=facts) if facts else TextBlock(text=messages.NOTHING_UNDERSTOOD, wrap=True))
    if clarification is not None and clarification.options:
        choices = ChoiceSetInput(
            id="choice",
            label=messages.CHOICE_LABELS[clarification.slot],
            style="compact",
            placeholder=messages.CHOICE_PLACEHOLDER,
            is_required=True,
            error_message=messages.CHOICE_REQUIRED,
            choices=[Choice(title=option, value=option) for option in clarification.options],
        )
        send = SubmitAction(title=messages.CHOICE_SEND, data={ACTION_KEY: "choose", "slot": clarification.slot})
        body.append(Container(items=[choices], separator=True, spacing="Medium"))
        body.append(ActionSet(actions=[send]))  # beside the list it submits, not at the card's foot
    actions: list[Action] = [ShowCardAction(title=messages.CORRECT, card=correction_form(understood))]
    return AdaptiveCard(version="1.5", body=body, actions=actions, msteams=TeamsCardProperties(width="full"))


def understood_facts(understood: Understood) -> list[tuple[str, str]]:
    place = _place_text(understood)
    shown = (
        (messages.AGE, messages.AGE_VALUE.format(age=understood.age) if understood.age is not None else ""),
        (messages.STATUS, STATUS_LABELS.get(understood.status, understood.status) if understood.status else ""),
        (messages.NEEDS, ", ".join(NEED_LABELS.get(n, n) for n in understood.needs)),
        (messages.COMMUNE if understood.commune else messages.DEPARTMENT, place),
        (messages.FLAGS, ", ".join(FLAG_LABELS.get(f, f) for f in understood.flags)),
    )
    return [(title, value) for title, value in shown if value]


def _place_text(understood: Understood) -> str:
    if understood.commune is not None:
        return understood.commune.name
    if understood.department:
        return f"{DEPARTMENTS.get(understood.department, understood.department)} ({understood.department})"
    return ""


def correction_form(understood: Understood) -> AdaptiveCard:
    """The four slots prefilled with what was understood; the values shown travel with the button, so only
    what the counsellor changed is said (an old card cannot undo a newer answer's other slots)."""
    before = {
        "age": str(understood.age) if understood.age is not None else "",
        "status": understood.status or "",
        "needs": _MULTI_SEPARATOR.join(n for n in understood.needs if n in NEED_LABELS),
        "flags": _MULTI_SEPARATOR.join(f for f in understood.flags if f in FLAG_LABELS),
        "place": _place_text(understood),
    }
    body: list[CardElement] = [
        NumberInput(
            id="age",
            label=messages.CORRECT_AGE,
            min=0,
            max=AGE_MAX,
            value=understood.age,
            error_message=messages.CORRECT_AGE_INVALID,
        ),
        ChoiceSetInput(
            id="status",
            label=messages.CORRECT_STATUS,
            style="compact",
            placeholder=messages.CHOICE_PLACEHOLDER,
            value=before["status"] or None,
            choices=[Choice(title=label, value=code) for code, label in STATUS_LABELS.items()],
        ),
        ChoiceSetInput(
            id="needs",
            label=messages.CORRECT_NEEDS,
            style="compact",
            is_multi_select=True,
            placeholder=messages.CHOICE_PLACEHOLDER,
            value=before["needs"] or None,
            choices=[Choice(title=label, value=code) for code, label in NEED_LABELS.items()],
        ),
        TextInput(id="place", label=messages.CORRECT_PLACE, value=before["place"] or None, max_length=PLACE_MAX),
    ]
    if before["flags"]:
        # Only the flags understood, to untick: a flag is added by saying it, as in the widget.
        body.append(
            ChoiceSetInput(
                id="flags",
                label=messages.CORRECT_FLAGS,
                style="expanded",
                is_multi_select=True,
                value=before["flags"],
                choices=[Choice(title=FLAG_LABELS[f], value=f) for f in understood.flags if f in FLAG_LABELS],
            )
        )
    send = SubmitAction(title=messages.CORRECT_SEND, data={ACTION_KEY: "correct", "before": before})
    return AdaptiveCard(body=body, actions=[send])


# --- what a card sends back ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Say:
    """Words to run as the counsellor's message: a chosen option, or a correction (with the need or flag codes
    it takes off the case)."""

    text: str
    remove: tuple[str, ...] = ()


@dataclass(frozen=True)
class Report:
    kind: ReportKind
    structure_id: str
    turn: int
    reason: str | None
    field: str | None = None  # for a wrong contact: which information (phone, email...), if the card said


@dataclass(frozen=True)
class Refusal:
    """A submission we cannot act on; `message` says why, in French."""

    message: str


Submission = Say | Report | Refusal


def read_submission(value: Any) -> Submission | None:
    """A card's Action.Submit payload, checked (it comes from the client: anything may be in it); None when the
    value is not one of ours."""
    if not isinstance(value, dict) or not isinstance(value.get(ACTION_KEY), str):
        return None
    action = value[ACTION_KEY]
    if action == "choose":
        choice = value.get("choice")
        return Say(choice) if isinstance(choice, str) and choice.strip() else Refusal(messages.CHOICE_REQUIRED)
    if action == "report":
        return _report(value)
    if action == "correct":
        return _correction(value)
    return Refusal(messages.ACTION_UNKNOWN)


def _report(value: dict[str, Any]) -> Submission:
    kind, structure, turn = value.get("kind"), value.get("structure"), value.get("turn")
    if kind not in REPORT_TITLES or not isinstance(structure, str) or not structure:
        return Refusal(messages.ACTION_UNKNOWN)
    if not isinstance(turn, int) or isinstance(turn, bool) or turn < 1:
        return Refusal(messages.ACTION_UNKNOWN)
    reason = value.get(f"reason_{kind}")
    text = reason.strip() if isinstance(reason, str) else ""
    report_kind: ReportKind = "contact_errone" if kind == "contact_errone" else "non_pertinent"
    field = value.get(f"field_{kind}")
    named = field if isinstance(field, str) and field in messages.REPORT_FIELDS else None
    return Report(report_kind, structure[:200], turn, text[:REASON_INPUT_MAX] or None, named)


def _correction(value: dict[str, Any]) -> Submission:
    before = value.get("before")
    if not isinstance(before, dict):
        return Refusal(messages.ACTION_UNKNOWN)
    said: list[str] = []

    age = _text(value.get("age"))
    if age and age != _text(before.get("age")):
        try:
            years = int(float(age.replace(",", ".")))
        except ValueError:
            return Refusal(messages.CORRECT_AGE_INVALID)
        if not 0 <= years <= AGE_MAX:
            return Refusal(messages.CORRECT_AGE_INVALID)
        said.append(messages.SAY_AGE.format(age=years))

    status = _text(value.get("status"))
    if status and status != _text(before.get("status")):
        if status not in STATUS_LABELS:
            return Refusal(messages.ACTION_UNKNOWN)
        said.append(messages.SAY_STATUS.format(label=STATUS_LABELS[status]))

    needs, needs_before = _codes(value.get("needs")), _codes(before.get("needs"))
    if any(n not in NEED_LABELS for n in (*needs, *needs_before)):
        return Refusal(messages.ACTION_UNKNOWN)
    added = [n for n in needs if n not in needs_before]
    if added:
        said.append(messages.SAY_NEEDS_ADDED.format(labels=", ".join(NEED_LABELS[n] for n in added)))

    place = _text(value.get("place"))[:PLACE_MAX]
    if place and place.casefold() != _text(before.get("place")).casefold():
        said.append(messages.SAY_PLACE.format(place=place))

    flags, flags_before = _codes(value.get("flags")), _codes(before.get("flags"))
    if any(f not in FLAG_LABELS for f in (*flags, *flags_before)):
        return Refusal(messages.ACTION_UNKNOWN)
    removed = [n for n in needs_before if n not in needs] + [f for f in flags_before if f not in flags]
    if removed:
        labels = ", ".join(NEED_LABELS[c] if c in needs_before else FLAG_LABELS[c] for c in removed)
        said.append(messages.SAY_REMOVED.format(labels=labels))

    return Say(". ".join(said), tuple(removed)) if said else Refusal(messages.CORRECT_NOTHING)


def _text(raw: Any) -> str:
    if isinstance(raw, bool):
        return ""
    if isinstance(raw, int | float):
        return str(int(raw)) if float(raw).is_integer() else str(raw)
    return raw.strip() if isinstance(raw, str) else ""


def _codes(raw: Any) -> tuple[str, ...]:
    """A multi-select's value ("formation,vae"), in a stable order so that the same choice compares equal."""
    return tuple(sorted({part.strip() for part in _text(raw).split(_MULTI_SEPARATOR) if part.strip()}))
