"""An inline panel naming the failed call and its AWS error code; the screen stays usable."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from ahi.services.errors import AwsCallError
from ahi.tui.literal import DETAIL_LIMIT, safe

#: What the operator can do about each error code.
HINTS: dict[str, str] = {
    "AccessDeniedException": "The credentials lack this permission: check the IAM policy of the profile.",
    "ThrottlingException": "AWS is throttling: the console backs off; raise the refresh interval if it persists.",
    "ResourceNotFoundException": "The resource is gone or the ID is wrong: refresh the list.",
    "ConflictException": "The resource is in a state that does not allow this yet.",
    "ValidationException": "The request was refused as invalid; the message names the field.",
    "ServiceQuotaExceededException": "A service quota is reached (e.g. 10 active data stores per Region).",
    "InternalServerException": "The service failed; retry in a moment.",
    "EndpointConnectionError": "The endpoint cannot be reached: check the URL, network or VPN.",
    "ConnectionClosedError": "The endpoint closed the connection without a full answer (did it stop?); refresh to try again.",
    "ReadTimeoutError": "The endpoint did not answer in time; refresh to try again.",
    "ConnectTimeoutError": "The endpoint cannot be reached (the connection timed out): check the URL, network or VPN.",
    "NoCredentialsError": "No credentials found: set AWS_PROFILE, run `aws sso login`, or pass --profile.",
    "ExpiredTokenException": "The session expired: log in again (e.g. `aws sso login`).",
    "UnrecognizedClientException": "The credentials are not valid for this endpoint or region.",
}


#: Codes that mean the endpoint refused who we are: the panel names the profile whose keys were refused.
CREDENTIAL_CODES = frozenset({
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "IncompleteSignatureException",
    "MissingAuthenticationTokenException",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
})


def credentials_hint(profile: str | None) -> str:
    """The line shown for a refused signature or key: which profile's credentials, and what to check."""
    return (
        f"Credentials rejected for profile {profile or 'default'}: the endpoint does not accept its access key "
        "or secret. Check the keys in that profile (or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY), the clock, "
        "or log in again."
    )


class ErrorPanel(Static):
    """Hidden until `show_error`; `clear` hides it again."""

    DEFAULT_CSS = """
    ErrorPanel { display: none; height: auto; margin: 0 1; padding: 0 1; border: round $error; color: $text; }
    ErrorPanel.-visible { display: block; }
    """

    def show_error(self, error: AwsCallError, during: str = "") -> None:
        fmt = self.app.formatter  # type: ignore[attr-defined]
        text = Text()
        text.append(f"{error.operation} failed", style="bold")
        if during:
            text.append(f" ({during})", style="dim")
        text.append(" — ")
        text.append(error.code, style="bold red")
        text.append("\n")
        text.append_text(fmt.literal(error.message, limit=DETAIL_LIMIT, multiline=True))
        hint = HINTS.get(error.code)
        if error.code in CREDENTIAL_CODES:
            hint = credentials_hint(getattr(getattr(self.app, "services", None), "profile", None))
        if hint:
            text.append(f"\n{hint}", style="italic")
        self.update(safe(text))
        self.add_class("-visible")

    def clear(self) -> None:
        self.remove_class("-visible")

    @property
    def showing(self) -> bool:
        return self.has_class("-visible")
