"""pickle for moto's state, with what pickle cannot carry as-is: object bodies and private keys.

moto's models are plain Python objects, so pickle keeps every id, ARN, date and state exactly. Some
values need help: an S3 object (FakeKey) is written without its body, which goes to a body file
(emulator/world/blobs.py) and is named instead; a KMS asymmetric key's private key (a `cryptography`
object) travels as PKCS#8 DER; a lock is loaded as a new, free lock (nothing holds it in a new
process); a `defaultdict` is rebuilt without calling its class's `__init__` (SSM's ParameterDict wants arguments),
and one whose factory is a lambda (SSM's tags, `defaultdict(lambda: defaultdict(dict))`) gets a factory
that copies what the lambda returned; and a bucket's key store can be left out, for the
bucket entry that holds everything of a bucket but its objects.
"""

from __future__ import annotations

import copy
import io
import pickle
import threading
from collections import defaultdict
from typing import Any

from ahi.emulator.world.blobs import Bodies

PROTOCOL = pickle.HIGHEST_PROTOCOL
_BODY = "s3-object"


def _load_private_key(der: bytes) -> Any:
    from cryptography.hazmat.primitives.serialization import load_der_private_key

    return load_der_private_key(der, password=None)


def _empty_key_store(cls: type) -> Any:
    return cls()


_LOCKS = {type(threading.Lock()): threading.Lock, type(threading.RLock()): threading.RLock}


class FreshCopy:
    """A defaultdict factory returning a copy of one value: stands in for a lambda, which pickle cannot carry."""

    def __init__(self, prototype: Any) -> None:
        self.prototype = prototype

    def __call__(self) -> Any:
        return copy.deepcopy(self.prototype)


def _defaultdict(cls: type, factory: Any, items: dict[Any, Any], attributes: dict[str, Any]) -> Any:
    """A defaultdict (or subclass, whose __init__ may want arguments: SSM's ParameterDict) made without __init__."""
    loaded = defaultdict.__new__(cls)
    loaded.default_factory = factory
    dict.update(loaded, items)
    if attributes:
        loaded.__dict__.update(attributes)
    return loaded


def _reduce_defaultdict(obj: defaultdict[Any, Any]) -> tuple[Any, ...]:
    factory = obj.default_factory
    if factory is not None and "<" in getattr(factory, "__qualname__", ""):  # <lambda>, <locals>
        factory = FreshCopy(factory())
    return (_defaultdict, (type(obj), factory, dict(obj), dict(getattr(obj, "__dict__", {}))))


class _Pickler(pickle.Pickler):
    def __init__(self, file: io.BytesIO, bodies: Bodies, without_objects: bool) -> None:
        super().__init__(file, protocol=PROTOCOL)
        from moto.s3.models import FakeKey
        from moto.s3.utils import _VersionedKeyStore

        self._bodies = bodies
        self._key_type = FakeKey
        self._store_type = _VersionedKeyStore
        self._without_objects = without_objects
        #: Body files this pickle names.
        self.named: set[str] = set()

    def persistent_id(self, obj: Any) -> Any:
        if isinstance(obj, self._key_type):
            name = self._bodies.name_of(obj)
            self.named.add(name)
            state = {k: v for k, v in vars(obj).items() if k not in ("_value_buffer", "lock")}
            return (_BODY, type(obj), state, name)
        return None

    def reducer_override(self, obj: Any) -> Any:
        if self._without_objects and type(obj) is self._store_type:
            return (_empty_key_store, (type(obj),))
        if type(obj) in _LOCKS:
            return (_LOCKS[type(obj)], ())
        if isinstance(obj, defaultdict):
            return _reduce_defaultdict(obj)
        if hasattr(obj, "private_bytes") and hasattr(obj, "public_key") and not isinstance(obj, type):
            from cryptography.hazmat.primitives import serialization

            der = obj.private_bytes(
                serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            return (_load_private_key, (der,))
        return NotImplemented


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: io.BytesIO, bodies: Bodies) -> None:
        super().__init__(file)
        self._bodies = bodies
        self.named: set[str] = set()

    def persistent_load(self, pid: Any) -> Any:
        kind, cls, state, name = pid
        if kind != _BODY:
            raise pickle.UnpicklingError(f"unknown persistent id {kind!r}")
        key = cls.__new__(cls)
        key.__dict__.update(state)
        key.lock = threading.Lock()
        self._bodies.adopt(key, name)
        self.named.add(name)
        return key


def dumps(value: Any, bodies: Bodies, without_objects: bool = False) -> tuple[bytes, set[str]]:
    """`value` pickled, and the body files it names (written now if new)."""
    buffer = io.BytesIO()
    pickler = _Pickler(buffer, bodies, without_objects)
    pickler.dump(value)
    return buffer.getvalue(), pickler.named


def loads(data: bytes, bodies: Bodies) -> tuple[Any, set[str]]:
    """The value back, its S3 objects reading their bodies from their files; and the files it names."""
    unpickler = _Unpickler(io.BytesIO(data), bodies)
    return unpickler.load(), unpickler.named
