"""DeleteDatastore refuses a data store that still holds image sets, whatever else was imported first."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from ahi.emulator.store import datastores, imagesets
from ahi.emulator.store.db import Store

ACCOUNT, REGION, DATASTORE_ID = "123456789012", "us-east-1", "0123456789abcdef0123456789abcdef"

#: Runs in a fresh interpreter that imports the DeleteDatastore handler and the store, nothing else.
DELETE_ONLY = textwrap.dedent(
    """
    import sys, types
    from ahi.emulator.handlers.datastores import delete_datastore
    from ahi.emulator.context import RequestContext
    from ahi.emulator.errors import ConflictException
    from ahi.emulator.store.db import Store

    store = Store(__import__("pathlib").Path(sys.argv[1]))
    runtime = types.SimpleNamespace(store=store, now=lambda: 2000.0, config=types.SimpleNamespace(datastore_transition_seconds=1.0))
    ctx = RequestContext(operation="DeleteDatastore", account_id=sys.argv[2], region=sys.argv[3], request_id="r", runtime=runtime)
    try:
        delete_datastore(ctx, {"datastoreId": sys.argv[4]})
    except ConflictException as error:
        print("refused:", error.message)
    else:
        print("deleted")
    """
)


def seed_store_with_one_image_set(path: Path) -> None:
    """An ACTIVE data store holding one ACTIVE image set, written straight into the store."""
    store = Store(path)
    try:
        with store.transaction() as tx:
            datastores.insert_datastore(
                tx, datastore_id=DATASTORE_ID, account_id=ACCOUNT, region=REGION, name="held",
                kms_key_arn=None, lambda_authorizer_arn=None, lossless_storage_format="HTJ2K",
                now=1000.0, settles_as="ACTIVE", settles_at=1000.0,
            )
            imagesets.insert_image_set(
                tx, image_set_id="f" * 32, datastore_id=DATASTORE_ID, account_id=ACCOUNT, region=REGION,
                document={"Patient": {}, "Study": {}}, frames=[], now=1000.0,
            )
    finally:
        store.close()


def test_delete_datastore_counts_image_sets_in_a_fresh_interpreter(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    seed_store_with_one_image_set(path)
    run = subprocess.run(
        [sys.executable, "-c", DELETE_ONLY, str(path), ACCOUNT, REGION, DATASTORE_ID],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("refused:"), run.stdout
    assert "1 image set" in run.stdout
