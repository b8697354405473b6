"""A local peer playing Discord's voice side for a real discord.py voice client.

- the main gateway's part: `StandinGuild.change_voice_state` answers with VOICE_STATE_UPDATE and VOICE_SERVER_UPDATE
  (the endpoint is this server);
- the voice websocket (v8): IDENTIFY → HELLO + READY, SELECT_PROTOCOL → SESSION_DESCRIPTION with a fresh secret key
  (`aead_xchacha20_poly1305_rtpsize`, DAVE protocol 0: not end-to-end encrypted, as in local tests), heartbeats
  acknowledged, and SPEAKING (op 5) sent for members;
- UDP: IP discovery answered; members' opus sent in RTP sealed with the session key, with a header extension as
  Discord sends it; the bot's own audio packets received and counted.
"""

from __future__ import annotations

import asyncio
import json
import os
import struct
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import aiohttp
import discord
from aiohttp import web

from bot.voice.audio import FRAME_BYTES, wav_to_pcm
from bot.voice.receive.rtp import RtpPacket, seal

BOT_ID = 900
BOT_SSRC = 1
GUILD_ID, CHANNEL_ID = 10, 20
GATEWAY_DELAY = 0.05
AUDIO_LEVEL_EXTENSION = b"\x10\xff\x00\x00"  # one RFC 8285 element, as Discord's packets carry


def espeak_opus(text: str) -> list[bytes]:
    """`text` spoken by espeak-ng, as the 20 ms opus frames a Discord client would send."""
    wav = subprocess.run(["espeak-ng", "--stdout", text], capture_output=True, check=True).stdout
    pcm = wav_to_pcm(wav).data
    encoder = discord.opus.Encoder()
    return [
        encoder.encode(pcm[i : i + FRAME_BYTES].ljust(FRAME_BYTES, b"\x00"), encoder.SAMPLES_PER_FRAME)
        for i in range(0, len(pcm), FRAME_BYTES)
    ]


@dataclass
class _Udp(asyncio.DatagramProtocol):
    server: VoiceServer
    transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if len(data) == 74 and data[:2] == b"\x00\x01":
            self.server.bot_address = addr
            reply = bytearray(74)
            struct.pack_into(">HHI", reply, 0, 2, 70, struct.unpack_from(">I", data, 4)[0])
            reply[8 : 8 + len(addr[0])] = addr[0].encode()
            struct.pack_into(">H", reply, 72, addr[1])
            assert self.transport is not None
            self.transport.sendto(bytes(reply), addr)
        elif len(data) > 12:
            self.server.frames_received += 1
            self.server.last_frame_at = time.monotonic()
            if self.server.first_frame_at is None:
                self.server.first_frame_at = self.server.last_frame_at


