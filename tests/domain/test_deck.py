"""The pitch deck's values: the money checks, the JSON form, the empty sections."""

import json

import pytest

from previz_app.domain.deck import (
    SECTIONS,
    BudgetLine,
    CastStatus,
    Comparable,
    Deck,
    DeckCharacter,
    FinancingSource,
    ScheduleItem,
    TeamMember,
    check_deck,
    deck_from_dict,
    deck_to_dict,
    empty_sections,
    format_money,
    format_share,
    money_summary,
    validate_deck,
)


def sound_deck(**changes) -> Deck:
    """A deck with a 1,000,000 budget whose lines and financing add up."""
    values = {
        "budget_total": 1_000_000,
        "budget_lines": (BudgetLine("Cast", 400_000), BudgetLine("Crew", 600_000)),
        "financing": (FinancingSource("Fund", 450_000, True), FinancingSource("Pre-sales", 550_000)),
        "comparables": (Comparable("Near", 2020, 3_000_000), Comparable("Smaller", 2021, 300_000)),
    }
    values.update(changes)
    return Deck(**values)


def test_a_sound_deck_raises_no_questions():
    assert check_deck(sound_deck()) == []
    assert check_deck(Deck()) == []


def test_budget_lines_that_miss_the_total_are_questioned():
    warnings = check_deck(sound_deck(budget_lines=(BudgetLine("Cast", 400_000), BudgetLine("Crew", 500_000))))
    assert [w.section for w in warnings] == ["budget"]
    assert "USD 900,000" in warnings[0].message and "USD 100,000 short of" in warnings[0].message
    over = check_deck(sound_deck(budget_lines=(BudgetLine("Cast", 1_000_001),)))
    assert [w.section for w in over] == ["budget"] and "USD 1 over" in over[0].message


def test_financing_that_misses_the_budget_is_questioned():
    warnings = check_deck(sound_deck(financing=(FinancingSource("Fund", 1_200_000, True),)))
    assert [w.section for w in warnings] == ["financing"]
    assert "USD 200,000 over the budget of USD 1,000,000" in warnings[0].message
    # Without a stated total the lines are the budget.
    unstated = check_deck(sound_deck(budget_total=None, financing=(FinancingSource("Fund", 999_999),)))
    assert [w.section for w in unstated] == ["financing"] and "USD 1 short of" in unstated[0].message
    no_budget = check_deck(Deck(financing=(FinancingSource("Fund", 10),)))
    assert [(w.section, w.message) for w in no_budget] == [("financing", "there is a financing plan but no budget to finance")]


@pytest.mark.parametrize("budget, flagged", [
    (4_000_000, False), (250_000, False),  # exactly 4x either way is still a comparable
    (4_000_001, True), (249_999, True), (40_000_000, True), (1_000, True),
])
def test_comparables_far_outside_the_budget_are_questioned(budget, flagged):
    deck = sound_deck(comparables=(Comparable("Near", 2020, 2_000_000), Comparable("Far", 2021, budget)))
    warnings = check_deck(deck)
    assert [w.section for w in warnings] == (["comparables"] if flagged else [])
    if flagged:
        assert warnings[0].message.startswith("Far: its budget")
        assert ("larger" if budget > 1_000_000 else "smaller") in warnings[0].message


def test_warnings_come_in_page_order_and_a_comparable_without_budget_is_not_judged():
    deck = sound_deck(
        comparables=(Comparable("Unknown"), Comparable("Huge", 2000, 90_000_000)),
        budget_lines=(BudgetLine("All", 1),),
        financing=(FinancingSource("Fund", 2),),
    )
    assert [w.section for w in check_deck(deck)] == ["comparables", "budget", "financing"]


def test_money_summary_and_secured_share():
    money = money_summary(sound_deck())
    assert (money.budget, money.lines_total, money.financing_total, money.secured_total) == (
        1_000_000, 1_000_000, 1_000_000, 450_000)
    assert money.secured_share == pytest.approx(0.45)
    assert money_summary(Deck(financing=(FinancingSource("Fund", 5, True),))).secured_share is None
    assert money_summary(Deck(budget_lines=(BudgetLine("A", 3), BudgetLine("B", 4)))).budget == 7
    assert format_money(1_234_567, "EUR") == "EUR 1,234,567" and format_money(None, "USD") == "—"


