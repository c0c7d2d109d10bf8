"""The checked .npy/zip reader under the NPZ codec."""

import io

import numpy as np
import pytest

from xr_nap.errors import NPZFormatError, UnsafeNPZError
from xr_nap.io.safe_npz import EMPTY_LIMIT, parse_header


@pytest.mark.parametrize("arr", [
    np.arange(3.0), np.zeros((2, 3), np.int16), np.zeros((2, 3), order="F"), np.array(5),
    np.array(["ab", "c"]), np.zeros(0, np.uint8), np.zeros((4, 0, 2), ">i4"),
    np.array([1, "x"], dtype=object), np.zeros(2, "datetime64[ns]"), np.array([b"ab"]),
    np.zeros(2, np.complex64), np.zeros(1, bool),
])
@pytest.mark.parametrize("version", [(1, 0), (2, 0), (3, 0)])
def test_header_parser_agrees_with_numpy(arr, version):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, arr, version=version, allow_pickle=True)
    buf.seek(0)
    np.lib.format.read_magic(buf)
    reader = (np.lib.format.read_array_header_1_0 if version == (1, 0)
              else np.lib.format.read_array_header_2_0)
    expected = reader(buf)
    assert parse_header(buf.getvalue()[:buf.tell()], "x.npz['a']") == expected


def _header(text: str) -> bytes:
    body = text.encode("latin1")
    return b"\x93NUMPY\x01\x00" + len(body).to_bytes(2, "little") + body


@pytest.mark.parametrize("text, error, message", [
    ("{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (1,), }\n",
     NPZFormatError, "not accepted"),
    ("{'descr': '|V8', 'fortran_order': False, 'shape': (1,), }\n", NPZFormatError,
     "not accepted"),
    ("{'descr': '<f8', 'fortran_order': 1, 'shape': (1,), }\n", NPZFormatError,
     "fortran_order"),
    ("{'descr': '<f8', 'fortran_order': False, 'shape': (-1,), }\n", NPZFormatError,
     "bad shape"),
    ("{'descr': '<f8', 'fortran_order': False, 'shape': (True,), }\n", NPZFormatError,
     "bad shape"),
    (f"{{'descr': '<f8', 'fortran_order': False, 'shape': (0, {EMPTY_LIMIT + 1}), }}\n",
     NPZFormatError, "absurd shape"),
    ("{'descr': '<U0', 'fortran_order': False, 'shape': (10,), }\n", UnsafeNPZError,
     "not accepted"),
    ("{'descr': '<f8', 'shape': (1,), }\n", NPZFormatError, "exactly descr"),
    ("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'x': 1}\n", NPZFormatError,
     "exactly descr"),
    ("{'descr': \"<f8, 'fortran_order'\n", NPZFormatError, "unreadable .npy header"),
    ("(" * 3000 + ")" * 3000, NPZFormatError, "unreadable .npy header"),
    ("__import__('os').system('true')", NPZFormatError, "unreadable .npy header"),
])
def test_bad_headers_are_named(text, error, message):
    with pytest.raises(error, match=rf"x.npz\['a'\].*{message}"):
        parse_header(_header(text), "x.npz['a']")