@dataclass
class VoiceServer:
    secret_key: bytes = field(default_factory=lambda: os.urandom(32))
    frames_received: int = 0  # the bot's audio packets
    first_frame_at: float | None = None
    last_frame_at: float | None = None
    bot_speaking: list[int] = field(default_factory=list)  # SPEAKING flags the bot sent
    bot_address: tuple[str, int] | None = None
    port: int = 0
    udp_port: int = 0
    _ws: web.WebSocketResponse | None = None
    _udp: _Udp | None = None
    _runner: web.AppRunner | None = None
    _sequences: dict[int, int] = field(default_factory=dict)
    _counter: int = 0
    selected = asyncio.Event

    async def start(self) -> VoiceServer:
        self.ready = asyncio.Event()
        app = web.Application()
        app.router.add_get("/", self._websocket)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        loop = asyncio.get_running_loop()
        _, protocol = await loop.create_datagram_endpoint(lambda: _Udp(self), local_addr=("127.0.0.1", 0))
        self._udp = protocol
        assert protocol.transport is not None
        self.udp_port = protocol.transport.get_extra_info("sockname")[1]
        return self

    async def stop(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._udp is not None and self._udp.transport is not None:
            self._udp.transport.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _websocket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._ws = ws
        async for message in ws:
            if message.type == aiohttp.WSMsgType.TEXT:
                await self._on_frame(ws, json.loads(message.data))
        return ws

    async def _on_frame(self, ws: web.WebSocketResponse, frame: dict[str, Any]) -> None:
        op, data = frame["op"], frame.get("d")
        if op == 0:  # IDENTIFY
            await ws.send_json({"op": 8, "d": {"heartbeat_interval": 5000}})
            modes = ["aead_aes256_gcm_rtpsize", "aead_xchacha20_poly1305_rtpsize"]
            await ws.send_json(
                {"op": 2, "d": {"ssrc": BOT_SSRC, "ip": "127.0.0.1", "port": self.udp_port, "modes": modes}}
            )
        elif op == 1:  # SELECT_PROTOCOL
            mode = data["data"]["mode"]
            key = list(self.secret_key)
            await ws.send_json({"op": 4, "d": {"mode": mode, "secret_key": key, "dave_protocol_version": 0}})
            self.ready.set()
        elif op == 3:  # HEARTBEAT
            await ws.send_json({"op": 6, "d": {"t": data.get("t") if isinstance(data, dict) else data}})
        elif op == 5:
            self.bot_speaking.append(int(data["speaking"]))

    async def announce(self, member_id: int, ssrc: int) -> None:
        """SPEAKING (op 5): this SSRC is this member."""
        assert self._ws is not None
        await self._ws.send_json({"op": 5, "d": {"user_id": str(member_id), "ssrc": ssrc, "speaking": 1}})

    def send_raw(self, data: bytes) -> None:
        assert self._udp is not None and self._udp.transport is not None and self.bot_address is not None
        self._udp.transport.sendto(data, self.bot_address)

    def packet(self, ssrc: int, opus: bytes, key: bytes | None = None) -> bytes:
        """One sealed RTP packet of this SSRC's stream (the next sequence number)."""
        sequence = self._sequences.get(ssrc, 1000)
        self._sequences[ssrc] = (sequence + 1) & 0xFFFF
        self._counter += 1
        rtp = RtpPacket(sequence, sequence * 960, ssrc, opus)
        return seal(key or self.secret_key, rtp, self._counter, AUDIO_LEVEL_EXTENSION)

    async def speak(self, ssrc: int, frames: Sequence[bytes], realtime: bool = True) -> float:
        """Send opus frames every 20 ms as a Discord client does; returns when the last one went (monotonic)."""
        start = time.monotonic()
        for index, opus in enumerate(frames):
            self.send_raw(self.packet(ssrc, opus))
            if realtime:
                await asyncio.sleep(max(0.0, start + (index + 1) * 0.02 - time.monotonic()))
        return time.monotonic()


class _Http:
    """discord.py's HTTP client, as far as the voice connection uses it: the voice websocket (TLS off, locally)."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None

    async def ws_connect(self, url: str, *, compress: int = 0) -> Any:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return await self._session.ws_connect(url.replace("wss://", "ws://"), autoclose=False, max_msg_size=0)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


class StandinGuild:
    """The main gateway's part in joining voice."""

    def __init__(self, server: VoiceServer) -> None:
        self.id, self._server = GUILD_ID, server
        self.voice_client: Any = None
        self.me = SimpleNamespace(voice=None)
        self.deaf: list[bool] = []  # self_deaf of every voice state the bot sent

    async def change_voice_state(self, *, channel: Any, self_mute: bool = False, self_deaf: bool = False) -> None:
        self.deaf.append(self_deaf)
        vc = self.voice_client
        if channel is not None and vc is not None and vc.is_connected():
            return  # deafening or undeafening in the same channel: the voice connection stays as it is
        self._events = asyncio.get_running_loop().create_task(self._answer(channel))

    async def _answer(self, channel: Any) -> None:
        await asyncio.sleep(GATEWAY_DELAY)  # discord.py starts waiting for these only after sending its request
        channel_id = None if channel is None else str(channel.id)
        vc = self.voice_client
        await vc.on_voice_state_update(
            {"session_id": "voice-session", "channel_id": channel_id, "user_id": str(BOT_ID)}
        )
        if channel is not None:
            endpoint = f"127.0.0.1:{self._server.port}"
            await vc.on_voice_server_update({"token": "voice-token", "guild_id": str(GUILD_ID), "endpoint": endpoint})


def standin_client(loop: asyncio.AbstractEventLoop) -> Any:
    """The parts of discord.Client a voice client touches."""
    state = SimpleNamespace(
        loop=loop, user=SimpleNamespace(id=BOT_ID), http=_Http(), _remove_voice_client=lambda key: None
    )
    return SimpleNamespace(_connection=state, loop=loop)


def standin_channel(guild: StandinGuild) -> Any:
    return SimpleNamespace(id=CHANNEL_ID, guild=guild, _get_voice_client_key=lambda: (GUILD_ID, "guild_id"))
