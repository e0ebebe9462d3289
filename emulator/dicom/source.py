"""The bytes of one input file, held with bounded memory: spooled to disk when large, inflated with a cap."""

from __future__ import annotations

import tempfile
import zlib
from typing import IO, BinaryIO

from ahi.emulator.dicom.failures import FileFailure
from ahi.emulator.dicom.limits import MAX_INFLATED_BYTES, mib

#: Objects up to this size stay in memory; larger ones go to a temporary file that is gone when closed.
SPOOL_BYTES = 8 * 1024**2
CHUNK_BYTES = 1024**2
DEFLATED_NAME = "Deflated Explicit VR Little Endian"


def spooled() -> IO[bytes]:
    """An anonymous read-write file: memory up to SPOOL_BYTES, then an unlinked temporary file."""
    return tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - the caller closes it


def size_of(stream: BinaryIO) -> int:
    """The length of a seekable stream."""
    here = stream.tell()
    end = stream.seek(0, 2)
    stream.seek(here)
    return end


def inflate_into(source: BinaryIO, target: BinaryIO, limit: int = MAX_INFLATED_BYTES) -> int:
    """Inflate raw deflate data from `source`'s position into `target`; fail once the output passes `limit`.

    `decompress(..., max_length)` hands out at most one chunk at a time, so a bomb of any ratio costs
    one chunk of memory and stops at the limit, never after.
    """
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    total = 0
    try:
        while not inflater.eof:
            pending = inflater.unconsumed_tail or source.read(CHUNK_BYTES)
            if not pending:
                break
            out = inflater.decompress(pending, CHUNK_BYTES)
            total += len(out)
            if total > limit:
                raise _over(limit)
            target.write(out)
        rest = inflater.flush()
        total += len(rest)
        if total > limit:
            raise _over(limit)
        target.write(rest)
    except zlib.error as exc:
        raise FileFailure(f"The {DEFLATED_NAME} data set is not valid deflate data ({exc})") from None
    return total


def _over(limit: int) -> FileFailure:
    return FileFailure(
        f"The {DEFLATED_NAME} data set inflates to more than {mib(limit)}, over the inflate limit for one file; "
        "it is not parsed"
    )
