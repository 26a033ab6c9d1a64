"""The sample browser: a folder of real NTU files, a prepared dataset and the field's .npz, filtered by NTU name
fields; opening an entry shows it in the viewer; unreadable sources are clear errors."""

from __future__ import annotations

import numpy as np
import pytest

from app import core_bridge
from app.widgets.browser import filter_entries, parse_ids
from tests.shared_data import NTU_SAMPLES

pytestmark = pytest.mark.slow  # each test here takes over half a second (make test-fast leaves them out)


def test_parse_ids_and_filter():
    assert parse_ids("") is None and parse_ids("1, 3-5") == {1, 3, 4, 5}
    with pytest.raises(ValueError, match="x"):
        parse_ids("1,x")
    entries = core_bridge.scan_source(NTU_SAMPLES)
    assert len(entries) == 10
    assert [entries[i].name for i in filter_entries(entries, {"action": {58}})] == ["S001C003P008R002A058"]
    two = filter_entries(entries, {"setup": {1}, "performer": {1}, "action": {1, 2, 3}})
    assert len(two) == 3
    assert [entries[i].action for i in filter_entries(entries, {}, "HANDSHAK")] == [58]


def test_browse_filter_and_open_in_the_window(window, qtbot):
    assert window.browse(NTU_SAMPLES)
    panel = window.browser
    assert panel.table.rowCount() == 10 and not window.docks["Browser"].isHidden()
    panel.edits["setup"].setText("2")
    assert panel.table.rowCount() == 1 and panel.table.item(0, 6).text() == "brushing teeth"  # S002…A003
    panel.edits["camera"].setText("1-")
    assert "camera" in panel.count.text()  # a bad filter is named, the others still apply
    panel.edits["camera"].setText("")
    panel.table.cellDoubleClicked.emit(0, 0)
    assert window.state.sequence.name == "S002C001P003R001A003"


def test_prepared_dataset_and_npz(window, tiny_cache, tmp_path):
    assert window.browse(tiny_cache)
    entries = window.browser.entries
    assert len(entries) == 60 and entries[0].kind == "cache" and entries[0].action
    assert window.open_entry(entries[5])
    seq = window.state.sequence
    assert seq.data.shape[2:] == (25, 3) and seq.present.any()
    # the field's .npz: (N, 300, 150), one-hot labels, padding frames at the end
    x = np.zeros((3, 300, 150), np.float32)
    x[:, :40] = np.random.default_rng(0).normal(size=(3, 40, 150))
    x[1, :, 75:] = 0  # one person
    y = np.eye(60, dtype=np.float32)[[0, 57, 2]]
    path = tmp_path / "ntu.npz"
    np.savez(path, x_train=x, y_train=y, x_test=x[:1], y_test=y[:1])
    assert window.browse(path)
    entries = window.browser.entries
    assert [e.name for e in entries] == ["train 0", "train 1", "train 2", "test 0"]
    assert entries[1].action == 58 and entries[1].action_name == "handshaking"
    assert window.open_entry(entries[1])
    seq = window.state.sequence
    assert seq.num_frames == 40 and seq.present[0].all() and not seq.present[1].any()
    assert np.allclose(seq.data[0, 3], x[1, 3, :75].reshape(25, 3))


def test_unreadable_sources_are_named(window, tmp_path, dialogs):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"PK not really")
    assert not window.browse(bad)
    assert not window.browse(tmp_path / "nowhere")
    assert "bad.npz" in dialogs[0][1] and "nowhere" in dialogs[1][1]
