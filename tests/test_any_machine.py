"""The same inputs give the same outputs on any machine.

numpy picks its sort and some of its maths at run time from the processor's vector
instructions (AVX-512, AVX2 or neither), and those paths order equal keys differently and
differ in the last bit of ``exp``. Here a second Python process runs with those paths
switched off (``NPY_DISABLE_CPU_FEATURES``): it stands for an older or smaller machine, and
must give the recorded grids and walking minutes, bit for bit.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
#: every vector extension numpy dispatches to on x86-64 above the baseline (old and new
#: names; names a machine or numpy version does not know are ignored)
PLAIN = "AVX512_SPR AVX512_ICL AVX512_SKX AVX512F X86_V4 AVX2 FMA3 X86_V3"

_TIES = ("import hashlib, numpy as np;"
         "k = np.random.default_rng(0).integers(0, 100, 10000);"
         "print(hashlib.sha256(np.argsort(k).tobytes()).hexdigest())")


def _plain_python(code: str, timeout: int = 600, **env_more: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, NPY_DISABLE_CPU_FEATURES=PLAIN, PYTHONPATH=str(ROOT), **env_more)
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)


def _differs_here() -> bool:
    """Whether this machine's numpy orders equal keys otherwise with its vector paths off
    (if not, nothing here can tell a machine-dependent result from a correct one)."""
    here = subprocess.run([sys.executable, "-c", _TIES], capture_output=True, text=True,
                          timeout=60).stdout
    return here != _plain_python(_TIES, timeout=60).stdout


@pytest.fixture
def vector_paths():
    """Skips where switching numpy's vector paths off changes nothing (asked only by the
    test that needs it, not at collection)."""
    if not _differs_here():
        pytest.skip("numpy runs no vector sort on this machine")


@pytest.mark.usefixtures("vector_paths")
def test_recorded_grids_and_minutes_without_vector_instructions():
    """Snapping once took the first of two equally near streets in the order of numpy's
    default sort, which differs between machines: 3,000 demo households' minutes changed."""
    code = ("from analysis.pipeline import load_area\n"
            "from tests.geo.test_speed_equivalence import DEMO_DIGESTS, _check_run\n"
            "_check_run(load_area(demo='synthetic:3000'), DEMO_DIGESTS['synthetic:3000'])\n"
            "print('same')\n")
    done = _plain_python(code)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("same")


def test_gaussian_decay_is_the_same_without_vector_instructions():
    from analysis.capacity.model import decay_weights

    walk = np.linspace(0.0, 900.0, 5001)
    here = decay_weights(walk, 800.0, "gaussian")
    code = ("import numpy as np\n"
            "from analysis.capacity.model import decay_weights\n"
            "print(decay_weights(np.linspace(0.0, 900.0, 5001), 800.0, 'gaussian').tobytes().hex())\n")
    done = _plain_python(code, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert bytes.fromhex(done.stdout.strip()) == here.tobytes()
    assert here[0] == 1.0 and here[-1] == 0.0 and np.all(np.diff(here[walk <= 800.0]) <= 0)


_PROJECT = ("import numpy as np\n"
            "from geo.grids.graph import project\n"
            "xy = np.random.default_rng(1).uniform(-1000.0, 1000.0, (20000, 2))\n"
            "t = np.deg2rad(np.arange(0.0, 180.0, 15.0))\n"
            "d = np.array([np.cos(t), np.sin(t)])\n"
            "print(project(xy, d).tobytes().hex())\n"
            "print((xy @ d).tobytes().hex())\n")


def test_projections_are_the_same_with_a_processor_without_fused_multiply_add():
    """The cut directions of grid construction and improvement order points by their
    projection; the BLAS (a matrix product) rounds them otherwise on processors without
    fused multiply-add (OpenBLAS's Prescott kernels stand for one here)."""
    here = subprocess.run([sys.executable, "-c", _PROJECT], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    old = _plain_python(_PROJECT, timeout=60, OPENBLAS_CORETYPE="Prescott")
    assert here.returncode == 0 and old.returncode == 0, here.stderr + old.stderr
    ours_here, blas_here = here.stdout.split()
    ours_old, blas_old = old.stdout.split()
    assert ours_here == ours_old
    xy = np.random.default_rng(1).uniform(-1000.0, 1000.0, (20000, 2))
    t = np.deg2rad(np.arange(0.0, 180.0, 15.0))
    want = xy[:, :1] * np.cos(t) + xy[:, 1:] * np.sin(t)
    assert bytes.fromhex(ours_here) == want.tobytes()
    if blas_here == blas_old:
        pytest.skip("this machine's BLAS rounds alike with and without fused multiply-add")
