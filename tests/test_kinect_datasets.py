"""Kinect v1 datasets (NW-UCLA, UTD-MHAD, Kinder-Gator): readers, importers, merge, on the real files."""

from __future__ import annotations

import collections
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from dcmae_core.data import kinect_datasets as kd
from dcmae_core.data.dataset import SkeletonCache
from dcmae_core.data.importers import import_generic
from dcmae_core.data.kinect_import import import_kinder_gator, import_nwucla, import_utd_mhad
from dcmae_core.data.merge import merge_caches
from dcmae_core.layout import KINECT20

REAL = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "real"
NWUCLA, UTD, KG = REAL / "nw_ucla" / "all_sqe", REAL / "utd_mhad", REAL / "kinder_gator"
pytestmark = pytest.mark.skipif(not REAL.is_dir(), reason=f"{REAL} (the shared real recordings) is absent")
J = {n: i for i, n in enumerate(KINECT20.joint_names)}
NWUCLA_ONE_FRAME = {"a02_s09_e04_v02", "a02_s09_e04_v03"}  # the two 1-frame clips of the published data


@pytest.fixture(scope="module")
def caches(tmp_path_factory) -> dict[str, Path]:
    """Full imports of the three datasets (about 6 s together), once for this module."""
    root = tmp_path_factory.mktemp("kinect")
    import_nwucla(NWUCLA, root / "nwucla")
    import_utd_mhad(UTD, root / "utd")
    import_kinder_gator(KG, root / "kg")
    return {"nwucla": root / "nwucla", "utd": root / "utd", "kg": root / "kg"}


