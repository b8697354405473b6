"""A discord.py voice client that hears: a socket listener on its connection and a hook on its voice websocket.

discord.py connects, negotiates and sends; it has no receive. The hook sees SPEAKING (op 5), which tells which SSRC
is which member, and CLIENT_DISCONNECT (op 13). The listener runs in discord.py's socket-reader thread: it opens the
transport layer with the session's secret key, the DAVE layer with the connection's own DAVE session (passthrough
when the call is not end-to-end encrypted), and hands each member's decoded audio on, still in that thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import davey
import discord
import numpy as np
from discord.voice_state import VoiceConnectionState

from bot.voice.receive.rtp import SILENCE_FRAME, PacketError, TransportCipher
from bot.voice.receive.streams import MemberStream, OncePerCause

log = logging.getLogger(__name__)

SPEAKING, CLIENT_DISCONNECT = 5, 13
AudioSink = Callable[[int, np.ndarray], None]  # (member id, 16 kHz mono samples), called in the reader thread


class Receiver:
    """The socket listener for one connection."""

    def __init__(self, connection: VoiceConnectionState) -> None:
        self._connection = connection
        self.members: dict[int, int] = {}  # SSRC -> member id, from SPEAKING
        self._streams: dict[int, MemberStream] = {}
        self._cipher: tuple[tuple[int, ...], TransportCipher] | None = None
        self.problems = OncePerCause(log)
        self.sink: AudioSink | None = None
        self.wanted: Callable[[int], bool] = lambda member_id: True  # opted-out members are never decoded

    def speaking(self, ssrc: int, member_id: int) -> None:
        if self.members.get(ssrc) != member_id:
            self._streams.pop(ssrc, None)
        self.members[ssrc] = member_id

    def forget(self, member_id: int) -> None:
        for ssrc in [s for s, m in self.members.items() if m == member_id]:
            self.members.pop(ssrc, None)
            self._streams.pop(ssrc, None)

    def __call__(self, data: bytes) -> None:
        try:
            self._receive(data)
        except PacketError as exc:
            self.problems(exc.cause)

    def drain(self, member_id: int) -> list[np.ndarray]:
        """What a member's stream still holds back, once they went quiet."""
        out: list[np.ndarray] = []
        for ssrc, owner in list(self.members.items()):
            if owner == member_id and (stream := self._streams.get(ssrc)) is not None:
                out.extend(stream.drain())
        return out

    def _receive(self, data: bytes) -> None:
        if len(data) == 74 and data[1] == 0x02:
            return  # the IP discovery answer, read by discord.py itself
        packet = self._transport().open(data)
        member_id = self.members.get(packet.ssrc)
        if member_id is None:
            raise PacketError("packet from an SSRC no SPEAKING named")
        if not self.wanted(member_id) or self.sink is None:
            return
        opus = self._end_to_end(member_id, packet.payload)
        if opus == SILENCE_FRAME:
            return
        stream = self._streams.setdefault(packet.ssrc, MemberStream(self.problems))
        for samples in stream.push(packet.sequence, opus):
            self.sink(member_id, samples)

    def _transport(self) -> TransportCipher:
        state = self._connection
        if state.mode != TransportCipher.MODE:
            raise PacketError(f"unsupported transport mode {state.mode!r}")
        key = tuple(state.secret_key)
        if self._cipher is None or self._cipher[0] != key:
            self._cipher = (key, TransportCipher(bytes(key)))
        return self._cipher[1]

    def _end_to_end(self, member_id: int, payload: bytes) -> bytes:
        session = self._connection.dave_session
        if session is None or self._connection.dave_protocol_version == 0 or not session.ready:
            return payload  # not end-to-end encrypted (or between epochs): the transport layer was all
        try:
            return bytes(session.decrypt(member_id, davey.MediaType.audio, payload))
        except Exception as exc:
            raise PacketError("DAVE decrypt failed") from exc


class ListeningVoiceClient(discord.VoiceClient):
    """discord.VoiceClient plus receive. Only the rtpsize AEAD mode, the one Discord requires now, is offered."""

    supported_modes = ("aead_xchacha20_poly1305_rtpsize",)

    def __init__(self, client: discord.Client, channel: discord.abc.Connectable) -> None:
        super().__init__(client, channel)
        self.receiver = Receiver(self._connection)

    def create_connection_state(self) -> VoiceConnectionState:
        return VoiceConnectionState(self, hook=self._on_voice_frame)

    async def _on_voice_frame(self, ws: Any, message: dict[str, Any]) -> None:
        op, data = message.get("op"), message.get("d") or {}
        try:
            if op == SPEAKING and "user_id" in data:
                self.receiver.speaking(int(data["ssrc"]), int(data["user_id"]))
            elif op == CLIENT_DISCONNECT and "user_id" in data:
                self.receiver.forget(int(data["user_id"]))
        except (KeyError, TypeError, ValueError):
            self.receiver.problems("malformed SPEAKING frame")

    def listen(self, sink: AudioSink, wanted: Callable[[int], bool]) -> None:
        self.receiver.sink, self.receiver.wanted = sink, wanted
        self._connection.add_socket_listener(self.receiver)

    def stop_listening(self) -> None:
        self.receiver.sink = None
        self._connection.remove_socket_listener(self.receiver)
