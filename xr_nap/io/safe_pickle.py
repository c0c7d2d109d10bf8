"""Rebuild the pickled object arrays of NPZ files without a general unpickler.

pynapple stores some NPZ members (``_metadata``, sometimes ``columns``, per-unit
metadata of old files) as pickled numpy object arrays. A general unpickler runs
whatever callable a pickle names, and even numpy's own pickle hooks are unsafe: pickle's
BUILD step hands ``numpy.dtype.__setstate__`` any state, including an object field
with the object flag cleared, which makes file bytes into object pointers.

:func:`load` therefore never lets a pickle build a numpy object. It reads the pickle
in three steps:

1. **Scan** the opcodes (:func:`pickletools.genops`, which executes nothing): only the
   opcodes that build Python literals and containers, name a global and call it are
   accepted (no sets, no ``__new__``/``__init__`` opcodes, no extension registry, no
   persistent ids, no out-of-band buffers), and memo indices must be handed out in
   order, so a few bytes cannot make the unpickler allocate a huge memo.
2. **Unpickle** with a :class:`pickle.Unpickler` whose only globals are four inert
   stand-ins for ``numpy.dtype``, ``numpy.ndarray``, ``_reconstruct`` and ``scalar``.
   They record their arguments and the BUILD state and build nothing.
3. **Rebuild** the result from scratch: dicts, lists, tuples, str, bytes, int, float,
   bool and None are copied; a dtype is made fresh from its type string (bool,
   integers, floats, complex, fixed-width strings, datetime64/timedelta64, or the plain
   object dtype) and the state the pickle gave it must be the state numpy itself
   pickles for that dtype (so no field, subarray, size or flag can be forged); an array
   is made with :func:`numpy.frombuffer` from bytes of exactly the size its shape and
   dtype need, or (object dtype) filled with rebuilt values. References are followed
   once each and cycles are refused; the rebuilt tree may not have more elements than
   the pickle has bytes (shared references cannot blow it up) nor be deeper than
   :data:`MAX_DEPTH`.

That covers what pynapple writes: ``np.savez`` pickles (protocol 3) of ``type`` and
``columns`` when they are object arrays, and of ``_metadata``, which pynapple 0.9 to
0.11 build as ``dict(self._metadata)`` (column name -> the numpy array ``set_info``
made with ``np.array``: numbers, booleans, strings, datetimes, or an object array of
such values and None) and older versions as ``DataFrame.to_dict()`` (column -> {row
label: numpy scalar or Python value}). pandas objects (a ``Timestamp`` in an object
column) and anything else are refused with :class:`~xr_nap.errors.UnsafeNPZError`
(it would need code from the file or could break these rules); a malformed pickle
gives :class:`~xr_nap.errors.NPZFormatError`.
"""

from __future__ import annotations

import io
import math
import pickle
import pickletools
import re
from typing import Any

import numpy as np

from xr_nap.errors import NPZFormatError, UnsafeNPZError

__all__ = ["load", "check_plain_dtype"]

MAX_DEPTH = 16  # containers nested deeper than this are refused (pynapple needs 4)

_OPCODES = frozenset({
    "PROTO", "FRAME", "STOP", "MARK", "POP", "POP_MARK", "DUP",
    "NONE", "NEWTRUE", "NEWFALSE", "INT", "BININT", "BININT1", "BININT2",
    "LONG", "LONG1", "LONG4", "FLOAT", "BINFLOAT",
    "UNICODE", "SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8",
    "BINBYTES", "SHORT_BINBYTES", "BINBYTES8",
    "EMPTY_LIST", "APPEND", "APPENDS", "LIST",
    "EMPTY_TUPLE", "TUPLE", "TUPLE1", "TUPLE2", "TUPLE3",
    "EMPTY_DICT", "DICT", "SETITEM", "SETITEMS",
    "GLOBAL", "STACK_GLOBAL", "REDUCE", "BUILD",
    "PUT", "BINPUT", "LONG_BINPUT", "MEMOIZE", "GET", "BINGET", "LONG_BINGET",
})
_LITERALS = frozenset({type(None), bool, int, float, str, bytes})
_PUTS = frozenset({"PUT", "BINPUT", "LONG_BINPUT"})
_GETS = frozenset({"GET", "BINGET", "LONG_BINGET"})

