"""The largest request body each medical-imaging operation accepts, derived from botocore's model.

A body is refused with 413 before it is read when its Content-Length (or, chunked, the bytes so far)
passes its operation's limit: the JSON a model-valid request could take at worst (every character
escaped as `\\uXXXX`, blobs in base64, every list and map at its model maximum) times two, and never
under `FLOOR`. The model leaves some sizes open; those take the defaults below (docs/server.md).
"""

from __future__ import annotations

import functools

from botocore.model import OperationModel, Shape

#: No operation's limit is below this: room for JSON whitespace and members the model may add.
FLOOR = 64 * 1024
#: Headroom over the computed worst case.
HEADROOM = 2
#: Sizes the model leaves open (a string, blob or collection without `max`): our choice.
OPEN_STRING_CHARS = 64 * 1024
OPEN_BLOB_BYTES = 1024 * 1024
OPEN_COLLECTION_ITEMS = 1000
#: Bytes one UTF-16 unit can take in a JSON string (`\uXXXX`).
ESCAPED_UNIT = 6
SCALAR_BYTES = 32


def shape_bound(shape: Shape, depth: int = 0) -> int:
    """The most bytes one value of `shape` can take as JSON when it satisfies the model's lengths."""
    kind = shape.type_name
    meta = shape.metadata
    if depth > 20:  # recursive shapes: the model has none today; a bound rather than a loop
        return OPEN_BLOB_BYTES
    if kind == "string":
        return meta.get("max", OPEN_STRING_CHARS) * ESCAPED_UNIT + 2
    if kind == "blob":
        return (meta.get("max", OPEN_BLOB_BYTES) + 2) // 3 * 4 + 2
    if kind == "list":
        return meta.get("max", OPEN_COLLECTION_ITEMS) * (shape_bound(shape.member, depth + 1) + 1) + 2  # type: ignore[attr-defined]
    if kind == "map":
        entry = shape_bound(shape.key, depth + 1) + shape_bound(shape.value, depth + 1) + 2  # type: ignore[attr-defined]
        return meta.get("max", OPEN_COLLECTION_ITEMS) * entry + 2
    if kind == "structure":
        if shape.is_document_type:
            return OPEN_BLOB_BYTES
        members = shape.members  # type: ignore[attr-defined]
        return sum(len(name) * ESCAPED_UNIT + 4 + shape_bound(member, depth + 1) for name, member in members.items()) + 2
    return SCALAR_BYTES


def body_bound(operation: OperationModel) -> int:
    """The worst-case body of a model-valid request: its payload member, or its JSON body members."""
    shape = operation.input_shape
    if shape is None:
        return 0
    payload = shape.serialization.get("payload")
    if payload is not None:
        member = shape.members[payload]
        if member.type_name == "blob":
            return member.metadata.get("max", OPEN_BLOB_BYTES)
        return shape_bound(member)
    body = {name: member for name, member in shape.members.items() if "location" not in member.serialization}
    return sum(len(name) + 4 + shape_bound(member) for name, member in body.items()) + 2


@functools.cache
def body_limit(operation_name: str) -> int:
    """Bytes of body the endpoint reads for this operation before answering 413."""
    from ahi.emulator.model import operation_model

    return max(FLOOR, HEADROOM * body_bound(operation_model(operation_name)))
