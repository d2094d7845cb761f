"""Quality floors on the golden set with the default model (dev and held-out reported apart)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from assistant.dialogue import Assistant
from assistant.evaluation import CaseResult, GoldenCase, run_case, score

GOLDEN = Path(__file__).parent / "golden" / "cases.yaml"


@pytest.fixture(scope="module")
def results(knowledge_index, encoder, territory) -> list[CaseResult]:  # type: ignore[no-untyped-def]
    from assistant.dialogue import MemoryStore

    assistant = Assistant(knowledge_index, encoder, territory, MemoryStore())
    cases = [GoldenCase.from_dict(c) for c in yaml.safe_load(GOLDEN.read_text(encoding="utf-8"))]
    return [run_case(case, assistant.turn) for case in cases]


def test_golden_set_is_large_and_keeps_a_held_out_part() -> None:
    cases = [GoldenCase.from_dict(c) for c in yaml.safe_load(GOLDEN.read_text(encoding="utf-8"))]
    assert len(cases) >= 80
    held_out = [c for c in cases if c.split == "heldout"]
    assert len(held_out) >= 0.3 * len(cases)
    assert {c.category for c in held_out} == {c.category for c in cases}


def test_golden_networks_and_forbidden_networks_are_known_networks(knowledge_index) -> None:  # type: ignore[no-untyped-def]
    cases = [GoldenCase.from_dict(c) for c in yaml.safe_load(GOLDEN.read_text(encoding="utf-8"))]
    for case in cases:
        named = {*case.networks, *case.forbidden, *case.not_first}
        assert named <= set(knowledge_index.networks), (case.id, named - set(knowledge_index.networks))
        assert not set(case.networks) & set(case.forbidden), case.id


@pytest.mark.parametrize("split", ["dev", "heldout"])
def test_referral_quality_floors(results: list[CaseResult], split: str) -> None:
    # Measured: README, « Qualité mesurée » (floors a little under the figures, the model being quantised).
    scores = score(r for r in results if r.case.split == split)
    assert scores.hit_at_3 is not None and scores.hit_at_3 >= 0.95, scores
    assert scores.hit_at_1 is not None and scores.hit_at_1 >= 0.88, scores
    assert scores.territory == 1.0, scores


def test_no_forbidden_network_first_and_no_in_scope_case_refused(results: list[CaseResult]) -> None:
    scores = score(results)
    assert scores.forbidden_first == 0, [r.case.id for r in results if r.case.split == "dev" and r.breaches]
    assert scores.false_refusals == 0
    assert scores.off_topic_refused is not None and scores.off_topic_refused >= 0.95
    assert scores.forbidden is not None and scores.forbidden >= 0.90


def test_off_topic_questions_are_refused_without_any_structure(results: list[CaseResult]) -> None:
    refused = [r for r in results if r.case.refusal and r.case.split == "dev"]
    assert refused and all(r.refused for r in refused)


def test_whole_set_clarification_and_refusal_accuracy(results: list[CaseResult]) -> None:
    scores = score(results)
    assert scores.refusal is not None and scores.refusal >= 0.95
    assert scores.clarification is not None and scores.clarification >= 0.85


def test_three_first_structures_of_networks_with_open_data_give_a_local_contact(
    results: list[CaseResult], knowledge_index  # type: ignore[no-untyped-def]
) -> None:
    open_data = frozenset(s.network for s in knowledge_index.structures.values())
    scores = score(results, open_data)
    # Measured on the cases that name a place; README, « Qualité mesurée ».
    assert scores.local_contact_open_data is not None and scores.local_contact_open_data >= 0.90, scores
    assert scores.local_contact is not None and scores.local_contact >= 0.60, scores
