"""View → Ghost of the original: the original, faded, behind the reconstruction (off by default)."""

from __future__ import annotations

import numpy as np
import pytest

from app import render
from tests.conftest import NTU_SAMPLES

A058 = NTU_SAMPLES / "S001C003P008R002A058.skeleton"


@pytest.mark.slow
def test_ghost_of_the_original_in_the_reconstruction_pane(window):
    window.open_path(A058)
    st = window.state
    window.controller.mask_spec("right-arm")
    assert st.set_result(st.version, st.sequence.data + 0.2, {})
    view = window.right.view
    assert view.source == "reconstruction"
    ghost = view.current_layers()[1]
    assert (ghost.point_col[:, 3] == 0).all()  # off: nothing behind the reconstruction
    window.menus.actions["ghost_original"].trigger()
    assert st.ghost_original
    ghost, recon = view.current_layers()[1], view.current_layers()[0]
    assert np.allclose(ghost.point_col[:, 3], render.GHOST_ALPHA)  # both bodies, faded
    want = render.to_display(st.sequence.data[:, st.frame]).reshape(-1, 3)
    np.testing.assert_allclose(ghost.point_pos, want, atol=1e-6)  # where the original is
    assert not np.allclose(ghost.point_pos, recon.point_pos)
    assert (window.left.view.current_layers()[1].point_col[:, 3] == 0).all()  # the masked pane is unchanged
