"""Whisper recognition (the `speech` extra) on telephone audio espeak-ng speaks here, the choice of
recogniser by setting, and the joined base model. The word error rates of the README come from
benchmarks/speech.py; this checks the recogniser works offline and beats pocketsphinx."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import jiwer
import numpy as np
import pytest

from empathy_engine.coaching.phrases import words_of
from empathy_engine.extras import has
from empathy_engine.ingest.audio import decode_mulaw, encode_mulaw, read_wav, resample
from empathy_engine.perception.speech import PocketsphinxRecogniser, RecogniserError, chosen_recogniser
from tests.perception.espeak import espeak_ng

pytestmark = pytest.mark.skipif(not has("speech"), reason="needs the speech extra")

SENTENCES = (
    "My furnace stopped working this morning and the house is freezing.",
    "The water heater is leaking all over the basement floor.",
    "Can you send somebody out today? I have two little kids at home.",
)


def phone_line(text: str, folder: Path) -> np.ndarray:
    """`text` as a caller on a phone line: espeak-ng, 8 kHz, G.711 mu-law and back."""
    wav = folder / "say.wav"
    subprocess.run([espeak_ng(), "-v", "en-us", "-s", "160", "-w", str(wav), text], check=True, timeout=60)
    audio = read_wav(wav, rate=None)
    return decode_mulaw(encode_mulaw(resample(audio.channel(0), audio.sample_rate, 8000)))


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def whisper(cache: Path) -> object:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EMPATHY_CACHE_DIR", str(cache))
        return chosen_recogniser({"EMPATHY_RECOGNISER": "auto", "EMPATHY_RECOGNISER_WORKERS": "2"})


def test_whisper_is_the_default_and_reads_phone_audio_better_than_pocketsphinx(
    whisper: object, tmp_path: Path
) -> None:
    assert repr(whisper).startswith("whisper base")  # auto: Whisper when the extra is installed
    pocketsphinx = PocketsphinxRecogniser()
    references, by_whisper, by_sphinx = [], [], []
    for text in SENTENCES:
        audio = phone_line(text, tmp_path)
        references.append(" ".join(words_of(text)))
        by_whisper.append(" ".join(words_of(whisper.transcribe(audio, 8000))) or "-")  # type: ignore[attr-defined]
        by_sphinx.append(" ".join(words_of(pocketsphinx.transcribe(audio, 8000))) or "-")
    whisper_wer, sphinx_wer = jiwer.wer(references, by_whisper), jiwer.wer(references, by_sphinx)
    assert whisper_wer < 0.5, by_whisper
    assert whisper_wer < sphinx_wer / 2, (by_whisper, by_sphinx)


def test_whisper_hears_nothing_in_silence_or_a_hiss(whisper: object) -> None:
    assert whisper.transcribe(np.zeros(8000 * 2, np.float32), 8000) == ""  # type: ignore[attr-defined]
    hiss = np.random.default_rng(1).normal(0, 0.003, 8000 * 2).astype(np.float32)
    heard = whisper.transcribe(hiss, 8000)  # type: ignore[attr-defined]
    assert len(heard.split()) <= 3, heard  # no invented sentence ("Thank you for watching ...")


def test_an_utterance_longer_than_one_window_is_read_to_its_end(whisper: object, tmp_path: Path) -> None:
    """Windows are cut to the utterance; one longer than a window (a turn setting can allow it)
    is read a window at a time, so its last words are not lost."""
    first, last = phone_line(SENTENCES[0], tmp_path), phone_line(SENTENCES[1], tmp_path)
    long_turn = np.concatenate([first, np.zeros(8000 * 27, np.float32), last])  # about 36 s
    heard = words_of(whisper.transcribe(long_turn, 8000))  # type: ignore[attr-defined]
    assert "morning" in heard and "basement" in heard, heard


def test_recognition_runs_in_lower_priority_worker_processes_and_survives_one_killed(
    whisper: object, tmp_path: Path
) -> None:
    pool = whisper._pool  # type: ignore[attr-defined]
    workers = list(pool._processes.values())
    assert len(workers) == 2 and all(w.pid != os.getpid() and w.is_alive() for w in workers)
    assert whisper.spare  # type: ignore[attr-defined]  # two workers, none busy: a partial may be asked for
    assert all(os.getpriority(os.PRIO_PROCESS, w.pid) >= os.getpriority(os.PRIO_PROCESS, 0) + 10 for w in workers)
    audio = phone_line(SENTENCES[1], tmp_path)
    os.kill(workers[0].pid, signal.SIGKILL)  # out of memory, or an operator's mistake
    workers[0].join(10)
    heard = words_of(whisper.transcribe(audio, 8000))  # type: ignore[attr-defined]
    assert {"water", "heater", "leaking"} <= set(heard), heard
    assert whisper._pool is not pool and len(whisper._pool._processes) == 2  # type: ignore[attr-defined]


def test_the_base_model_is_joined_once_into_the_cache_and_again_when_damaged(
    whisper: object, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from empathy_engine.perception.whisper import model_dir

    monkeypatch.setenv("EMPATHY_CACHE_DIR", str(cache))
    folder = model_dir("base")
    weights = folder / "model.bin"
    assert folder.parent == cache and weights.stat().st_size > 100_000_000
    assert {p.name for p in folder.iterdir()} == {"model.bin", "config.json", "tokenizer.json", "vocabulary.json"}
    joined = weights.stat().st_mtime_ns
    assert model_dir("base") == folder and weights.stat().st_mtime_ns == joined  # not joined again
    with weights.open("r+b") as damaged:  # a copy cut short (a full disk, a killed process)
        damaged.truncate(1000)
    assert model_dir("base") == folder and weights.stat().st_size > 100_000_000


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"EMPATHY_RECOGNISER": "whisper-large"}, "EMPATHY_RECOGNISER='whisper-large': use one of auto, "),
        ({"EMPATHY_RECOGNISER_WORKERS": "0"}, "EMPATHY_RECOGNISER_WORKERS='0': a whole number from 1 to 64"),
        ({"EMPATHY_RECOGNISER_WORKERS": "many"}, "EMPATHY_RECOGNISER_WORKERS='many'"),
    ],
)
def test_a_bad_recogniser_setting_names_the_variable_and_the_fix(environ: dict[str, str], message: str) -> None:
    with pytest.raises(RecogniserError, match="^" + message.replace("(", r"\(")):
        chosen_recogniser(environ)


def test_pocketsphinx_is_still_there_by_name() -> None:
    assert repr(chosen_recogniser({"EMPATHY_RECOGNISER": "pocketsphinx"})).startswith("pocketsphinx")


@pytest.mark.parametrize(
    ("text", "echo"),
    [
        ("Customer service phone call", True),  # heard in a hiss on an AMD EPYC host, where int8 rounds otherwise
        ("customer service phone call about heating, cooling, plumbing, plumbing", True),
        ("My furnace is out and the heating is cold.", False),
        ("Is this customer service?", False),
    ],
)
def test_the_prompt_written_back_is_not_taken_for_the_caller(text: str, echo: bool) -> None:
    from empathy_engine.perception.whisper import _echoes_prompt

    assert _echoes_prompt(text) is echo