# The type strings numpy pickles a dtype with: ``np.dtype(spec)`` then rebuilds it.
_SPEC = re.compile(r"(b1|[iu][1248]|f(2|4|8|16)|c(8|16|32)|[US][1-9][0-9]{0,9}|O[48]|[Mm]8)")
_DATETIME_UNITS = frozenset(
    {"Y", "M", "W", "D", "h", "m", "s", "ms", "us", "ns", "ps", "fs", "as", "generic"})


def check_plain_dtype(dtype: np.dtype, where: str) -> np.dtype:
    """``dtype`` if it is plain data (bool, number, fixed-width string, datetime) or
    exactly the object dtype; else :class:`UnsafeNPZError` naming ``where``.

    Structured and subarray dtypes are refused: pynapple never writes them, and a field
    is where an object pointer could hide.

    Examples
    --------
    >>> import numpy as np
    >>> check_plain_dtype(np.dtype("<f8"), "x.npz['t']")
    dtype('float64')
    >>> check_plain_dtype(np.dtype([("a", "O")]), "x.npz['t']")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    xr_nap.errors.UnsafeNPZError: x.npz['t']: dtype [('a', 'O')] is not accepted: ...
    """
    plain = (dtype.fields is None and dtype.subdtype is None
             and (dtype.kind in "biufcUSMm" and dtype.itemsize > 0 and not dtype.hasobject
                  or dtype == np.dtype(object)))
    if not plain:
        raise UnsafeNPZError(
            f"{where}: dtype {dtype} is not accepted: only booleans, numbers, fixed-width "
            "strings, datetimes and plain object arrays are read"
        )
    return dtype


# --------------------------------------------------------------------------- stand-ins
class _Placeholder:
    """What the restricted unpickler builds in place of a numpy object."""

    __slots__ = ()

    def __setstate__(self, state: Any) -> None:
        raise UnsafeNPZError(f"refusing a pickle that sets the state of {self._what()}")

    def _what(self) -> str:
        return type(self).__name__.strip("_").lower()


class _NdarrayClass(_Placeholder):
    __slots__ = ()


_NDARRAY = _NdarrayClass()


class _Dtype(_Placeholder):
    __slots__ = ("spec", "state")

    def __init__(self, spec: Any):
        self.spec, self.state = spec, None

    def __setstate__(self, state: Any) -> None:
        if self.state is not None:
            super().__setstate__(state)
        self.state = state


class _Array(_Placeholder):
    __slots__ = ("state",)

    def __init__(self) -> None:
        self.state = None

    def __setstate__(self, state: Any) -> None:
        if self.state is not None:
            super().__setstate__(state)
        self.state = state


class _Scalar(_Placeholder):
    __slots__ = ("dtype", "data")

    def __init__(self, dtype: Any, data: Any):
        self.dtype, self.data = dtype, data


def _dtype(spec: Any, align: Any = False, copy: Any = True) -> _Dtype:
    # numpy writes ("f8", False, True); older versions may write 0/1
    if not isinstance(spec, str) or align not in (False, 0) or copy not in (True, 1):
        raise UnsafeNPZError(f"refusing numpy.dtype{(spec, align, copy)!r}")
    return _Dtype(spec)


def _reconstruct(cls: Any, shape: Any, typecode: Any) -> _Array:
    if cls is not _NDARRAY or shape != (0,) or typecode != b"b":
        raise UnsafeNPZError("refusing an array reconstruction numpy does not write")
    return _Array()


def _scalar(dtype: Any, data: Any = None) -> _Scalar:
    return _Scalar(dtype, data)


