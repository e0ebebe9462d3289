"""How a data store's fields look in tables and detail panes (shared by the list and the detail)."""

from __future__ import annotations

from rich.text import Text

from ahi.services.datastores import Datastore

STATUS_STYLES = {
    "ACTIVE": "green",
    "CREATING": "yellow",
    "DELETING": "yellow",
    "CREATE_FAILED": "bold red",
    "DELETED": "dim",
}
AWS_OWNED = "AWS owned"


def datastore_status_cell(status: str) -> Text:
    """A data store's status, coloured for a table cell."""
    return Text(status, style=STATUS_STYLES.get(status, ""))


def key_id_of(kms_key_arn: str) -> str:
    """The key id (or alias name) at the end of a KMS key ARN."""
    resource = kms_key_arn.split(":", 5)[-1]
    return resource.split("/", 1)[1] if resource.startswith("key/") else resource


def kms_label(datastore: Datastore, aliases: dict[str, str]) -> str:
    """Alias of the data store's customer key, its key id, or "AWS owned"; "…" until details arrive."""
    if not datastore.detailed:
        return "…"
    if not datastore.kms_key_arn:
        return AWS_OWNED
    key = key_id_of(datastore.kms_key_arn)
    return aliases.get(key, key)
