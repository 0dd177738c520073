from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from empathy_engine.ingest.audio import (
    ANALYSIS_RATE,
    AudioError,
    decode_mulaw,
    read_recording,
    read_wav,
    turn_spans,
    write_wav,
)


def _tone(hz: float, seconds: float, rate: int) -> np.ndarray:
    return 0.5 * np.sin(2 * np.pi * hz * np.arange(int(seconds * rate)) / rate)


def _peak_hz(x: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1.0 / rate)[np.argmax(spectrum)])


def _raw_wav(path: Path, tag: int, channels: int, rate: int, bits: int, data: bytes, extensible: bool = False) -> Path:
    """A WAV file with any format tag, written by hand (for encodings the engine must accept or refuse)."""
    block = channels * max(1, bits // 8)
    if extensible:
        guid = struct.pack("<H", tag) + b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
        fmt = struct.pack("<HHIIHHHHI", 0xFFFE, channels, rate, rate * block, block, bits, 22, bits, 0) + guid
    else:
        fmt = struct.pack("<HHIIHH", tag, channels, rate, rate * block, block, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    return path


@pytest.mark.parametrize("rate", [8000, 16000, 22050, 44100, 48000])
def test_audio_read_wav_resamples_common_rates_to_the_analysis_rate(tmp_path: Path, rate: int) -> None:
    audio = read_wav(write_wav(tmp_path / "a.wav", _tone(220.0, 1.0, rate), rate))
    assert audio.sample_rate == ANALYSIS_RATE and audio.channels == 1
    assert audio.samples.dtype == np.float32
    assert audio.duration == pytest.approx(1.0, abs=1e-3)
    assert _peak_hz(audio.channel(0), ANALYSIS_RATE) == pytest.approx(220.0, abs=2.0)


def test_audio_read_wav_decodes_float_24_bit_8_bit_and_extensible(tmp_path: Path) -> None:
    x = _tone(300.0, 0.5, 16000)
    cases = {
        "float": _raw_wav(tmp_path / "f.wav", 3, 1, 16000, 32, x.astype("<f4").tobytes()),
        "int24": _raw_wav(
            tmp_path / "i24.wav",
            1,
            1,
            16000,
            24,
            b"".join(int(v).to_bytes(3, "little", signed=True) for v in (x * (1 << 23)).astype(np.int64)),
        ),
        "uint8": _raw_wav(tmp_path / "u8.wav", 1, 1, 16000, 8, (x * 127 + 128).astype(np.uint8).tobytes()),
        "extensible": _raw_wav(tmp_path / "e.wav", 1, 1, 16000, 16, (x * 32767).astype("<i2").tobytes(), True),
    }
    for name, path in cases.items():
        y = read_wav(path, rate=None).channel(0)
        assert np.max(np.abs(y - x)) < 0.02, name


def test_audio_mulaw_and_alaw_match_g711(tmp_path: Path) -> None:
    # G.711 mu-law: 0xFF and 0x7F are zero, 0x00 is the most negative value, 0x80 the most positive.
    assert decode_mulaw(bytes([0xFF, 0x7F, 0x00, 0x80])).tolist() == pytest.approx(
        [0.0, 0.0, -32124 / 32768, 32124 / 32768]
    )
    mulaw = read_wav(_raw_wav(tmp_path / "u.wav", 7, 1, 8000, 8, bytes([0x80, 0x00, 0xFF])), rate=None)
    assert mulaw.channel(0).tolist() == pytest.approx([32124 / 32768, -32124 / 32768, 0.0])
    # A-law: 0xD5 is the smallest positive step (8/32768), 0xAA the largest (32256/32768).
    alaw = read_wav(_raw_wav(tmp_path / "a.wav", 6, 1, 8000, 8, bytes([0xD5, 0xAA, 0x2A])), rate=None)
    assert alaw.channel(0).tolist() == pytest.approx([8 / 32768, 32256 / 32768, -32256 / 32768])


def test_audio_errors_name_the_file_and_the_fix(tmp_path: Path) -> None:
    stereo = write_wav(tmp_path / "stereo.wav", np.zeros((800, 2)), 8000)
    with pytest.raises(AudioError, match=r"stereo\.wav: has 2 channels; a turn's audio must be mono"):
        read_wav(stereo)
    mp3 = _raw_wav(tmp_path / "mp3.wav", 0x55, 1, 8000, 0, b"\x00" * 100)
    with pytest.raises(AudioError, match=r"mp3\.wav: unsupported WAV encoding \(MP3\); save it as 16-bit PCM"):
        read_wav(mp3)
    adpcm = _raw_wav(tmp_path / "adpcm.wav", 2, 1, 8000, 4, b"\x00" * 100)
    with pytest.raises(AudioError, match=r"adpcm\.wav: unsupported WAV encoding \(MS ADPCM\)"):
        read_wav(adpcm)
    (tmp_path / "notes.wav").write_text("this is not audio")
    with pytest.raises(AudioError, match=r"notes\.wav: not a WAV file"):
        read_wav(tmp_path / "notes.wav")
    with pytest.raises(AudioError, match=r"missing\.wav: audio file not found"):
        read_wav(tmp_path / "missing.wav")
    truncated = tmp_path / "truncated.wav"
    truncated.write_bytes(write_wav(tmp_path / "ok.wav", np.zeros(800), 8000).read_bytes()[:30])
    with pytest.raises(AudioError, match=r"truncated\.wav: WAV file has no"):
        read_wav(truncated)
    odd_rate = _raw_wav(tmp_path / "odd.wav", 1, 1, 1000, 16, b"\x00" * 100)
    with pytest.raises(AudioError, match=r"odd\.wav: sample rate 1000 Hz is outside"):
        read_wav(odd_rate)
    empty = _raw_wav(tmp_path / "empty.wav", 1, 1, 8000, 16, b"")
    with pytest.raises(AudioError, match=r"empty\.wav: WAV file has no audio samples"):
        read_wav(empty)


def test_audio_recording_slices_each_speakers_channel_by_turn_time(tmp_path: Path) -> None:
    rate = 16000
    left, right = _tone(200.0, 3.0, rate), _tone(500.0, 3.0, rate)
    right[:rate] = 0.0  # the agent is silent for the first second
    path = write_wav(tmp_path / "call.wav", np.stack([left, right], axis=1), rate)
    rec = read_recording(path, {"customer": 0, "agent": 1})
    customer, agent = rec.turn("customer", 0.5, 2.0)
    assert len(customer) == len(agent) == int(1.5 * ANALYSIS_RATE)
    assert _peak_hz(customer, ANALYSIS_RATE) == pytest.approx(200.0, abs=5.0)
    assert np.abs(agent[: ANALYSIS_RATE // 4]).max() < 0.02 < np.abs(agent[-ANALYSIS_RATE // 2 :]).max()
    assert len(rec.segment("agent", 2.5, None)) == ANALYSIS_RATE // 2  # to the end of the file
    assert len(rec.segment("agent", 5.0, 6.0)) == 0  # past the end: empty, not an error
    with pytest.raises(AudioError, match=r"call\.wav: channel 2 for 'agent' does not exist; the file has 2"):
        read_recording(path, {"customer": 0, "agent": 2})


def test_audio_turn_spans_end_at_the_next_turn_or_the_recording() -> None:
    assert turn_spans([0.0, 2.5, None, 7.0], [2.0, None, None, None], 9.0) == [
        (0.0, 2.0),
        (2.5, 7.0),
        None,
        (7.0, 9.0),
    ]
