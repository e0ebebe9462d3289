"""The transfer syntaxes an import accepts (docs/service.md#transfer-syntaxes); what they are stored as is
emulator/dicom/stored_syntaxes.py."""

from __future__ import annotations

SUPPORTED_TRANSFER_SYNTAXES: dict[str, str] = {
    "1.2.840.10008.1.2": "Implicit VR Little Endian",
    "1.2.840.10008.1.2.1": "Explicit VR Little Endian",
    "1.2.840.10008.1.2.1.99": "Deflated Explicit VR Little Endian",
    "1.2.840.10008.1.2.2": "Explicit VR Big Endian",
    "1.2.840.10008.1.2.4.50": "JPEG Baseline (Process 1)",
    "1.2.840.10008.1.2.4.51": "JPEG Baseline (Processes 2 & 4)",
    "1.2.840.10008.1.2.4.57": "JPEG Lossless, Non-Hierarchical (Process 14)",
    "1.2.840.10008.1.2.4.70": "JPEG Lossless, Non-Hierarchical, First-Order Prediction",
    "1.2.840.10008.1.2.4.80": "JPEG-LS Lossless",
    "1.2.840.10008.1.2.4.81": "JPEG-LS Lossy (Near-Lossless)",
    "1.2.840.10008.1.2.4.90": "JPEG 2000 (Lossless Only)",
    "1.2.840.10008.1.2.4.91": "JPEG 2000",
    "1.2.840.10008.1.2.4.201": "HTJ2K (Lossless Only)",
    "1.2.840.10008.1.2.4.202": "HTJ2K with RPCL Options (Lossless Only)",
    "1.2.840.10008.1.2.4.203": "HTJ2K",
    "1.2.840.10008.1.2.5": "RLE Lossless",
}

#: Syntaxes whose source pixels are already an approximation; the stored frame is exact to the decoded pixels.
LOSSY_TRANSFER_SYNTAXES = frozenset(
    {
        "1.2.840.10008.1.2.4.50",
        "1.2.840.10008.1.2.4.51",
        "1.2.840.10008.1.2.4.81",
        "1.2.840.10008.1.2.4.91",
        "1.2.840.10008.1.2.4.203",
    }
)

#: JPEG (ISO 10918) syntaxes: imagecodecs' libjpeg-turbo decodes some files pydicom's plugins reject.
JPEG_10918_TRANSFER_SYNTAXES = frozenset(
    {"1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70"}
)


def is_supported(uid: str) -> bool:
    """Whether an import accepts files in this transfer syntax."""
    return uid in SUPPORTED_TRANSFER_SYNTAXES
