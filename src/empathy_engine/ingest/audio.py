"""WAV files -> float32 samples at the prosody analysis rate; stereo call recordings sliced by turn.

The reader parses the RIFF container itself so that it can accept what contact-centre systems
actually write (PCM 8/16/24/32-bit, 32/64-bit float, G.711 mu-law and A-law, the extensible
header) and refuse the rest with a message that names the file and the fix.
"""

from __future__ import annotations

import os
import stat
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from math import gcd
from pathlib import Path

import numpy as np

#: Every turn is analysed at this rate: telephony's, so phone and wideband audio give the same features.
ANALYSIS_RATE = 8000
MIN_RATE = 4000
MAX_RATE = 192_000
#: The largest WAV file read (an hour of stereo 16-bit audio at 48 kHz is 660 MiB); a bigger one
#: is refused before a byte of it is read, so a path to /dev/zero cannot eat the memory.
MAX_AUDIO_BYTES = 1024 * 1024 * 1024

_PCM, _FLOAT, _ALAW, _MULAW, _EXTENSIBLE = 1, 3, 6, 7, 0xFFFE
_CODEC_NAMES = {2: "MS ADPCM", 0x11: "IMA ADPCM", 0x31: "GSM 6.10", 0x50: "MPEG", 0x55: "MP3", 0x161: "WMA"}
_FIX = "save it as 16-bit PCM WAV (e.g. `sox in.wav -e signed -b 16 out.wav`)"


class AudioError(ValueError):
    """A WAV file that cannot be used: the message names the file, the problem and the fix."""


@dataclass(frozen=True, slots=True)
class Audio:
    """Decoded audio: `samples` is (frames, channels) float32 in [-1, 1] at `sample_rate`."""

    samples: np.ndarray
    sample_rate: int
    source: str

    @property
    def channels(self) -> int:
        return int(self.samples.shape[1])

    @property
    def duration(self) -> float:
        return self.samples.shape[0] / self.sample_rate

    def channel(self, index: int) -> np.ndarray:
        return np.ascontiguousarray(self.samples[:, index])


def _mulaw_table() -> np.ndarray:
    u = ~np.arange(256, dtype=np.int32) & 0xFF
    sign, exponent, mantissa = u & 0x80, (u >> 4) & 0x07, u & 0x0F
    magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84
    return (np.where(sign, -magnitude, magnitude) / 32768.0).astype(np.float32)


def _alaw_table() -> np.ndarray:
    a = np.arange(256, dtype=np.int32) ^ 0x55
    sign, exponent, mantissa = a & 0x80, (a >> 4) & 0x07, a & 0x0F
    magnitude = np.where(exponent == 0, (mantissa << 4) + 8, ((mantissa << 4) + 0x108) << np.maximum(exponent - 1, 0))
    return (np.where(sign, magnitude, -magnitude) / 32768.0).astype(np.float32)


MULAW = _mulaw_table()
ALAW = _alaw_table()


def decode_mulaw(data: bytes) -> np.ndarray:
    """G.711 mu-law bytes (Twilio, Genesys) -> float32 samples."""
    return MULAW[np.frombuffer(data, dtype=np.uint8)]


