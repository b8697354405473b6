"""RTP as Discord sends it: the transport layer (`aead_xchacha20_poly1305_rtpsize`) and the header extension.

With the rtpsize modes the fixed header, the CSRCs and the 4-byte extension *header* are sent in the clear and
authenticated; the extension's body is encrypted with the payload, so it is stripped after decryption. The nonce is a
32-bit counter appended to the packet, zero-padded to 24 bytes.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import nacl.exceptions
import nacl.secret

RTP_VERSION = 2
HEADER_BYTES = 12
NONCE_SUFFIX_BYTES = 4
RTCP_TYPES = range(72, 77)  # payload types 200-204 with the marker bit: RTCP, not audio
SILENCE_FRAME = b"\xf8\xff\xfe"  # Discord's opus silence: five of these end a stretch of speech


class PacketError(ValueError):
    """A packet that is not audio we can read; `cause` names why, for logging once per cause."""

    def __init__(self, cause: str) -> None:
        super().__init__(cause)
        self.cause = cause


@dataclass(frozen=True, slots=True)
class RtpPacket:
    sequence: int
    timestamp: int
    ssrc: int
    payload: bytes  # opus, possibly still DAVE-encrypted


def _clear_header_length(packet: bytes) -> tuple[int, bool]:
    csrc_count, has_extension = packet[0] & 0x0F, bool(packet[0] & 0x10)
    length = HEADER_BYTES + 4 * csrc_count + (4 if has_extension else 0)
    return length, has_extension


class TransportCipher:
    """Opens packets sealed with the session's secret key (from SESSION_DESCRIPTION)."""

    MODE = "aead_xchacha20_poly1305_rtpsize"

    def __init__(self, secret_key: bytes | list[int]) -> None:
        self._box = nacl.secret.Aead(bytes(secret_key))

    def open(self, packet: bytes) -> RtpPacket:
        if len(packet) < HEADER_BYTES + NONCE_SUFFIX_BYTES or packet[0] >> 6 != RTP_VERSION:
            raise PacketError("not an RTP packet")
        if packet[1] in RTCP_TYPES:
            raise PacketError("RTCP")
        header_length, has_extension = _clear_header_length(packet)
        if len(packet) < header_length + NONCE_SUFFIX_BYTES + 16:
            raise PacketError("truncated packet")
        header = packet[:header_length]
        nonce = packet[-NONCE_SUFFIX_BYTES:].ljust(24, b"\x00")
        try:
            plain = self._box.decrypt(packet[header_length:-NONCE_SUFFIX_BYTES], header, nonce)
        except nacl.exceptions.CryptoError as exc:
            raise PacketError("transport decrypt failed") from exc
        if has_extension:
            (words,) = struct.unpack_from(">H", header, header_length - 2)
            plain = plain[4 * words :]
        sequence, timestamp, ssrc = struct.unpack_from(">HII", packet, 2)
        return RtpPacket(sequence, timestamp, ssrc, plain)


def seal(secret_key: bytes, packet: RtpPacket, counter: int, extension: bytes = b"") -> bytes:
    """The sending side, as Discord's voice server does it (the test peer and the bench use it)."""
    first = 0x80 | (0x10 if extension else 0)
    header = struct.pack(">BBHII", first, 0x78, packet.sequence, packet.timestamp, packet.ssrc)
    body = packet.payload
    if extension:
        header += struct.pack(">HH", 0xBEDE, len(extension) // 4)
        body = extension + body
    nonce = struct.pack(">I", counter).ljust(24, b"\x00")
    sealed = nacl.secret.Aead(secret_key).encrypt(body, header, nonce).ciphertext
    return header + sealed + nonce[:NONCE_SUFFIX_BYTES]
