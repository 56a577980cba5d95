"""The machinery under the typed result classes (hand-written; ``_model.py`` is generated).

Every result class is a frozen dataclass, but one built on first use rather than at import:
``import bt_dr`` defines ~80 plain classes (cheap) and turns a class into a dataclass the first
time it is instantiated or asked for its dataclass fields. Decorating them all at import took
most of ``import bt_dr`` (issue 16: ≤ 50 ms over a bare interpreter), and ``dataclasses`` pulls
in ``inspect``, which bt_dr otherwise never needs. For type checkers nothing changes:
``dataclass_transform`` makes mypy and IDEs see each class as the frozen dataclass it becomes.
"""

import datetime as _dt
import os
import re
import threading
import typing
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Mapping, Optional, Tuple, Type, TypeVar, Union, overload

__all__ = ["Frozen", "Model", "field", "to_jsonable", "realized"]

M = TypeVar("M", bound="Model")
T = TypeVar("T")

if TYPE_CHECKING:
    from typing_extensions import dataclass_transform
else:

    def dataclass_transform(**_kwargs: Any) -> Any:
        """Runtime stand-in: only type checkers read the decorator (3.9 and 3.10 lack it)."""
        return lambda cls: cls


_HINTS: Dict[type, Dict[str, Any]] = {}
_FRACTION = re.compile(r"\.(\d+)")

# Names of the classes made dataclasses so far, in order (tests check import builds none).
_REALIZED: List[str] = []
# One lock for every class: realizing is rare and must not run twice for one class (two
# threads decoding the same result type at once), and dataclasses.dataclass is not reentrant-safe.
_LOCK = threading.RLock()
_READY = "_bt_ready"
# Classes being realized right now (by the thread holding _LOCK): dataclasses looks attributes
# up while it works, and a lookup must not start realizing the same class again.
_IN_PROGRESS: List[type] = []


class _Field:
    """A field specifier kept until the class is realized (then a ``dataclasses.field``)."""

    __slots__ = ("default", "default_factory", "repr", "json")

    def __init__(self, default: Any, default_factory: Any, repr: bool, json: Optional[str]) -> None:
        self.default = default
        self.default_factory = default_factory
        self.repr = repr
        self.json = json


_MISSING: Any = object()


@overload
def field(*, default: T, repr: bool = True, json: Optional[str] = None) -> T: ...
@overload
def field(*, default_factory: Callable[[], T], repr: bool = True, json: Optional[str] = None) -> T: ...
@overload
def field(*, repr: bool = True, json: Optional[str] = None) -> Any: ...
def field(
    *,
    default: Any = _MISSING,
    default_factory: Any = _MISSING,
    repr: bool = True,
    json: Optional[str] = None,
) -> Any:
    """``dataclasses.field`` for result classes; ``json`` is the key in the core's JSON when
    it is not the attribute's name (``from`` and ``class`` are Python keywords)."""
    return _Field(default, default_factory, repr, json)


def realized() -> List[str]:
    """Names of the result classes turned into dataclasses so far (first use order)."""
    return list(_REALIZED)


def _realize(cls: type) -> None:
    """Turns ``cls`` into the frozen dataclass its body describes (once, thread-safe)."""
    if _READY in cls.__dict__:
        return
    with _LOCK:
        if _READY in cls.__dict__ or cls in _IN_PROGRESS:
            return
        import dataclasses

        _IN_PROGRESS.append(cls)
        try:
            _build(cls, dataclasses)
        finally:
            _IN_PROGRESS.remove(cls)
        _REALIZED.append(cls.__name__)


def _build(cls: type, dataclasses: Any) -> None:
    """Applies ``dataclasses.dataclass(frozen=True)`` to ``cls`` in place (under _LOCK)."""
    # A result class deriving from another one needs its base's dataclass fields first.
    for base in reversed(cls.__mro__[1:]):
        if isinstance(base, _Lazy) and "_bt_base" not in base.__dict__:
            _realize(base)
    fields: List[Tuple[str, str, bool]] = []
    for name, value in list(cls.__dict__.items()):
        if isinstance(value, _Field):
            kwargs: Dict[str, Any] = {"repr": value.repr}
            if value.default is not _MISSING:
                kwargs["default"] = value.default
            if value.default_factory is not _MISSING:
                kwargs["default_factory"] = value.default_factory
            if value.json is not None:
                kwargs["metadata"] = {"json": value.json}
            setattr(cls, name, dataclasses.field(**kwargs))
    dataclasses.dataclass(frozen=True)(cls)
    for f in dataclasses.fields(cls):
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        fields.append((f.name, f.metadata.get("json", f.name), required))
    # Set last: another thread seeing it may instantiate straight away.
    type.__setattr__(cls, "_bt_fields", tuple(fields))
    type.__setattr__(cls, _READY, True)


if TYPE_CHECKING:
    _Lazy = type