def full_deck() -> Deck:
    return Deck(
        title="Fairhead", key_art_take_id=3, logline="L", synopsis="S", director_statement="D",
        producer_statement="P", tone="T", mood_take_ids=(9, 2, 5),
        characters=(DeckCharacter("Mara", "keeper", "A. Actor", CastStatus.attached, 4), DeckCharacter("Tom")),
        sequence_shot_ids=(7, 1), comparables=(Comparable("X", 2019, 10, 20, "src", "2026-11-01"), Comparable("Y")),
        currency="GBP", budget_total=100, budget_lines=(BudgetLine("B", 60), BudgetLine("A", 40)),
        financing=(FinancingSource("F", 70, True), FinancingSource("G", 30)),
        schedule=(ScheduleItem("Shoot", "2027-01", "2027-02"),), team=(TeamMember("N", "R", "bio"),), contact="C",
    )


def test_a_deck_round_trips_through_json():
    deck = full_deck()
    text = json.dumps(deck_to_dict(deck))
    data = json.loads(text)
    assert data["characters"][0]["status"] == "attached" and data["schedule"][0]["end"] == "2027-02"
    assert deck_from_dict(data) == deck
    assert deck_from_dict(json.loads(json.dumps(deck_to_dict(Deck())))) == Deck()


def test_json_a_person_wrote_is_read_leniently():
    deck = deck_from_dict({
        "budget_total": "1,500,000", "currency": " eur ",
        "financing": [{"name": "Fund", "amount": 1500000.0, "secured": "yes"}],
        "characters": [{"name": "Mara", "status": "Attached"}],
    })
    assert deck.budget_total == 1_500_000 and deck.currency == "EUR"
    assert deck.financing == (FinancingSource("Fund", 1_500_000, True),)
    assert deck.characters[0].status is CastStatus.attached


@pytest.mark.parametrize("data, named", [
    ({"budget": 5}, "unknown deck field(s): budget"),
    ({"budget_total": "lots"}, "deck budget_total:"),
    ({"budget_total": -1}, "deck budget_total: an amount must be between"),
    ({"budget_total": 2.5}, "deck budget_total: expected a whole number"),
    ({"budget_total": True}, "deck budget_total: expected a number"),
    ({"budget_lines": [{"category": "Cast", "amount": None}]}, "deck budget_lines: an amount is required"),
    ({"budget_lines": [{"category": "Cast"}]}, "deck budget_lines:"),
    ({"financing": [{"name": "F", "amount": 1, "secured": "maybe"}]}, "deck financing: expected true or false"),
    ({"characters": [{"name": "Mara", "status": "rumoured"}]}, "deck characters:"),
    ({"characters": ["Mara"]}, "deck characters: expected an object per DeckCharacter"),
    ({"team": [{"name": "N", "age": 3}]}, "deck team: unknown TeamMember field(s): age"),
    ({"logline": ["not", "text"]}, "deck logline: expected text"),
    ({"mood_take_ids": ["x"]}, "deck mood_take_ids:"),
])
def test_bad_json_names_the_field(data, named):
    with pytest.raises(ValueError) as caught:
        deck_from_dict(data)
    assert str(caught.value).startswith(named)


def test_an_infinite_amount_names_the_field():
    with pytest.raises(ValueError, match="^deck budget_total:"):
        deck_from_dict(json.loads('{"budget_total": Infinity}'))  # json.loads accepts Infinity


def test_a_fractional_id_is_refused():
    with pytest.raises(ValueError, match="^deck mood_take_ids:"):
        deck_from_dict({"mood_take_ids": [2.5]})


def test_a_deck_must_be_an_object():
    with pytest.raises(ValueError, match="a deck is a JSON object"):
        deck_from_dict([])


def test_empty_sections_are_the_ones_left_out():
    assert empty_sections(Deck()) == [key for key in SECTIONS if key != "title"]
    assert empty_sections(full_deck()) == []
    assert empty_sections(Deck(logline="  ", tone="", mood_take_ids=(1,), budget_total=0)) == [
        key for key in SECTIONS if key not in ("title", "tone", "budget")]
    assert "sequences" in empty_sections(Deck(sequence_shot_ids=()))


@pytest.mark.parametrize(("share", "text"), [
    (None, "—"), (0, "0%"), (1, "100%"), (0.45, "45%"), (0.998, "99.8%"), (0.002, "0.2%"),
    (0.99996, "over 99.9%"), (0.00004, "under 0.1%"), (1.25, "125%"),
])
def test_a_share_never_rounds_to_all_or_nothing(share, text):
    assert format_share(share) == text


def test_a_deck_built_in_code_with_an_impossible_amount_is_refused():
    with pytest.raises(ValueError, match="budget line 'VFX': an amount must be a whole number"):
        validate_deck(Deck(budget_lines=(BudgetLine("VFX", 10**20),)))
    with pytest.raises(ValueError, match="financing source 'Bank'"):
        validate_deck(Deck(financing=(FinancingSource("Bank", -5),)))
    validate_deck(Deck(budget_total=10**12, budget_lines=(BudgetLine("All", 10**12),)))
