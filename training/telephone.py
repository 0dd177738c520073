"""Synthesised telephone conditions for real recordings: what a phone line does to a caller's voice.

The issue's "synthesised speech" for the telephone check means this: real (RAVDESS) speech put
through a synthesised line, not a speech synthesiser. A call is the speaker's clips in order; the
chain is applied clip by clip, with the noise level and the gain fixed for the whole call (a line's
hiss does not follow the caller's voice), except for `scored_db`, a level change on the scored turn
only (the caller moved the handset).

    gain (+ clipping at full scale, as a saturated microphone or A/D converter does)
    -> band-limit 300-3400 Hz (the G.712 telephone channel)
    -> + pink noise at a fixed level under the call's baseline speech level
    -> resample to 8 kHz -> G.711 mu-law encode and decode -> the analysis rate (as the live service)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import butter, sosfilt

from empathy_engine.ingest.audio import ANALYSIS_RATE, decode_mulaw, encode_mulaw, resample

PHONE_RATE = 8000
BAND_HZ = (300.0, 3400.0)
BAND_ORDER = 4  # 24 dB/octave per side: a plain handset/codec channel, not a brick wall
ACTIVE_FRAME_S = 0.01
ACTIVE_BELOW_PEAK_DB = 25.0  # as the features' speech mask: frames within 25 dB of the loud ones are speech


@dataclass(frozen=True, slots=True)
class Condition:
    """One line condition. `snr_db` None: no added noise; `scored_db`: extra gain on the scored turn only."""

    name: str
    phone: bool = True
    call_db: float = 0.0
    scored_db: float = 0.0
    snr_db: float | None = None


CONDITIONS: tuple[Condition, ...] = (
    Condition("clean 16 kHz", phone=False),
    Condition("phone 8 kHz mu-law"),
    Condition("phone + pink noise 20 dB SNR", snr_db=20.0),
    Condition("phone + pink noise 10 dB SNR", snr_db=10.0),
    Condition("phone, whole call -12 dB", call_db=-12.0),
    Condition("phone, whole call +6 dB (clipped)", call_db=6.0),
    Condition("phone, scored turn -6 dB (mid-call)", scored_db=-6.0),
)

#: Lines the fit also hears, on the fit actors only (condition augmentation): other noise levels and gains
#: than the scored CONDITIONS, so the model learns what survives a line without being fitted to the check's.
AUGMENT: tuple[Condition, ...] = (
    Condition("clean 16 kHz, whole call -10 dB", phone=False, call_db=-10.0),
    Condition("phone + pink noise 15 dB SNR", snr_db=15.0),
    Condition("phone, whole call -6 dB", call_db=-6.0),
    Condition("phone, whole call -18 dB + pink noise 25 dB SNR", call_db=-18.0, snr_db=25.0),
    Condition("phone, whole call +3 dB + pink noise 20 dB SNR", call_db=3.0, snr_db=20.0),
    Condition("phone, scored turn +4 dB", scored_db=4.0),
    Condition("phone, scored turn -4 dB + pink noise 20 dB SNR", scored_db=-4.0, snr_db=20.0),
)


def gain(x: np.ndarray, db: float) -> np.ndarray:
    """`x` turned up or down by `db`, clipped to full scale (a louder-than-full-scale voice saturates)."""
    return np.clip(np.asarray(x, np.float64) * 10.0 ** (db / 20.0), -1.0, 1.0)


def band_limit(x: np.ndarray, rate: int) -> np.ndarray:
    """The telephone channel's 300-3400 Hz band (causal Butterworth, as a line filters: no look-ahead)."""
    sos = butter(BAND_ORDER, BAND_HZ, btype="bandpass", fs=rate, output="sos")
    return np.asarray(sosfilt(sos, np.asarray(x, np.float64)))


def pink_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """`n` samples of unit-RMS pink (1/f power) noise: line and room hiss is pink-ish, not white."""
    spectrum = rng.standard_normal(n // 2 + 1) + 1j * rng.standard_normal(n // 2 + 1)
    f = np.arange(n // 2 + 1, dtype=np.float64)
    f[0] = 1.0
    spectrum /= np.sqrt(f)
    spectrum[0] = 0.0
    noise = np.fft.irfft(spectrum, n)
    return noise / max(float(np.sqrt(np.mean(noise**2))), 1e-12)


def active_power(x: np.ndarray, rate: int) -> float:
    """Mean power of the speech frames (10 ms frames within 25 dB of the 99th-percentile frame)."""
    hop = max(1, int(rate * ACTIVE_FRAME_S))
    frames = np.asarray(x, np.float64)[: len(x) // hop * hop].reshape(-1, hop)
    power = np.mean(frames**2, axis=1)
    if len(power) == 0:
        return 0.0
    db = 10.0 * np.log10(np.maximum(power, 1e-12))
    return float(np.mean(power[db > np.percentile(db, 99) - ACTIVE_BELOW_PEAK_DB]))


def telephone(x: np.ndarray, rate: int, noise_rms: float = 0.0, rng: np.random.Generator | None = None) -> np.ndarray:
    """A clip through the line: band-limit, optional pink noise of `noise_rms`, 8 kHz, mu-law, analysis rate."""
    y = band_limit(x, rate)
    if noise_rms > 0.0:
        if rng is None:
            raise ValueError("noise needs a seeded rng, so that every run hears the same line")
        # Scaled after the band-limit: the SNR is the one heard in the phone's band (pink noise has most
        # of its power below 300 Hz, so scaling before would make the line ~6 dB quieter than named).
        noise = band_limit(pink_noise(len(y), rng), rate)
        y = y + noise_rms * noise / max(float(np.sqrt(np.mean(noise**2))), 1e-12)
    phone = resample(y.astype(np.float32), rate, PHONE_RATE)
    coded = decode_mulaw(encode_mulaw(phone))
    return resample(coded, PHONE_RATE, ANALYSIS_RATE)


def noise_rms_for(baseline: list[np.ndarray], rate: int, snr_db: float) -> float:
    """The noise level of a call: `snr_db` under the band-limited speech level of its baseline turns."""
    speech = float(np.mean([active_power(band_limit(b, rate), rate) for b in baseline]))
    return float(np.sqrt(speech / 10.0 ** (snr_db / 10.0)))


def through(condition: Condition, x: np.ndarray, rate: int, *, scored: bool, noise_rms: float, seed: int) -> np.ndarray:
    """One clip of a call under `condition`, at the analysis rate. `noise_rms` from `noise_rms_for`."""
    y = gain(x, condition.call_db + (condition.scored_db if scored else 0.0))
    if not condition.phone:
        return resample(y.astype(np.float32), rate, ANALYSIS_RATE)
    return telephone(y, rate, noise_rms, np.random.default_rng(seed))