else:

    class _Lazy(type):
        """Metaclass that realizes a class on first instantiation or dataclass introspection.

        Hidden from type checkers, which would otherwise read its ``__call__`` as the
        constructor's signature."""

        def __call__(cls, *args: Any, **kwargs: Any) -> Any:
            if _READY not in cls.__dict__ and "_bt_base" not in cls.__dict__:
                _realize(cls)
            return super().__call__(*args, **kwargs)

        def __getattr__(cls, name: str) -> Any:
            # Only reached for attributes the class lacks: before realization, the ones
            # `dataclasses.fields`/`replace`/`is_dataclass` look for.
            if name in ("__dataclass_fields__", "__dataclass_params__", "__match_args__", "_bt_fields"):
                if "_bt_base" not in cls.__dict__ and _READY not in cls.__dict__ and cls not in _IN_PROGRESS:
                    _realize(cls)
                    return getattr(cls, name)
            raise AttributeError(f"type object {cls.__name__!r} has no attribute {name!r}")


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
class Frozen(metaclass=_Lazy):
    """Base of bt-dr's frozen value classes (results and options), dataclasses on first use."""

    _bt_base = True


def _parse_datetime(value: Any) -> _dt.datetime:
    if isinstance(value, _dt.datetime):
        return value
    if isinstance(value, (int, float)):
        return _dt.datetime.fromtimestamp(value, tz=_dt.timezone.utc)
    text = str(value).strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    # datetime.fromisoformat before 3.11 takes at most 6 fractional digits.
    text = _FRACTION.sub(lambda m: "." + (m.group(1) + "000000")[:6], text, count=1)
    return _dt.datetime.fromisoformat(text)


def _parse_date(value: Any) -> _dt.date:
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    if isinstance(value, (list, tuple)) and len(value) == 2:
        # serde's compact form of a date: (year, ordinal day).
        return _dt.date(int(value[0]), 1, 1) + _dt.timedelta(days=int(value[1]) - 1)
    return _dt.date.fromisoformat(str(value).strip())


def _parse_time(value: Any) -> _dt.time:
    if isinstance(value, _dt.time):
        return value
    if isinstance(value, (list, tuple)) and len(value) >= 3:
        micro = int(value[3]) // 1000 if len(value) > 3 else 0
        return _dt.time(int(value[0]), int(value[1]), int(value[2]), micro)
    return _dt.time.fromisoformat(str(value).strip())


def _hints(cls: type) -> Dict[str, Any]:
    h = _HINTS.get(cls)
    if h is None:
        # The generated module uses postponed annotations: resolve them once per class.
        h = typing.get_type_hints(cls)
        _HINTS[cls] = h
    return h


def _convert(tp: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is Union:
        inner = [a for a in args if a is not type(None)]
        return _convert(inner[0], value) if len(inner) == 1 else value
    if origin in (list, List):
        return [_convert(args[0], v) for v in value]
    if origin in (tuple, Tuple):
        return tuple(_convert(args[0], v) for v in value)
    if origin in (dict, Dict):
        return {k: _convert(args[1], v) for k, v in value.items()}
    if isinstance(tp, type):
        if issubclass(tp, Model):
            if isinstance(value, tp):
                return value
            return tp.from_dict(value)
        if tp is _dt.datetime:
            return _parse_datetime(value)
        if tp is _dt.date:
            return _parse_date(value)
        if tp is _dt.time:
            return _parse_time(value)
        if tp is Path:
            return Path(value)
        if tp is float and isinstance(value, int):
            return float(value)
    return value


def _rfc3339(t: _dt.datetime) -> str:
    s = t.isoformat()
    return s[:-6] + "Z" if s.endswith("+00:00") else s


def to_jsonable(value: Any) -> Any:
    """A JSON-compatible copy of ``value`` (models, dates, paths, lists and dicts)."""
    if isinstance(value, Model):
        return value.to_dict()
    if isinstance(value, _dt.datetime):
        return _rfc3339(value)
    if isinstance(value, (_dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    return value


def _strip_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_strip_none(v) for v in value]
    return value


class Model(Frozen):
    """Base of every bt-dr result: ``to_dict()`` and ``from_dict()``."""

    _bt_base = True

    def to_dict(self) -> Dict[str, Any]:
        """The JSON-compatible form (what ``json.dumps`` accepts)."""
        fields: Tuple[Tuple[str, str, bool], ...] = getattr(type(self), "_bt_fields")
        return {key: to_jsonable(getattr(self, name)) for name, key, _ in fields}

    def _native(self) -> Dict[str, Any]:
        """``to_dict()`` without ``None`` values (absent is what the core's defaults expect)."""
        stripped: Dict[str, Any] = _strip_none(self.to_dict())
        return stripped

    @classmethod
    def from_dict(cls: Type[M], data: Mapping[str, Any]) -> M:
        """Builds the object from its dict form (unknown keys are ignored)."""
        if isinstance(data, cls):
            return data
        if not isinstance(data, Mapping):
            raise TypeError(f"{cls.__name__}.from_dict needs a mapping, got {type(data).__name__}")
        _realize(cls)
        hints = _hints(cls)
        fields: Tuple[Tuple[str, str, bool], ...] = getattr(cls, "_bt_fields")
        if os.environ.get("BT_DR_STRICT_MODELS"):
            known = {key for _, key, _ in fields}
            unknown = sorted(set(data) - known)
            if unknown:
                raise TypeError(f"{cls.__name__} has no field for {unknown} (the core added fields?)")
        kwargs: Dict[str, Any] = {}
        for name, key, required in fields:
            if key in data:
                kwargs[name] = _convert(hints[name], data[key])
            elif required:
                kwargs[name] = None
        return cls(**kwargs)
