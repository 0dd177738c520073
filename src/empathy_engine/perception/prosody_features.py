"""Prosodic features of one stretch of speech: frame analysis (streamable) and per-turn statistics.

Everything runs at `ANALYSIS_RATE` (8 kHz, telephony's rate), on 10 ms hops:

- frame k looks at samples [k*HOP, k*HOP + PITCH_WINDOW): pitch (YIN) on the whole window,
  level and spectrum on its central 32 ms, so a frame depends only on its own samples and a
  stream cut into any chunks gives exactly the frames of the whole signal;
- `turn_features` turns a turn's frames into the numbers the baseline and the arousal model use.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from empathy_engine.ingest.audio import ANALYSIS_RATE

HOP = ANALYSIS_RATE // 100  # 10 ms
PITCH_WINDOW = 512  # 64 ms: two periods of the lowest pitch plus the YIN integration window
SPECTRUM_WINDOW = 256  # 32 ms, centred in the pitch window
F0_MIN, F0_MAX = 60.0, 500.0
YIN_THRESHOLD = 0.2
VOICING_MAX = 0.45  # a frame whose best YIN dip stays above this is unvoiced
SILENCE_DB = -100.0
SPEECH_BELOW_PEAK_DB = 25.0  # speech frames are within this of the turn's loud frames (as Praat's nuclei script)
SPEECH_FLOOR_DB = -75.0
NOISE_SPREAD_DB = 10.0  # speech varies by more than this between its loud and quiet frames
OVER_NOISE_DB = 6.0  # speech frames are this far above the turn's noise floor (its quietest frames)
QUALITY_BELOW_PEAK_DB = 15.0  # aperiodicity from the loud voiced frames only
NOISE_PERCENTILE = 5.0  # the turn's noise floor: its quietest frames (as `speech_mask`)
NOISE_SPECTRUM_PERCENTILE = 10.0  # the line noise's spectrum: the mean over the turn's quietest tenth of frames
MAX_SUBTRACTION = 0.1  # noise subtraction leaves at least a tenth of a band's power (at most -10 dB)
MIN_PAUSE_S = 0.25  # shorter gaps are stop closures, not pauses
NUCLEUS_PROMINENCE_DB = 2.0
NUCLEUS_MIN_GAP = 8  # frames: 80 ms between syllable nuclei at most ~12 syllables a second
OVERTALK_MIN_S = 0.1
MAX_BLOCK = 500  # frames analysed in one go

_LAG_MIN = int(ANALYSIS_RATE / F0_MAX)
_LAG_MAX = int(np.ceil(ANALYSIS_RATE / F0_MIN))
_YIN_W = PITCH_WINDOW - _LAG_MAX - 2  # integration window
_NFFT = 1024
_FREQS = np.fft.rfftfreq(SPECTRUM_WINDOW, 1.0 / ANALYSIS_RATE)
# Spectral balance inside the telephone band only, so a wideband and a phone turn measure the same thing.
_LOW = (_FREQS >= 300) & (_FREQS < 1000)
_HIGH = (_FREQS >= 1000) & (_FREQS < 3400)
_NUCLEUS_BAND = (_FREQS >= 300) & (_FREQS < 2500)
_HANN = np.hanning(SPECTRUM_WINDOW).astype(np.float32)
_HANN_POWER = float(np.sum(_HANN**2))
_SPEC_OFFSET = (PITCH_WINDOW - SPECTRUM_WINDOW) // 2

#: Frame columns.
DB, BAND_DB, F0, APERIODICITY, LOW_DB, HIGH_DB = range(6)
FRAME_COLUMNS = 6


def _db(power: np.ndarray) -> np.ndarray:
    return np.maximum(10.0 * np.log10(np.maximum(power, 1e-12)), SILENCE_DB)


def analyse_frames(windows: np.ndarray) -> np.ndarray:
    """(n, PITCH_WINDOW) float32 windows -> (n, FRAME_COLUMNS) float32 frames.

    Columns: level dB (full scale), nucleus-band dB (300-2500 Hz), F0 in Hz (0 when unvoiced),
    YIN aperiodicity (0 periodic .. 1 noise), dB of the 300-1000 Hz and of the 1000-3400 Hz band.
    """
    n = windows.shape[0]
    out = np.zeros((n, FRAME_COLUMNS), np.float32)
    if n == 0:
        return out
    x = windows - windows.mean(axis=1, keepdims=True)
    centre = x[:, _SPEC_OFFSET : _SPEC_OFFSET + SPECTRUM_WINDOW]
    power = np.mean(centre**2, axis=1)
    spec = np.abs(np.fft.rfft(centre * _HANN, axis=1)) ** 2 / _HANN_POWER
    out[:, DB] = _db(power)
    out[:, BAND_DB] = _db(spec[:, _NUCLEUS_BAND].sum(axis=1) / SPECTRUM_WINDOW)
    out[:, LOW_DB] = _db(spec[:, _LOW].sum(axis=1))
    out[:, HIGH_DB] = _db(spec[:, _HIGH].sum(axis=1))
    f0, aperiodicity = _yin(x)
    out[:, F0] = f0
    out[:, APERIODICITY] = aperiodicity
    return out


def _yin(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """YIN (de Cheveigne & Kawahara 2002) on each row, vectorised over frames with FFTs."""
    n = x.shape[0]
    head = x[:, :_YIN_W]
    # r[t] = sum_j head[j] * x[j + t]: cross-correlation of the integration window with the frame.
    r = np.fft.irfft(np.conj(np.fft.rfft(head, _NFFT, axis=1)) * np.fft.rfft(x, _NFFT, axis=1), _NFFT, axis=1)
    r = r[:, : _LAG_MAX + 2]
    sq = np.concatenate([np.zeros((n, 1)), np.cumsum(x.astype(np.float64) ** 2, axis=1)], axis=1)
    lags = np.arange(_LAG_MAX + 2)
    energy_shifted = sq[:, lags + _YIN_W] - sq[:, lags]
    d = np.maximum(sq[:, _YIN_W : _YIN_W + 1] + energy_shifted - 2.0 * r, 0.0)
    cum = np.cumsum(d[:, 1:], axis=1)
    cmnd = np.ones_like(d)
    cmnd[:, 1:] = d[:, 1:] * np.arange(1, d.shape[1]) / np.maximum(cum, 1e-12)
    band = cmnd[:, _LAG_MIN : _LAG_MAX + 1]
    # The first dip under the threshold that is a local minimum; else the deepest dip.
    inner = band[:, 1:-1]
    is_min = (inner <= band[:, :-2]) & (inner <= band[:, 2:])
    below = is_min & (inner < YIN_THRESHOLD)
    first = np.where(below.any(axis=1), np.argmax(below, axis=1), np.argmin(inner, axis=1)) + 1
    rows = np.arange(n)
    best = band[rows, first]
    left, right = band[rows, first - 1], band[rows, first + 1]
    denom = left - 2 * best + right
    shift = np.where(np.abs(denom) > 1e-9, 0.5 * (left - right) / np.where(denom == 0, 1, denom), 0.0)
    lag = _LAG_MIN + first + np.clip(shift, -0.5, 0.5)
    voiced = best < VOICING_MAX
    f0 = np.where(voiced, ANALYSIS_RATE / lag, 0.0)
    return f0.astype(np.float32), np.clip(best, 0.0, 1.0).astype(np.float32)


def analyse_levels(windows: np.ndarray) -> np.ndarray:
    """(n, PITCH_WINDOW) windows -> (n,) level in dB of their central 32 ms, as column DB of `analyse_frames`."""
    x = windows - windows.mean(axis=1, keepdims=True)
    centre = x[:, _SPEC_OFFSET : _SPEC_OFFSET + SPECTRUM_WINDOW]
    return _db(np.mean(centre**2, axis=1)).astype(np.float32).reshape(-1, 1)


@dataclass(slots=True)
class FrameStream:
    """Cuts a stream of samples into frames as they arrive; `frames()` gives every frame so far.

    Frame k covers samples [k*HOP, k*HOP + PITCH_WINDOW), so any chunking of the stream gives
    the frames of the whole signal. `levels_only` keeps just the level (for the other speaker).
    """

    levels_only: bool = False
    batch: int = 10  # analyse in batches of this many frames: numpy calls cost more than the maths
    samples: int = 0
    _pending: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    _done: list[np.ndarray] = field(default_factory=list)

    def push(self, chunk: np.ndarray) -> None:
        self.samples += len(chunk)
        self._pending = np.concatenate([self._pending, np.asarray(chunk, np.float32).ravel()])
        ready = (len(self._pending) - PITCH_WINDOW) // HOP + 1
        if ready >= self.batch:
            view = np.lib.stride_tricks.sliding_window_view(self._pending, PITCH_WINDOW)[: ready * HOP : HOP]
            self._done.append(self._analyse(view))
            self._pending = self._pending[ready * HOP :]

    def _analyse(self, windows: np.ndarray) -> np.ndarray:
        if self.levels_only:
            return analyse_levels(windows)
        if len(windows) <= MAX_BLOCK:
            return analyse_frames(windows)
        # In blocks, so a long recording never needs more than a few MB of FFT scratch at once.
        return np.concatenate([analyse_frames(windows[i : i + MAX_BLOCK]) for i in range(0, len(windows), MAX_BLOCK)])

    def frames(self) -> np.ndarray:
        """Every frame of the samples pushed so far (the last ones zero-padded); the stream may go on."""
        if len(self._done) > 1:
            self._done = [np.concatenate(self._done)]
        done = self._done[0] if self._done else np.zeros((0, 1 if self.levels_only else FRAME_COLUMNS), np.float32)
        tail = -(-self.samples // HOP) - len(done)  # one frame per started hop
        if tail <= 0:
            return done
        padded = np.concatenate([self._pending, np.zeros(PITCH_WINDOW + tail * HOP, np.float32)])
        view = np.lib.stride_tricks.sliding_window_view(padded, PITCH_WINDOW)[: tail * HOP : HOP]
        return np.concatenate([done, self._analyse(view)])


def speech_mask(level_db: np.ndarray) -> np.ndarray:
    """Which frames are speech: within SPEECH_BELOW_PEAK_DB of the loudest and above the floor.

    A channel whose level hardly varies (line noise, hum) has no speech at all.
    """
    if len(level_db) == 0:
        return np.zeros(0, bool)
    loud, quiet = np.percentile(level_db, [99, 5])
    if loud - quiet < NOISE_SPREAD_DB:
        return np.zeros(len(level_db), bool)
    # On a noisy line the noise is within 25 dB of the speech: without the floor it would count as speech.
    return level_db > max(float(loud) - SPEECH_BELOW_PEAK_DB, SPEECH_FLOOR_DB, float(quiet) + OVER_NOISE_DB)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) index runs where mask is true."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist(), strict=True))


def _semitones(hz: np.ndarray) -> np.ndarray:
    return 12.0 * np.log2(hz / 100.0)


def _nuclei(frames: np.ndarray, speech: np.ndarray, voiced: np.ndarray) -> int:
    """Syllable nuclei: prominent peaks of the 300-2500 Hz level in voiced speech (after de Jong & Wempe 2009)."""
    from empathy_engine.extras import require

    require("voice", "audio analysis")  # a clear line, not "No module named 'scipy'"
    from scipy.signal import find_peaks

    band = frames[:, BAND_DB].astype(np.float64)
    smooth = np.convolve(band, np.ones(3) / 3, mode="same")
    peaks, _ = find_peaks(smooth, prominence=NUCLEUS_PROMINENCE_DB, distance=NUCLEUS_MIN_GAP)
    near_voice = np.convolve(voiced.astype(np.float64), np.ones(5), mode="same") > 0
    return int(np.sum(speech[peaks] & near_voice[peaks]))


#: The per-turn features, in the order the baseline and the arousal model use them.
FEATURES: tuple[str, ...] = (
    "pitch_st",  # F0 in semitones re 100 Hz, the mean over voiced speech weighted by each frame's power
    "pitch_range_st",  # 10th to 90th percentile of F0, semitones
    "loudness_db",  # active speech level, dB full scale
    "speech_rate",  # syllable nuclei per second of speech
    "pause_ratio",  # pauses (>= 0.25 s) as a share of the turn from first to last speech
    "band_tilt_db",  # voiced speech's 1-3.4 kHz over its 0.3-1 kHz, line noise subtracted (raised voices are flatter)
    "net_aperiodicity",  # mean YIN dip of the loud voiced frames less the line noise's share (breathy, rough: higher)
    "pitch_jitter_st",  # mean absolute F0 change between neighbouring voiced frames (a jitter proxy)
)


@dataclass(frozen=True, slots=True)
class TurnFeatures:
    """What one turn sounded like. NaN where a feature could not be measured (e.g. no voiced speech)."""

    values: tuple[float, ...]  # in FEATURES order
    speech_s: float
    longest_pause_s: float
    overtalk_s: float = 0.0
    longest_silence_s: float = 0.0  # neither channel speaking (two channels only)

    def get(self, name: str) -> float:
        return self.values[FEATURES.index(name)]

    @property
    def pitch_hz(self) -> float:
        st = self.get("pitch_st")
        return float("nan") if np.isnan(st) else float(100.0 * 2 ** (st / 12.0))


def turn_features(frames: np.ndarray, other_level_db: np.ndarray | None = None) -> TurnFeatures:
    """A turn's features from its frames, and overtalk/silence from the other channel's levels if given."""
    nan = float("nan")
    speech = speech_mask(frames[:, DB])
    f0 = frames[:, F0]
    voiced = speech & (f0 > 0)
    speech_s = float(speech.sum()) * HOP / ANALYSIS_RATE
    overtalk_s, silence_s = _two_channel(speech, other_level_db)
    if not voiced.any():
        return TurnFeatures((nan,) * len(FEATURES), speech_s, 0.0, overtalk_s, silence_s)

    st = _semitones(f0[voiced].astype(np.float64))
    in_octave = np.abs(st - float(np.median(st))) < 9.0  # drop octave errors
    # The pitch level weighted by each frame's power: the loud (stressed) syllables carry it, not the
    # quiet onsets and creaky phrase ends.
    weight = 10.0 ** (frames[voiced, DB][in_octave].astype(np.float64) / 10.0)
    st = st[in_octave]
    pitch = float(np.sum(weight * st) / np.sum(weight))
    pitch_range = float(np.percentile(st, 90) - np.percentile(st, 10))
    power = 10.0 ** (frames[speech, DB].astype(np.float64) / 10.0)
    loudness = float(10.0 * np.log10(np.mean(power)))

    idx = np.flatnonzero(speech)
    span = speech[idx[0] : idx[-1] + 1]
    gaps = [e - s for s, e in _runs(~span)]
    min_gap = MIN_PAUSE_S * ANALYSIS_RATE / HOP
    pauses = [g for g in gaps if g >= min_gap]
    pause_ratio = float(sum(pauses)) / len(span)
    longest_pause = max(pauses, default=0) * HOP / ANALYSIS_RATE
    rate = _nuclei(frames, speech, voiced) / speech_s if speech_s >= 0.3 else nan

    tilt, aperiodicity = _voice_quality(frames, speech, voiced)
    steps = [np.abs(np.diff(_semitones(f0[s:e].astype(np.float64)))) for s, e in _runs(voiced) if e - s >= 3]
    steps_all = np.concatenate(steps) if steps else np.zeros(0)
    jitter = float(np.mean(np.minimum(steps_all, 2.0))) if len(steps_all) else nan
    values = (pitch, pitch_range, loudness, rate, pause_ratio, tilt, aperiodicity, jitter)
    return TurnFeatures(values, speech_s, longest_pause, overtalk_s, silence_s)


def _voice_quality(frames: np.ndarray, speech: np.ndarray, voiced: np.ndarray) -> tuple[float, float]:
    """(band tilt dB, net aperiodicity) of a turn's voiced speech, with the line noise taken out.

    Line noise sits under every frame: it dulls the spectrum and fills in the periodicity of the quiet
    frames most, so a louder turn on a noisy line would look brighter and more periodic only because
    it is further above the noise. The noise is estimated from the turn's own quietest frames:
    - tilt: its mean power per band is subtracted from each voiced frame's bands (spectral subtraction,
      at most -10 dB) before their ratio;
    - aperiodicity: noise of power N under a frame of power P raises YIN's dip by about N / P (the
      cumulative-mean normalised difference of periodic speech plus uncorrelated noise), so that is
      taken off each loud voiced frame's dip.
    """
    level = frames[:, DB].astype(np.float64)
    quiet = level <= np.percentile(level, NOISE_SPECTRUM_PERCENTILE)
    low, high = (10.0 ** (frames[:, c].astype(np.float64) / 10.0) for c in (LOW_DB, HIGH_DB))
    low = np.maximum(low - low[quiet].mean(), MAX_SUBTRACTION * low)
    high = np.maximum(high - high[quiet].mean(), MAX_SUBTRACTION * high)
    tilt = float(np.mean(10.0 * np.log10(high[voiced] / low[voiced])))

    loud = voiced & (level > np.percentile(level[speech], 99) - QUALITY_BELOW_PEAK_DB)
    loud = loud if loud.any() else voiced  # a turn voiced only in its quiet frames
    noise_share = 10.0 ** ((np.percentile(level, NOISE_PERCENTILE) - level[loud]) / 10.0)
    aperiodicity = float(np.mean(frames[loud, APERIODICITY] - noise_share))
    return tilt, aperiodicity


def _two_channel(speech: np.ndarray, other_level_db: np.ndarray | None) -> tuple[float, float]:
    """(seconds both channels speak at once, longest stretch neither speaks) over the common frames."""
    if other_level_db is None or len(other_level_db) == 0:
        return 0.0, 0.0
    n = min(len(speech), len(other_level_db))
    other = speech_mask(other_level_db)[:n]
    mine = speech[:n]
    both = [e - s for s, e in _runs(mine & other)]
    min_run = OVERTALK_MIN_S * ANALYSIS_RATE / HOP
    overtalk = sum(b for b in both if b >= min_run) * HOP / ANALYSIS_RATE
    silence = max((e - s for s, e in _runs(~(mine | other))), default=0) * HOP / ANALYSIS_RATE
    return float(overtalk), float(silence)
