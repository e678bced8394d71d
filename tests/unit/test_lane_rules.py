"""The green lane's rules alone: plates, lanes from fired rules, the draw, gate hours, figures."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from crossborder.domain.errors import ConfigurationError
from crossborder.domain.lane import (
    DocumentState,
    Facts,
    Lane,
    LaneRule,
    Standing,
    Truck,
    draw,
    fired_rules,
    lane_for,
    percentile,
    plate_key,
)
from crossborder.reference.lane import gate_hours, lane_rules, lane_targets, pair_calendars

DRIVER = {"name": "Hoàng Văn Nam", "document_number": "C1234567"}


@pytest.mark.parametrize(
    ("plate", "country"),
    [
        ("12C-123.45", "VN"),
        ("12C12345", "VN"),
        ("29H-1234", "VN"),
        ("桂F12345", "CN"),
        ("桂FH3526", "CN"),
    ],
)
def test_plates_of_both_countries_are_accepted_in_their_own_format(
    plate: str, country: str
) -> None:
    Truck.model_validate(
        {"plate": plate, "plate_country": country, "driver": DRIVER, "seals": ["S1"]}
    )


@pytest.mark.parametrize(
    ("plate", "country"),
    [("桂F12345", "VN"), ("12C-123.45", "CN"), ("05C-123.45", "VN"), ("桂I12345", "CN")],
)
def test_a_plate_in_another_format_is_refused_with_its_code(plate: str, country: str) -> None:
    with pytest.raises(ValidationError, match="PLATE_FORMAT_INVALID"):
        Truck.model_validate(
            {"plate": plate, "plate_country": country, "driver": DRIVER, "seals": ["S1"]}
        )


def test_two_writings_of_a_plate_compare_equal() -> None:
    assert plate_key("12c-123.45") == plate_key("12C 12345") == "12C12345"


def facts(**changes: object) -> Facts:
    base: dict[str, object] = {
        "on_green_list": True,
        "perishable": True,
        "certificate_of_origin": DocumentState.VALID,
        "phytosanitary": DocumentState.VALID,
        "open_alert": False,
        "standing": Standing.ORDINARY,
        "gate_closed": False,
    }
    return Facts(**{**base, **changes})  # type: ignore[arg-type]


NOT_DRAWN = Decimal("0.99")
RATE = lane_rules().random_selection_percent


def test_documents_valid_and_not_drawn_is_green() -> None:
    fired = fired_rules(facts(), NOT_DRAWN, RATE)
    assert fired == (LaneRule.ON_GREEN_LIST, LaneRule.CO_VALID, LaneRule.PHYTO_RECOGNISED)
    assert lane_for(fired, lane_rules()) is Lane.GREEN


@pytest.mark.parametrize(
    ("changes", "rule", "lane"),
    [
        ({"phytosanitary": DocumentState.SAMPLING}, LaneRule.PHYTO_SAMPLING, Lane.YELLOW),
        ({"standing": Standing.WATCHED}, LaneRule.TRADER_WATCHED, Lane.YELLOW),
        ({"open_alert": True}, LaneRule.OPEN_ALERT, Lane.RED),
        ({"on_green_list": False}, LaneRule.NOT_ON_GREEN_LIST, Lane.RED),
        ({"certificate_of_origin": DocumentState.INVALID}, LaneRule.CO_INVALID, Lane.RED),
    ],
)
def test_the_most_checked_lane_of_any_fired_rule_wins(
    changes: dict[str, object], rule: LaneRule, lane: Lane
) -> None:
    fired = fired_rules(facts(**changes), NOT_DRAWN, RATE)
    assert rule in fired
    assert lane_for(fired, lane_rules()) is lane


def test_a_draw_under_the_rate_selects_the_truck_for_a_joint_inspection() -> None:
    fired = fired_rules(facts(), Decimal("0.01"), RATE)
    assert fired[-1] is LaneRule.RANDOM_SELECTION
    assert lane_for(fired, lane_rules()) is Lane.YELLOW


def test_a_rate_of_zero_selects_no_truck_and_one_of_a_hundred_selects_every_one() -> None:
    assert LaneRule.RANDOM_SELECTION not in fired_rules(facts(), Decimal("0"), Decimal("0"))
    assert LaneRule.RANDOM_SELECTION in fired_rules(facts(), Decimal("0.999999"), Decimal("100"))


def test_the_draw_is_reproducible_from_its_seed_and_spreads_over_the_unit_interval() -> None:
    seed = "5f0c2b7e9a4d4c1e8b3f6a2d7c9e1b40"
    assert draw(seed, "CN-NNCUS-20261127-7F3A2C") == draw(seed, "CN-NNCUS-20261127-7F3A2C")
    values = [draw(seed, f"VN-CUSKV6-20261127-{n:06X}") for n in range(2000)]
    assert all(Decimal(0) <= v < 1 for v in values)
    selected = sum(1 for v in values if v * 100 < 5)
    assert 60 < selected < 140  # about 5 % of 2,000


def test_youyiguan_is_closed_on_a_friday_night_and_opens_on_monday_morning() -> None:
    hours = gate_hours("CNYYG")
    friday_night = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)  # 23:00 in Nanning
    opens = hours.next_opening(friday_night, pair_calendars("CNYYG"))
    assert opens is not None
    assert opens.isoformat() == "2026-11-30T07:00:00+08:00"


def test_the_national_day_week_keeps_youyiguan_closed_until_it_ends() -> None:
    opens = gate_hours("CNYYG").next_opening(
        datetime(2026, 10, 1, 2, 0, tzinfo=UTC), pair_calendars("CNYYG")
    )
    assert opens is not None
    assert opens.date().isoformat() == "2026-10-08"


def test_an_open_gate_has_no_next_opening() -> None:
    morning = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # 10:00 in Nanning, a Friday
    assert gate_hours("CNYYG").next_opening(morning, pair_calendars("CNYYG")) is None


def test_perishables_may_pass_outside_hours_at_the_road_gates_not_at_the_railway() -> None:
    assert gate_hours("CNYYG").perishables_outside_hours
    assert not gate_hours("CNPIN").perishables_outside_hours


def test_percentiles_are_times_some_truck_took() -> None:
    minutes = sorted(Decimal(m) for m in range(1, 11))
    assert percentile(minutes, Decimal(50)) == 5
    assert percentile(minutes, Decimal(90)) == 9
    assert percentile([Decimal(7)], Decimal(90)) == 7


def test_a_node_without_a_targets_file_measures_against_the_shipped_targets() -> None:
    assert lane_targets(None) == lane_rules().targets


def test_a_node_with_a_targets_file_measures_against_its_own(tmp_path: Path) -> None:
    path = tmp_path / "targets.json"
    path.write_text(json.dumps({"release": {"green": 0, "yellow": 90}}), "utf-8")
    assert lane_targets(path) == {"release": {Lane.GREEN: 0, Lane.YELLOW: 90}}


@pytest.mark.parametrize(
    "content",
    [
        '{"release": {"green": -1}}',
        '{"clearance": {"green": 30}}',
        '{"release": {"blue": 30}}',
        '{"release": {"green": "half an hour"}}',
        "not json",
    ],
)
def test_a_targets_file_that_is_not_minutes_per_step_and_lane_is_refused(
    tmp_path: Path, content: str
) -> None:
    path = tmp_path / "targets.json"
    path.write_text(content, "utf-8")
    with pytest.raises(ConfigurationError) as refused:
        lane_targets(path)
    assert (refused.value.code, refused.value.params) == (
        "LANE_TARGETS_FILE_INVALID",
        {"path": str(path)},
    )


def test_a_targets_file_that_is_not_there_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as refused:
        lane_targets(tmp_path / "missing.json")
    assert refused.value.code == "LANE_TARGETS_FILE_INVALID"
