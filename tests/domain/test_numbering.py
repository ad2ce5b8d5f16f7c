import pytest

from previz_app.domain.numbering import number_shots


def test_unlocked_shots_follow_the_order():
    assert number_shots("12", [None] * 4) == ["12", "12A", "12B", "12C"]


def test_letters_continue_past_z():
    labels = number_shots("3", [None] * 29)
    assert labels[26:] == ["3Z", "3AA", "3AB"]
    assert len(set(labels)) == 29


def test_locked_numbers_stay_and_inserts_extend_the_previous_label():
    # 12, 12A, 12B were locked; a shot was inserted after 12A and another at the end.
    assert number_shots("12", ["12", "12A", None, "12B", None]) == ["12", "12A", "12AA", "12B", "12C"]


def test_insert_before_first_locked_shot():
    labels = number_shots("7", [None, "7", "7A"])
    assert labels[1:] == ["7", "7A"]
    assert labels[0] not in ("7", "7A") and len(set(labels)) == 3


@pytest.mark.parametrize("locked", [[None, "5B", None, None, "5A", None], ["5C", None, None, None]])
def test_labels_are_always_unique(locked):
    labels = number_shots("5", locked)
    assert len(set(labels)) == len(labels)
    assert all(label == lock for label, lock in zip(labels, locked) if lock)
