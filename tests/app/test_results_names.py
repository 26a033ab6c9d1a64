"""The results' top-5 columns show the action before its label set, so a narrow column elides the dataset."""

from __future__ import annotations

from app.widgets.results import PredictionColumn, action_first


def test_action_comes_first_and_the_full_name_is_the_tooltip(qtbot):
    assert action_first("NW-UCLA: pick up with one hand") == "pick up with one hand (NW-UCLA)"
    assert action_first("drink water") == "drink water"  # a one-label-set model's names stay as they are
    column = PredictionColumn("top 5")
    qtbot.addWidget(column)
    column.resize(180, 200)
    column.set_items([("UTD-MHAD: right arm swipe to the left", 0.9), ("NW-UCLA: throw", 0.1)])
    first = column.names[0]
    assert first.text() == "right arm swipe to the left (UTD-MHAD)"
    assert first.toolTip() == "UTD-MHAD: right arm swipe to the left"
    assert first.elided_text().startswith("right arm")  # what is drawn keeps the action's start
    assert column.names[2].text() == "—"