_GLOBALS = {("numpy", "dtype"): _dtype, ("numpy", "ndarray"): _NDARRAY}
# numpy 1.x pickles name numpy.core, numpy 2.x numpy._core: accept both spellings
for _module in ("numpy.core.multiarray", "numpy._core.multiarray"):
    _GLOBALS[(_module, "_reconstruct")] = _reconstruct
    _GLOBALS[(_module, "scalar")] = _scalar


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        try:
            return _GLOBALS[(module, name)]
        except KeyError:
            raise UnsafeNPZError(
                f"refusing to unpickle {module}.{name}: only plain numpy arrays, scalars "
                "and strings are accepted"
            ) from None

    def persistent_load(self, pid: Any) -> Any:
        raise UnsafeNPZError("refusing a pickle with persistent ids")


# --------------------------------------------------------------------------- scan
def _scan(data: bytes) -> None:
    """Refuse opcodes outside :data:`_OPCODES` and out-of-order memo indices."""
    memo = 0
    for op, arg, _ in pickletools.genops(data):
        if op.name not in _OPCODES:
            raise UnsafeNPZError(f"refusing pickle opcode {op.name}")
        if op.name in _PUTS:
            if arg > memo:  # a pickler hands out memo slots in order
                raise UnsafeNPZError(f"refusing memo index {arg} (only {memo} used)")
            if arg == memo:
                memo += 1
        elif op.name == "MEMOIZE":
            memo += 1
        elif op.name in _GETS and arg >= memo:
            raise NPZFormatError(f"memo index {arg} was never set")


# --------------------------------------------------------------------------- rebuild
class _Rebuilder:
    """Turn the unpickled tree into fresh Python/numpy objects (see module docstring)."""

    def __init__(self, budget: int):
        self.budget = budget
        self.done: dict[int, tuple[Any, int]] = {}  # id -> (rebuilt, element count)
        self.active: set[int] = set()

    def __call__(self, obj: Any, depth: int = 0) -> tuple[Any, int]:
        if type(obj) in _LITERALS:
            return obj, 1
        key = id(obj)
        if key in self.done:
            return self.done[key]
        if key in self.active:
            raise UnsafeNPZError("refusing a pickle that refers to itself")
        if depth > MAX_DEPTH:
            raise UnsafeNPZError(f"refusing a pickle nested more than {MAX_DEPTH} deep")
        self.active.add(key)
        out, size = self._build(obj, depth + 1)
        self.active.discard(key)
        if size > self.budget:
            raise UnsafeNPZError(
                f"refusing a pickle that expands to more than {self.budget} elements "
                "(more than its own size in bytes)"
            )
        self.done[key] = (out, size)
        return out, size

    def _build(self, obj: Any, depth: int) -> tuple[Any, int]:
        kind = type(obj)
        if kind is list or kind is tuple:
            items = [self(x, depth) for x in obj]
            size = 1 + sum(s for _, s in items)
            values = [v for v, _ in items]
            return (values if kind is list else tuple(values)), size
        if kind is dict:
            out, size = {}, 1
            for k, v in obj.items():
                (k2, s1), (v2, s2) = self(k, depth), self(v, depth)
                try:
                    out[k2] = v2
                except TypeError:
                    raise UnsafeNPZError(f"refusing an unhashable dict key {k2!r}") from None
                size += s1 + s2
            return out, size
        if kind is _Array:
            return self._array(obj, depth)
        if kind is _Scalar:
            return self._scalar(obj), 1
        raise UnsafeNPZError(f"refusing to rebuild a {kind.__name__.strip('_')} here")

    def _array(self, obj: _Array, depth: int) -> tuple[np.ndarray, int]:
        state = obj.state
        if not (isinstance(state, tuple) and len(state) == 5 and state[0] == 1):
            raise UnsafeNPZError("refusing an array state numpy does not write")
        _, shape, dtype, fortran, data = state
        dtype = _rebuild_dtype(dtype)
        if (not isinstance(shape, tuple) or len(shape) > 32
                or not all(type(n) is int and n >= 0 for n in shape)):
            raise UnsafeNPZError(f"refusing array shape {shape!r}")
        if type(fortran) is not bool:
            raise UnsafeNPZError("refusing an array order that is not True/False")
        count = math.prod(shape)
        order = "F" if fortran else "C"
        if dtype.hasobject:
            if type(data) is not list or len(data) != count:
                raise UnsafeNPZError(f"object array of shape {shape} needs {count} values")
            out = np.empty(count, dtype=object)
            size = 1
            for i, x in enumerate(data):  # one by one: a list value stays one element
                out[i], n = self(x, depth)
                size += n
            return out.reshape(shape, order=order), size
        if type(data) is not bytes or len(data) != count * dtype.itemsize:
            raise UnsafeNPZError(
                f"array of shape {shape} and dtype {dtype} needs "
                f"{count * dtype.itemsize} bytes of data"
            )
        return np.frombuffer(data, dtype=dtype).reshape(shape, order=order).copy(), 1

    def _scalar(self, obj: _Scalar) -> np.generic:
        dtype = _rebuild_dtype(obj.dtype)
        if dtype.hasobject or type(obj.data) is not bytes or len(obj.data) != dtype.itemsize:
            raise UnsafeNPZError(f"refusing a numpy scalar of dtype {dtype} from this data")
        return np.frombuffer(obj.data, dtype=dtype)[0]


