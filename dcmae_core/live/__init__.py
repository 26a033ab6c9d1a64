"""Live capture (SPEC §5): sources that yield skeleton frames, and online recognition on a sliding window.

Pure library (no Qt). A frame is `(M, V, 3)` float32 camera-space metres, NaN where a person is absent or
a joint is not tracked. `open_source("lsl:NAME" | "replay:FILE" | "webcam:INDEX")` builds a source;
`OnlineRecognizer` turns frames into top-5 predictions with the missing joints reconstructed.
"""

from dcmae_core.live.mediapipe_pose import WebcamSource, mediapipe_to_ntu25
from dcmae_core.live.online import OnlineRecognizer, Recorder, WindowResult, centre_window
from dcmae_core.live.sources import (
    LiveFrame,
    LiveSource,
    LiveSourceError,
    LSLSource,
    ReplaySource,
    StreamAbsentError,
    StreamDescription,
    channel_labels,
    list_lsl_streams,
    mocap_stream_info,
    open_source,
)

__all__ = [
    "LSLSource",
    "LiveFrame",
    "LiveSource",
    "LiveSourceError",
    "OnlineRecognizer",
    "Recorder",
    "ReplaySource",
    "StreamAbsentError",
    "StreamDescription",
    "WebcamSource",
    "WindowResult",
    "centre_window",
    "channel_labels",
    "list_lsl_streams",
    "mediapipe_to_ntu25",
    "mocap_stream_info",
    "open_source",
]
