"""The store and its foundations without HTTP: SQLite store, migrations, ids, ARNs, tokens, KMS lookups."""

from __future__ import annotations

import os
import re
import sqlite3
import stat
import threading
from pathlib import Path
from typing import Any

import pytest

from ahi.emulator import arns, ids, pagination
from ahi.emulator.kms import describe_key as kms_lookup
from ahi.emulator.config import EndpointConfig
from ahi.emulator.context import RequestContext
from ahi.emulator.errors import ValidationException
from ahi.emulator.model import service_model
from ahi.emulator.runtime import Runtime
from ahi.emulator.store import db, imagesets
from ahi.emulator.store.db import Store, StoreError


@pytest.fixture
def store(tmp_path: Path) -> Any:
    opened = Store(tmp_path / "state" / "state.sqlite3")
    yield opened
    opened.close()


def test_store_applies_every_migration_once_and_reopens(tmp_path: Path) -> None:
    path = tmp_path / "state" / "state.sqlite3"
    first = Store(path)
    newest = db.migration_files()[-1][0]
    assert first.schema_version == newest
    with first.transaction() as tx:
        tx.execute("INSERT INTO secrets (name, value) VALUES ('kept', x'01')")
    first.close()
    again = Store(path)
    with again.read() as conn:
        versions = [row[0] for row in conn.execute("SELECT version FROM schema_version ORDER BY version")]
        kept = conn.execute("SELECT value FROM secrets WHERE name = 'kept'").fetchone()[0]
    again.close()
    assert versions == [version for version, _, _ in db.migration_files()]
    assert kept == b"\x01"


def test_store_is_wal_with_private_permissions(tmp_path: Path) -> None:
    state = tmp_path / "state"
    runtime = Runtime(EndpointConfig(state_dir=state))
    try:
        with runtime.store.read() as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert stat.S_IMODE(os.stat(state).st_mode) == 0o700
        files = list(state.iterdir())
        assert {path.name for path in files} >= {"state.sqlite3"}
        for path in files:
            assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path.name
    finally:
        runtime.close()


def test_newer_schema_than_the_code_knows_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    Store(path).close()
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO schema_version VALUES (9999, 'from_the_future', 0)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="newer"):
        Store(path)


def test_transaction_rolls_back_on_error(store: Store) -> None:
    with pytest.raises(RuntimeError):
        with store.transaction() as tx:
            tx.execute("INSERT INTO secrets (name, value) VALUES ('half', x'00')")
            raise RuntimeError("boom")
    with store.read() as conn:
        assert conn.execute("SELECT COUNT(*) FROM secrets WHERE name = 'half'").fetchone()[0] == 0


def test_concurrent_writers_are_serialized(store: Store) -> None:
    with store.transaction() as tx:
        tx.execute("INSERT INTO secrets (name, value) VALUES ('counter', 0)")

    def bump() -> None:
        for _ in range(50):
            with store.transaction() as tx:
                value = tx.execute("SELECT value FROM secrets WHERE name = 'counter'").fetchone()[0]
                tx.execute("UPDATE secrets SET value = ? WHERE name = 'counter'", (value + 1,))

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with store.read() as conn:
        assert conn.execute("SELECT value FROM secrets WHERE name = 'counter'").fetchone()[0] == 200


def test_a_read_is_a_snapshot_while_a_writer_commits(store: Store) -> None:
    with store.read() as conn:
        before = conn.execute("SELECT COUNT(*) FROM secrets").fetchone()[0]
        with store.transaction() as tx:
            tx.execute("INSERT INTO secrets (name, value) VALUES ('late', x'00')")
        assert conn.execute("SELECT COUNT(*) FROM secrets").fetchone()[0] == before
    with store.read() as conn:
        assert conn.execute("SELECT COUNT(*) FROM secrets").fetchone()[0] == before + 1


def test_closed_store_refuses_work(tmp_path: Path) -> None:
    closed = Store(tmp_path / "s.sqlite3")
    closed.close()
    with pytest.raises(StoreError):
        with closed.transaction():
            pass