def _rebuild_dtype(obj: Any) -> np.dtype:
    """A fresh dtype for a pickled one whose state must be numpy's own for it."""
    if type(obj) is not _Dtype or not isinstance(obj.state, tuple) or len(obj.state) < 8:
        raise UnsafeNPZError("refusing a dtype numpy does not pickle this way")
    spec, state = obj.spec, obj.state
    if _SPEC.fullmatch(spec) is None:
        raise UnsafeNPZError(f"refusing dtype {spec!r}: only booleans, numbers, strings, "
                             "datetimes and plain objects are read")
    if spec in ("M8", "m8"):
        unit = state[8][1] if len(state) == 9 and isinstance(state[8], tuple) and len(
            state[8]) == 2 and isinstance(state[8][1], tuple) else None
        if (unit is None or len(unit) != 4 or not isinstance(unit[0], bytes)
                or unit[0].decode("ascii", "replace") not in _DATETIME_UNITS
                or type(unit[1]) is not int or not 1 <= unit[1] < 2**31):
            raise UnsafeNPZError("refusing a datetime dtype with this unit")
        name = unit[0].decode()
        spec = spec if name == "generic" else f"{spec}[{unit[1]}{name}]"
    dtype = np.dtype(spec)
    if state[1] in ("<", ">") and dtype.byteorder not in ("|",):
        dtype = dtype.newbyteorder(state[1])
    if dtype.__reduce__()[2] != state:
        raise UnsafeNPZError(
            f"refusing dtype {spec!r} with a state numpy does not write for it "
            "(a forged field, size or flag)"
        )
    return dtype


# --------------------------------------------------------------------------- entry point
def load(data: bytes) -> Any:
    """Rebuild the pickle ``data`` under the rules of this module.

    Examples
    --------
    >>> import pickle, numpy as np
    >>> load(pickle.dumps({"a": np.arange(2), "b": ["x", None]}, protocol=3))
    {'a': array([0, 1]), 'b': ['x', None]}
    >>> load(pickle.dumps(print))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    xr_nap.errors.UnsafeNPZError: refusing to unpickle builtins.print: ...
    """
    try:
        _scan(data)
        raw = _Unpickler(io.BytesIO(data)).load()
    except NPZFormatError:
        raise
    except Exception as err:  # malformed pickles raise many kinds of errors
        raise NPZFormatError(f"unreadable pickle ({type(err).__name__}: {err})") from None
    return _Rebuilder(budget=len(data))(raw)[0]