def _copy(files: list[Path], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for f in files:
        shutil.copy(f, folder / f.name)
    return folder


# ---- counts from the names: the published numbers -------------------------------------------------------------


def test_nwucla_names_give_the_published_split():
    info = [kd.parse_nwucla_name(p.stem) for p in sorted(NWUCLA.glob("*.json"))]
    split = collections.Counter(i["split"] for i in info)
    assert (split[0], split[1]) == (1020, 464)  # cross-view: views 1 + 2 train, view 3 test
    per_class = collections.Counter(i["action"] for i in info)
    assert per_class == {1: 150, 2: 152, 3: 141, 4: 173, 5: 148, 6: 149, 8: 142, 9: 142, 11: 145, 12: 142}
    assert {i["subject"] for i in info} == set(range(1, 11)) and {i["view"] for i in info} == {1, 2, 3}


def test_utd_and_kinder_gator_names():
    utd = [kd.parse_utd_name(p.stem) for p in sorted(UTD.glob("*.mat"))]
    assert len(utd) == 861 and {i["action"] for i in utd} == set(range(1, 28))
    assert {i["subject"] for i in utd if i["split"] == 0} == {1, 3, 5, 7}
    kg = [kd.parse_kg_name(p.stem) for p in sorted(KG.rglob("*.csv"))]
    assert len(kg) == 1159 and len({i["subject"] for i in kg}) == 20
    per_motion = collections.Counter(i["action"] for i in kg)
    assert -1 not in per_motion and len(per_motion) == 58 == len(kd.KG_MOTIONS)
    assert sorted(per_motion.values()) == [19] + [20] * 57  # one take (jump high, adult 565) is missing


# ---- full imports --------------------------------------------------------------------------------------------


@pytest.mark.slow  # `caches`: full imports, ~7 s
def test_full_imports_counts_and_caches(caches):
    nw = SkeletonCache.open(caches["nwucla"])
    failed = {f["name"] for f in nw.meta["failures"]}
    assert failed == NWUCLA_ONE_FRAME  # fewer than 2 frames: named, the rest imported
    train, test = nw.split_indices("stored")
    assert (len(train), len(test)) == (1020 - 1, 464 - 1)
    labels = collections.Counter(nw.class_names[k] for k in nw.labels)
    assert labels["walk around"] == 173 and labels["pick up with two hands"] == 152 - 2
    assert nw.field("camera")[test].tolist() == [3] * len(test)

    utd = SkeletonCache.open(caches["utd"])
    train, test = utd.split_indices("stored")
    assert (len(train) + len(test), utd.meta["num_failed"]) == (861, 0)
    assert set(utd.field("performer")[train]) == {1, 3, 5, 7} and set(utd.field("performer")[test]) == {2, 4, 6, 8}
    assert len(utd.class_names) == 27 and utd.class_names[21] == "jogging in place"

    kg = SkeletonCache.open(caches["kg"])
    assert (len(kg), kg.meta["num_failed"], len(kg.class_names)) == (1159, 0, 58)
    assert (kg.field("split") == 0).all() and set(kg.field("setup")) == {1, 2}
    for cache in (nw, utd, kg):
        assert cache.layout == KINECT20 and (cache.num_persons, cache.num_joints, cache.channels) == (1, 20, 3)
        mean, std = cache.stats("stored")
        assert mean.shape == (3,) and np.all(std > 0.05)


@pytest.mark.slow  # the module's `caches` fixture imports the three full datasets
@pytest.mark.parametrize("name", ["nwucla", "utd", "kg"])
def test_joint_order_by_bones(caches, name):
    cache = SkeletonCache.open(caches[name])
    x = np.concatenate([cache.sample(i)[0][0] for i in range(0, len(cache), 7)])  # (T, V, C) many clips

    def bone(a: str, b: str) -> float:
        return float(np.median(np.linalg.norm(x[:, J[a]] - x[:, J[b]], axis=-1)))

    for a, b in (("shoulder", "elbow"), ("elbow", "wrist"), ("hip", "knee"), ("knee", "ankle")):
        left, right = bone(f"left {a}", f"left {b}"), bone(f"right {a}", f"right {b}")
        assert 0.15 < left < 0.6 and abs(left - right) < 0.03, (a, b, left, right)
    y = np.median(x[..., 1], axis=0)  # (V,) median height, y up
    assert y[J["head"]] > y[J["shoulder centre"]] > y[J["spine"]] > y[J["hip centre"]] > y[J["left knee"]]
    # left and right as in NTU (camera frame): the left shoulder has the smaller x
    assert np.median(x[:, J["left shoulder"], 0] - x[:, J["right shoulder"], 0]) < -0.1


def test_utd_reorder_matches_its_joint_order_file():
    import scipy.io

    text = (UTD / "Skeleton_joint_order.txt").read_text(encoding="utf-8")
    order = [n.replace("_", " ").replace("center", "centre") for n in re.findall(r"\d+\.\s*([a-z_]+)", text)]
    assert len(order) == 20
    path = UTD / "a22_s1_t1_skeleton.mat"
    raw = scipy.io.loadmat(path)["d_skel"]  # (20, 3, T) in the file's order
    data, info = kd.read_utd_mhad(path)
    for k, joint in enumerate(KINECT20.joint_names):
        np.testing.assert_array_equal(data[0, :, k], raw[order.index(joint)].T.astype(np.float32))
    assert (info["action_name"], info["subject"], info["trial"], info["split"]) == ("jogging in place", 1, 1, 0)


# ---- single files ----------------------------------------------------------------------------------------------


def test_read_kinect_file_each_type(tmp_path):
    jump = sorted(p for p in (KG / "Children").glob("*.csv") if re.search(r"_\d+-Jump-\d+$", p.stem))[0]
    files = [NWUCLA / "a04_s02_e01_v03.json", UTD / "a5_s2_t3_skeleton.mat", jump]
    expected = [("nwucla", 4, "walk around", 1), ("utd_mhad", 5, "right arm throw", 1), ("kinder_gator", 21, "Jump", 0)]
    for path, (dataset, action, action_name, split) in zip(files, expected):
        data, present, info = kd.read_kinect_file(path)
        assert data.dtype == np.float32 and data.shape[0] == 1 and data.shape[2:] == (20, 3)
        assert present.shape == data.shape[:2] and present.all()
        np.testing.assert_allclose(data[0, 0, KINECT20.center], 0.0, atol=1e-6)  # centred like the importers
        assert (info["dataset"], info["action"], info["action_name"], info["split"]) == (
            dataset, action, action_name, split)  # fmt: skip
        assert info["layout"] == KINECT20.name
    assert info["group"] == "children" and 25 < info["fps"] < 35
    (tmp_path / "x.txt").write_text("0")
    with pytest.raises(ValueError, match=r"x\.txt: unknown Kinect v1 file type"):
        kd.read_kinect_file(tmp_path / "x.txt")


def test_bad_files_counted_named_rest_imported(tmp_path):
    # NW-UCLA: 3 good copies, a truncated JSON, a wrong shape, a NaN
    nw = _copy(sorted(NWUCLA.glob("a01_s01_*.json"))[:3], tmp_path / "nw")
    good = json.loads((nw / "a01_s01_e00_v01.json").read_text())
    (nw / "a03_s01_e00_v01.json").write_text('{"file_name": "a03_s01_e00_v01", "skeletons": [[[0.1, 0.2')
    (nw / "a03_s01_e01_v01.json").write_text(json.dumps({"skeletons": [[[0.0, 1.0, 2.0]] * 19] * 5}))
    good["skeletons"][3][4][1] = float("nan")
    (nw / "a03_s01_e02_v01.json").write_text(json.dumps(good))  # the field's JSON writers emit NaN
    meta = import_nwucla(nw, tmp_path / "c_nw")
    reasons = {f["name"]: f["error"] for f in meta["failures"]}
    assert meta["num_samples"] == 3 and set(reasons) == {"a03_s01_e00_v01", "a03_s01_e01_v01", "a03_s01_e02_v01"}
    assert "not an NW-UCLA JSON" in reasons["a03_s01_e00_v01"] and "(5, 19, 3)" in reasons["a03_s01_e01_v01"]
    assert "NaN" in reasons["a03_s01_e02_v01"]
    again = import_nwucla(nw, tmp_path / "c_nw")  # resumable: nothing is redone or duplicated
    assert (again["num_samples"], again["num_failed"]) == (3, 3)

    # UTD-MHAD: a wrong shape and a file that is not MATLAB
    import scipy.io

    utd = _copy(sorted(UTD.glob("a1_s1_t*_skeleton.mat"))[:2], tmp_path / "utd")
    scipy.io.savemat(utd / "a2_s1_t1_skeleton.mat", {"d_skel": np.zeros((25, 3, 10))})
    (utd / "a2_s1_t2_skeleton.mat").write_bytes(b"MATLAB? no")
    meta = import_utd_mhad(utd, tmp_path / "c_utd")
    reasons = {f["name"]: f["error"] for f in meta["failures"]}
    assert meta["num_samples"] == 2 and "(25, 3, 10)" in reasons["a2_s1_t1_skeleton"]
    assert "not a readable MATLAB file" in reasons["a2_s1_t2_skeleton"]

    # Kinder-Gator: a missing column, a non-number, a single frame
    kg = _copy(sorted((KG / "Adults").glob("POSE-p565_0[1-3]-*.csv")), tmp_path / "kg" / "Adults")
    lines = next(kg.glob("*_01-*.csv")).read_text().splitlines()
    head = lines[0].split(",")
    drop = head.index("KneeLeftY")
    cut = "\n".join(",".join(f for i, f in enumerate(ln.split(",")) if i != drop) for ln in lines)
    (kg / "POSE-p565_50-Bow-1.csv").write_text(cut + "\n")
    (kg / "POSE-p565_51-Bow-2.csv").write_text("\n".join([lines[0], lines[1].replace(",", ",x", 1), *lines[2:]]))
    (kg / "POSE-p565_52-Bow-3.csv").write_text("\n".join(lines[:2]) + "\n")
    meta = import_kinder_gator(tmp_path / "kg", tmp_path / "c_kg")
    reasons = {f["name"]: f["error"] for f in meta["failures"]}
    assert meta["num_samples"] == 3 and "KneeLeftY" in reasons["POSE-p565_50-Bow-1"]
    assert "not a number" in reasons["POSE-p565_51-Bow-2"] and "at least 2" in reasons["POSE-p565_52-Bow-3"]
    with pytest.raises(ValueError, match=r"POSE-p565_50-Bow-1\.csv: missing column\(s\) KneeLeftY"):
        kd.read_kinect_file(kg / "POSE-p565_50-Bow-1.csv")


def test_csv_columns_read_by_name(tmp_path):
    src = sorted((KG / "Adults").glob("POSE-p565_05-*.csv"))[0]
    rows = [ln.rstrip(",").split(",") for ln in src.read_text().splitlines()]
    perm = [0, *range(61, len(rows[0])), *reversed(range(1, 61))]  # Timestamp, User-ID, Action, joints reversed
    out = tmp_path / "my-take.csv"
    out.write_text("\n".join(",".join(r[i] for i in perm) for r in rows) + "\n")
    want, _ = kd.read_kinder_gator(src)
    got, info = kd.read_kinder_gator(out)
    np.testing.assert_array_equal(got, want)
    assert (info["action_name"], info["subject"]) == ("Bow", 565)  # from the Action and User-ID columns


# ---- merge and CLI -----------------------------------------------------------------------------------------------


@pytest.mark.slow  # `caches`
def test_merge_caches(tmp_path, caches):
    two = tmp_path / "two_person"  # a generic KINECT20 cache with M = 2, to check the M padding
    (two / "x").mkdir(parents=True)
    (two / "layout.json").write_text(json.dumps(KINECT20.to_dict()))
    x, _ = kd.read_nwucla(NWUCLA / "a01_s01_e00_v01.json")
    np.save(two / "x" / "a.npy", np.concatenate([x, x + 0.5]))  # (2, T, 20, 3)
    (two / "samples.csv").write_text("file,label,split\nx/a.npy,0,train\n")
    import_generic(two, tmp_path / "c_two")
    meta = merge_caches([caches["utd"], caches["nwucla"], tmp_path / "c_two"], tmp_path / "merged")
    m = SkeletonCache.open(tmp_path / "merged")
    utd, nw = SkeletonCache.open(caches["utd"]), SkeletonCache.open(caches["nwucla"])
    assert len(m) == len(utd) + len(nw) + 1 and m.num_persons == 2
    assert [(s["name"], s["first_label"], s["num_classes"]) for s in meta["sources"]] == [
        ("UTD-MHAD", 0, 27), ("NW-UCLA", 27, 10), ("generic", 37, 1)]  # fmt: skip
    assert m.class_names[21] == "UTD-MHAD: jogging in place" and m.class_names[27 + 3] == "NW-UCLA: walk around"
    i = m.names.index("nwucla/a04_s02_e01_v03")
    j = nw.names.index("a04_s02_e01_v03")
    assert m.labels[i] == 27 + nw.labels[j] and m.field("split")[i] == 1 and m.field("camera")[i] == 3
    np.testing.assert_array_equal(m.sample(i)[0][0], nw.sample(j)[0][0])
    assert not m.sample(i)[0][1].any() and m.sample(i)[1].tolist() == [True, False]
    train, test = m.split_indices("stored")
    assert len(test) == len(utd.split_indices("stored")[1]) + len(nw.split_indices("stored")[1])
    mean, std = m.stats("stored")
    assert mean.shape == (3,) and np.all(std > 0)
    with pytest.raises(ValueError, match="at least two"):
        merge_caches([caches["utd"]], tmp_path / "m1")
    same = merge_caches([tmp_path / "c_two", tmp_path / "c_two"], tmp_path / "m2", names=["x", "y"])
    # import-generic names the sample by its relative path, x/a (issue 16): prefixed, x/x/a and y/x/a
    assert same["num_samples"] == 2 and SkeletonCache.open(tmp_path / "m2").names == ["x/x/a", "y/x/a"]


def test_cli_import_and_merge(tmp_path, capsys):
    from dcmae_core.train import main

    nw = _copy(sorted(NWUCLA.glob("a0[45]_s01_*.json")), tmp_path / "nw")
    utd = _copy(sorted(UTD.glob("a2[23]_s[12]_t1_skeleton.mat")), tmp_path / "utd")
    assert main(["import-nwucla", str(nw), "--out", str(tmp_path / "a")]) == 0
    assert main(["import-utd-mhad", str(utd), "--out", str(tmp_path / "b")]) == 0
    assert main(["merge-caches", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(tmp_path / "m")]) == 0
    out = capsys.readouterr().out.splitlines()
    n_test = len(list(nw.glob("*_v03.json")))
    n_train = len(list(nw.glob("*.json"))) - n_test
    assert out[0].endswith(f"{n_train + n_test} samples (train {n_train}, test {n_test}), 10 classes, 0 failed")
    assert "4 samples (train 2, test 2), 27 classes, 0 failed" in out[1]
    assert "37 classes (NW-UCLA 10 from label 0, UTD-MHAD 27 from label 10)" in out[2]