def encode_mulaw(samples: np.ndarray) -> bytes:
    """Float samples in [-1, 1] -> G.711 mu-law bytes (the inverse of `decode_mulaw`): what a phone
    line does to audio, for replaying recordings as a stream and for telephone-quality test sets."""
    x = np.clip(np.round(np.asarray(samples, np.float64) * 32768.0), -32768, 32767).astype(np.int32)
    sign = np.where(x < 0, 0x80, 0)
    magnitude = np.minimum(np.abs(x), 32635) + 0x84
    exponent = np.clip(np.floor(np.log2(magnitude)).astype(np.int32) - 7, 0, 7)
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return (~(sign | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8).tobytes()


def _chunks(raw: bytes, name: str) -> dict[bytes, bytes]:
    if len(raw) < 12 or raw[:4] not in (b"RIFF", b"RIFX") or raw[8:12] != b"WAVE":
        raise AudioError(f"{name}: not a WAV file (no RIFF/WAVE header); {_FIX}")
    if raw[:4] == b"RIFX":
        raise AudioError(f"{name}: big-endian WAV (RIFX) is not supported; {_FIX}")
    chunks: dict[bytes, bytes] = {}
    pos = 12
    while pos + 8 <= len(raw):
        cid, size = raw[pos : pos + 4], struct.unpack("<I", raw[pos + 4 : pos + 8])[0]
        body = raw[pos + 8 : pos + 8 + size]
        chunks.setdefault(cid, body)
        if cid == b"data":
            break  # some writers put a wrong size on a streamed data chunk; take what is there
        pos += 8 + size + (size & 1)
    if b"fmt " not in chunks or len(chunks[b"fmt "]) < 16:
        raise AudioError(f"{name}: WAV file has no valid 'fmt ' chunk (truncated or damaged?)")
    if b"data" not in chunks:
        raise AudioError(f"{name}: WAV file has no 'data' chunk (truncated or damaged?)")
    return chunks


def _decode(fmt: bytes, data: bytes, name: str) -> tuple[np.ndarray, int]:
    tag, channels, rate, _, block, bits = struct.unpack("<HHIIHH", fmt[:16])
    if tag == _EXTENSIBLE and len(fmt) >= 26:
        tag = struct.unpack("<H", fmt[24:26])[0]  # the sub-format GUID starts with the format tag
    if channels < 1 or block < 1:
        raise AudioError(f"{name}: WAV header says {channels} channels and {block}-byte frames (damaged?)")
    if not MIN_RATE <= rate <= MAX_RATE:
        raise AudioError(f"{name}: sample rate {rate} Hz is outside {MIN_RATE}-{MAX_RATE} Hz")
    data = data[: len(data) - len(data) % block]
    width = block // channels
    if tag == _PCM and bits <= 8 and width == 1:
        x = (np.frombuffer(data, np.uint8).astype(np.float32) - 128.0) / 128.0
    elif tag == _PCM and width == 2:
        x = np.frombuffer(data, "<i2").astype(np.float32) / 32768.0
    elif tag == _PCM and width == 3:
        b = np.frombuffer(data, np.uint8).reshape(-1, 3).astype(np.int32)
        v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        x = (np.where(v >= 1 << 23, v - (1 << 24), v) / float(1 << 23)).astype(np.float32)
    elif tag == _PCM and width == 4:
        x = (np.frombuffer(data, "<i4") / 2147483648.0).astype(np.float32)
    elif tag == _FLOAT and width in (4, 8):
        x = np.frombuffer(data, "<f4" if width == 4 else "<f8").astype(np.float32)
        x = np.nan_to_num(np.clip(x, -1.0, 1.0), nan=0.0)
    elif tag == _MULAW and width == 1:
        x = MULAW[np.frombuffer(data, np.uint8)]
    elif tag == _ALAW and width == 1:
        x = ALAW[np.frombuffer(data, np.uint8)]
    else:
        codec = _CODEC_NAMES.get(tag, f"format tag {tag:#06x}")
        if tag in (_PCM, _FLOAT):
            codec = f"{'PCM' if tag == _PCM else 'float'} with {bits}-bit samples"
        raise AudioError(f"{name}: unsupported WAV encoding ({codec}); {_FIX}")
    return x.reshape(-1, channels), rate


def resample(x: np.ndarray, rate: int, target: int = ANALYSIS_RATE) -> np.ndarray:
    """Polyphase resampling along the first axis (scipy's resample_poly), float32 out."""
    if rate == target:
        return np.ascontiguousarray(x, dtype=np.float32)
    from empathy_engine.extras import require

    require("voice", "audio analysis")  # a clear line, not "No module named 'scipy'"
    from scipy.signal import resample_poly  # imported here: text-only runs never pay for scipy

    g = gcd(rate, target)
    return resample_poly(x, target // g, rate // g, axis=0).astype(np.float32)


def _read_capped(path: str | Path, name: str) -> bytes:
    """The bytes of a regular file of at most MAX_AUDIO_BYTES. Opened non-blocking and checked
    on the open descriptor, so a FIFO, a device or a file swapped in after a check is refused at once."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise AudioError(f"{name}: audio file not found") from None
    except OSError as e:
        raise AudioError(f"{name}: cannot read audio file ({e.strerror or e})") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_AUDIO_BYTES:
        os.close(fd)
        if not stat.S_ISREG(info.st_mode):
            raise AudioError(f"{name}: not a regular file (a device, FIFO or folder); give the path of a WAV file")
        raise AudioError(
            f"{name}: audio file is {info.st_size} bytes; at most {MAX_AUDIO_BYTES} are read - split the "
            "recording or downsample it (`sox in.wav -r 8000 out.wav`)"
        )
    with os.fdopen(fd, "rb") as f:
        try:
            raw = f.read(MAX_AUDIO_BYTES + 1)  # a file that grows while read still stops at the cap
        except OSError as e:
            raise AudioError(f"{name}: cannot read audio file ({e.strerror or e})") from None
    if len(raw) > MAX_AUDIO_BYTES:
        raise AudioError(f"{name}: audio file grew past {MAX_AUDIO_BYTES} bytes while it was read")
    return raw


def read_wav(path: str | Path, *, rate: int | None = ANALYSIS_RATE, mono: bool = True) -> Audio:
    """Read a WAV file; resample to `rate` (None keeps the file's rate).

    With `mono=True` a file with more than one channel is refused (a turn's audio must be
    the customer alone); a call recording with one channel per speaker uses `read_recording`.
    """
    name = str(path)
    chunks = _chunks(_read_capped(path, name), name)
    x, file_rate = _decode(chunks[b"fmt "], chunks[b"data"], name)
    if mono and x.shape[1] != 1:
        raise AudioError(
            f"{name}: has {x.shape[1]} channels; a turn's audio must be mono. For a stereo call recording use "
            f'"recording": {{"path": ..., "channels": {{"customer": 0, "agent": 1}}}}, or mix it down '
            "(`sox in.wav -c 1 out.wav`)"
        )
    if x.shape[0] == 0:
        raise AudioError(f"{name}: WAV file has no audio samples")
    if rate is not None:
        x = resample(x, file_rate, rate)
        file_rate = rate
    return Audio(x, file_rate, name)


def write_wav(path: str | Path, samples: np.ndarray, sample_rate: int) -> Path:
    """Write float samples in [-1, 1], shaped (n,) or (n, channels), as a 16-bit PCM WAV."""
    x = np.asarray(samples, np.float64)
    x = x.reshape(-1, 1) if x.ndim == 1 else x
    pcm = (np.clip(x, -1.0, 32767 / 32768) * 32768.0).round().astype("<i2").tobytes()
    channels = x.shape[1]
    fmt = struct.pack("<HHIIHH", _PCM, channels, sample_rate, sample_rate * 2 * channels, 2 * channels, 16)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(pcm)) + pcm
    path = Path(path)
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body + (b"\0" if len(pcm) & 1 else b""))
    return path


@dataclass(frozen=True, slots=True)
class Recording:
    """A call recording with one channel per speaker, at the analysis rate."""

    audio: Audio
    channels: Mapping[str, int]

    def segment(self, speaker: str, start: float, end: float | None) -> np.ndarray:
        """One speaker's channel between `start` and `end` seconds (to the end of the file if None)."""
        if speaker not in self.channels:
            raise AudioError(f"{self.audio.source}: no channel given for speaker {speaker!r}")
        rate = self.audio.sample_rate
        n = self.audio.samples.shape[0]
        lo = min(n, max(0, round(start * rate)))
        hi = n if end is None else min(n, max(lo, round(end * rate)))
        return np.ascontiguousarray(self.audio.samples[lo:hi, self.channels[speaker]])

    def turn(self, speaker: str, start: float, end: float | None) -> tuple[np.ndarray, np.ndarray | None]:
        """(this speaker's audio, the other speaker's audio over the same span) for one turn."""
        others = [s for s in self.channels if s != speaker]
        other = self.segment(others[0], start, end) if others else None
        return self.segment(speaker, start, end), other


def read_recording(path: str | Path, channels: Mapping[str, int], *, rate: int = ANALYSIS_RATE) -> Recording:
    """A conversation-level recording: `channels` maps speaker to channel index, e.g. {"customer": 0, "agent": 1}."""
    audio = read_wav(path, rate=rate, mono=False)
    for speaker, index in channels.items():
        if not 0 <= index < audio.channels:
            raise AudioError(
                f"{audio.source}: channel {index} for {speaker!r} does not exist; the file has "
                f"{audio.channels} channel{'s' if audio.channels != 1 else ''} (0-based)"
            )
    if len(set(channels.values())) != len(channels):
        raise AudioError(f"{audio.source}: speakers share a channel ({dict(channels)}); give each its own")
    return Recording(audio, dict(channels))


def turn_spans(starts: list[float | None], ends: list[float | None], total: float) -> list[tuple[float, float] | None]:
    """Each turn's (start, end) in seconds: a missing `end` runs to the next turn's start, or the recording's end.

    A turn without a start time has no span (None): its audio cannot be found in the recording.
    """
    spans: list[tuple[float, float] | None] = []
    for i, (start, end) in enumerate(zip(starts, ends, strict=True)):
        if start is None:
            spans.append(None)
            continue
        if end is None:
            later = [s for s in starts[i + 1 :] if s is not None and s > start]
            end = later[0] if later else total
        spans.append((start, max(start, min(end, total))))
    return spans