def test_secrets_persist(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    first = Store(path)
    secret = first.secret("signing")
    first.close()
    second = Store(path)
    assert second.secret("signing") == secret and len(secret) == 32
    assert second.secret("other") != secret
    second.close()


def test_an_empty_store_holds_no_image_sets(store: Store) -> None:
    with store.read() as conn:
        assert imagesets.count_live(conn, "0" * 32) == 0
        image_set = arns.parse_resource_arn(arns.image_set_arn("us-east-1", "123456789012", "a" * 32, "b" * 32))
        assert not imagesets.exists_for_arn(conn, image_set)


def test_ids_look_like_the_services() -> None:
    made = {ids.new_id() for _ in range(100)}
    assert len(made) == 100
    for shape in ("DatastoreId", "ImageSetId", "JobId", "ImageFrameId"):
        pattern = service_model().shape_for(shape).metadata["pattern"]
        assert all(re.fullmatch(pattern, value) and len(value) == 32 for value in made), shape


def test_arns_build_and_parse() -> None:
    datastore = arns.datastore_arn("eu-west-1", "123456789012", "a" * 32)
    assert datastore == f"arn:aws:medical-imaging:eu-west-1:123456789012:datastore/{'a' * 32}"
    image_set = arns.image_set_arn("eu-west-1", "123456789012", "a" * 32, "b" * 32)
    assert image_set == f"{datastore}/imageset/{'b' * 32}"
    parsed = arns.parse_resource_arn(image_set)
    assert (parsed.region, parsed.account_id, parsed.datastore_id, parsed.image_set_id) == (
        "eu-west-1",
        "123456789012",
        "a" * 32,
        "b" * 32,
    )
    assert parsed.kind == "imageset" and str(parsed) == image_set
    assert arns.parse_resource_arn(datastore).kind == "datastore"
    assert arns.parse_resource_arn(datastore.replace("arn:aws:", "arn:aws-cn:")).partition == "aws-cn"


@pytest.mark.parametrize(
    "bad",
    [
        "arn:aws:s3:::bucket",
        f"arn:aws:medical-imaging:us-east-1:123456789012:datastore/{'a' * 31}",
        f"arn:aws:medical-imaging:us-east-1:12345:datastore/{'a' * 32}",
        f"arn:aws:medical-imaging:us-east-1:123456789012:dicomstore/{'a' * 32}",
        f"arn:aws:medical-imaging:us-east-1:123456789012:datastore/{'a' * 32}/imageSet/{'b' * 32}",
        f"arn:aws:medical-imaging:us-east-1:123456789012:datastore/{'a' * 32}/",
    ],
)
def test_malformed_arns_are_validation_errors(bad: str) -> None:
    with pytest.raises(ValidationException, match="resourceArn"):
        arns.parse_resource_arn(bad)


def _context(runtime: Runtime, operation: str = "ListDatastores", region: str = "us-east-1") -> RequestContext:
    return RequestContext(
        operation=operation, account_id="123456789012", region=region, request_id="r", runtime=runtime
    )


@pytest.fixture
def runtime(tmp_path: Path) -> Any:
    made = Runtime(EndpointConfig(state_dir=tmp_path / "state"))
    yield made
    made.close()


def test_paginate_walks_every_item_once_in_order(runtime: Runtime) -> None:
    items = list(range(23))
    ctx = _context(runtime)

    def fetch(after: list[Any] | None, limit: int) -> list[int]:
        start = -1 if after is None else after[0]
        return [item for item in items if item > start][:limit]

    seen: list[int] = []
    token: str | None = None
    pages = 0
    while True:
        params = {"maxResults": 5, **({"nextToken": token} if token else {})}
        page, token = pagination.paginate(
            ctx, params, filters={"f": 1}, fetch=fetch, key=lambda item: [item], default_size=50
        )
        seen += page
        pages += 1
        if token is None:
            break
    assert seen == items and pages == 5
    everything, last = pagination.paginate(ctx, {}, filters={"f": 1}, fetch=fetch, key=lambda i: [i], default_size=50)
    assert everything == items and last is None


def test_tokens_are_bound_to_operation_filters_and_caller(runtime: Runtime) -> None:
    ctx = _context(runtime)
    token = pagination.encode_token(ctx, {"datastoreStatus": None}, [7])
    assert pagination.decode_token(ctx, {"datastoreStatus": None}, token) == [7]
    foreign = [
        (_context(runtime, operation="ListDICOMImportJobs"), {"datastoreStatus": None}),
        (ctx, {"datastoreStatus": "ACTIVE"}),
        (_context(runtime, region="eu-west-1"), {"datastoreStatus": None}),
    ]
    for other_ctx, other_filters in foreign:
        with pytest.raises(ValidationException, match="nextToken"):
            pagination.decode_token(other_ctx, other_filters, token)


@pytest.mark.parametrize("mangle", [lambda t: t + "x", lambda t: "A" + t[1:], lambda t: t.replace(".", ""), lambda t: "%%%"])
def test_tampered_tokens_are_validation_errors(runtime: Runtime, mangle: Any) -> None:
    ctx = _context(runtime)
    token = pagination.encode_token(ctx, {}, [123])
    with pytest.raises(ValidationException, match="nextToken"):
        pagination.decode_token(ctx, {}, mangle(token))


def test_tokens_from_another_state_file_are_refused(tmp_path: Path, runtime: Runtime) -> None:
    other = Runtime(EndpointConfig(state_dir=tmp_path / "other"))
    try:
        token = pagination.encode_token(_context(other), {}, [1])
    finally:
        other.close()
    with pytest.raises(ValidationException):
        pagination.decode_token(_context(runtime), {}, token)


def test_kms_lookup_reads_moto_in_process(endpoint: Any, kms: Any) -> None:
    """Covers the moto internals emulator.kms relies on (moto is pinned exactly for this)."""
    key = kms.create_key(Description="ds")["KeyMetadata"]
    kms.create_alias(AliasName="alias/ds-key", TargetKeyId=key["KeyId"])
    info = kms_lookup(key["Arn"])
    assert info is not None and info.key_id == key["KeyId"] and info.state == "Enabled"
    assert info.is_symmetric_encryption_key and info.arn == key["Arn"]
    alias_arn = "arn:aws:kms:us-east-1:123456789012:alias/ds-key"
    assert kms_lookup(alias_arn).key_id == key["KeyId"]  # type: ignore[union-attr]
    assert kms_lookup(alias_arn.replace("ds-key", "missing")) is None
    assert kms_lookup(key["Arn"].replace("us-east-1", "eu-west-1")) is None
    assert kms_lookup(key["Arn"].replace("123456789012", "111122223333")) is None
    assert kms_lookup("arn:aws:kms:us-east-1:123456789012:alias/aws/s3") is None
    kms.disable_key(KeyId=key["KeyId"])
    assert kms_lookup(key["Arn"]).state == "Disabled"  # type: ignore[union-attr]
    signing = kms.create_key(KeyUsage="SIGN_VERIFY", KeySpec="RSA_2048")["KeyMetadata"]
    assert not kms_lookup(signing["Arn"]).is_symmetric_encryption_key  # type: ignore[union-attr]

