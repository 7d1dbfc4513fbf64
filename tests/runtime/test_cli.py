"""The `astgan-stream` command as a user runs it: exit codes, one-line errors, --json, images,
interrupts that leave a playable file, and no torch in the runtime."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import cv2
import numpy as np
import pytest

from stream_astgan.invert_model import write_invert_model

from .conftest import cli_in_process, size_at_least, wait_until

CLI = [sys.executable, "-m", "stream_astgan"]


def run_cli(*args, timeout=120):
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=timeout)


def test_importing_the_runtime_and_its_help_never_import_torch():
    code = (
        "import sys\n"
        "import stream_astgan, stream_astgan.cli, stream_astgan.runner\n"
        "from stream_astgan.cli import app\n"
        "try:\n"
        "    app(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('TORCH' if 'torch' in sys.modules else 'NO-TORCH')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip().endswith("NO-TORCH")


def test_help_explains_the_main_job():
    out = cli_in_process("run", "--help")
    assert out.returncode == 0
    for option in ("--webcam", "--model", "--batch", "--size", "--provider", "--overwrite"):
        assert option in out.stdout


def test_video_run_json_is_one_object_on_stdout(shared_data, invert_model, tmp_path):
    out = tmp_path / "o.mp4"
    res = run_cli(
        shared_data / "video" / "carphone.mp4", "-o", out, "--model", invert_model, "--json"
    )
    assert res.returncode == 0, res.stderr
    summary = json.loads(res.stdout)  # exactly one JSON document, nothing else
    assert summary["frames_in"] == summary["frames_out"] == 120
    assert summary["provider"] == "cpu" and summary["output"] == str(out)
    assert summary["dropped"] == 0 and summary["undecodable"] == 0
    assert out.exists() and not (tmp_path / "o.partial.mp4").exists()


def test_existing_output_is_kept_without_overwrite(shared_data, invert_model, tmp_path):
    out = tmp_path / "o.mp4"
    out.write_bytes(b"precious")
    res = cli_in_process(shared_data / "video" / "carphone.mp4", "-o", out, "--model", invert_model)
    assert res.returncode == 2
    assert "exists; pass --overwrite" in res.stderr
    assert "Traceback" not in res.stderr
    assert out.read_bytes() == b"precious"
    res = cli_in_process(shared_data / "video" / "carphone.mp4", "-o", out, "--model",
                         invert_model, "--overwrite", "-q")  # fmt: skip
    assert res.returncode == 0 and out.stat().st_size > 1000


def test_image_and_folder_inputs(invert_model, tmp_path):
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    rng = np.random.default_rng(1)
    images = {"a.png": (31, 47), "sub/b.png": (64, 33), "c.jpg": (20, 20)}
    for name, (h, w) in images.items():
        cv2.imwrite(str(folder / name), rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
    (folder / "notes.txt").write_text("not an image")
    res = cli_in_process(folder, "-o", tmp_path / "out", "--model", invert_model, "--json")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["frames_out"] == 3
    for name in ("a.png", "sub/b.png"):
        src = cv2.imread(str(folder / name))
        out = cv2.imread(str(tmp_path / "out" / name))
        np.testing.assert_array_equal(out, 255 - src)  # PNG is lossless: exact inverse
    single = tmp_path / "single.png"
    res = cli_in_process(folder / "a.png", "-o", single, "--model", invert_model, "-q")
    assert res.returncode == 0 and cv2.imread(str(single)).shape == (31, 47, 3)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_leaves_a_playable_file_with_the_frames_so_far(
    sig, long_clip, slow_invert_model, media, tmp_path
):
    out = tmp_path / "o.mp4"
    proc = subprocess.Popen(
        [*CLI, long_clip, "-o", out, "--model", slow_invert_model, "-q", "--threads", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    partial = tmp_path / "o.partial.mp4"  # created with the first packet
    wait_until(size_at_least(partial, 1), "the partial output")
    assert proc.poll() is None, "the run ended before it could be interrupted"
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert out.exists() and not partial.exists()
    frames, times, _ = media.decode_video(out)
    in_frames, in_times, _ = media.decode_video(long_clip)
    assert 0 < len(frames) < 200
    assert times == in_times[: len(frames)]
    for a, b in zip(in_frames, frames, strict=False):
        assert media.inversion_error(a, b) < 12


def test_models_and_info_commands(invert_model):
    res = cli_in_process("models", "--json")
    assert res.returncode == 0
    assert isinstance(json.loads(res.stdout)["models"], list)
    res = cli_in_process("info", "--json", "--model", invert_model)
    assert res.returncode == 0
    info = json.loads(res.stdout)
    assert info["session"]["really_used"] == "cpu"
    assert "cpu" in info["providers_loadable"]


def test_demo_writes_a_stylized_clip_with_audio_and_never_overwrites(invert_model, media, tmp_path):
    out = tmp_path / "demo.mp4"
    out.write_bytes(b"keep me")
    res = cli_in_process("demo", "-o", out, "--model", invert_model, "--seconds", "0.5", "--json")
    assert res.returncode == 0, res.stderr
    summary = json.loads(res.stdout)
    made = tmp_path / "demo-1.mp4"
    assert summary["output"] == str(made) and out.read_bytes() == b"keep me"
    assert summary["frames_out"] == 15 and summary["audio"].startswith("copied")
    assert len(media.audio_packets(made)) > 0


def test_bench_reports_every_stage(invert_model):
    res = cli_in_process("bench", "--model", invert_model, "--sizes", "160x96", "--batch", "1,3",
                         "--seconds", "0.5", "--json")  # fmt: skip
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)
    assert [(r["size"], r["batch"]) for r in report["rows"]] == [("160x96", 1), ("160x96", 3)]
    for row in report["rows"]:
        for key in ("decode_fps", "inference_fps", "encode_fps", "end_to_end_fps"):
            assert row[key] > 0
    assert report["rows"][0]["live_latency_ms_p50"] > 0
    assert report["environment"]["cores"] >= 1
    assert report["engine"]["provider"] == "cpu"


def test_bench_sizes_spelling_and_the_deprecated_one():
    res = cli_in_process("bench", "--sizes", "160x96,0x0")
    assert res.returncode == 2 and "error: --sizes gives 0x0" in res.stderr
    res = cli_in_process("bench", "--size", "160x96,0x0")  # the old spelling still parses
    assert res.returncode == 2 and "error: --sizes gives 0x0" in res.stderr
    assert "`bench --size` is now spelled --sizes" in res.stderr


def test_webcam_preview_without_a_display_is_a_clear_error(invert_model, monkeypatch):
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    res = cli_in_process("--webcam", "0", "--model", invert_model)
    assert res.returncode == 2
    assert (
        res.stderr.strip()
        == "error: cannot open a preview window: no display (DISPLAY is not set); use --no-preview"
    )


def test_webcam_preview_and_recording_in_a_window(
    virtual_display, make_clip, invert_model, media, tmp_path
):
    """A file read as a camera plays at its own rate into a real (virtual) window and a file."""
    clip = make_clip("cam.mp4", n=25, fps=25)
    rec = tmp_path / "rec.mp4"
    env = {**os.environ, "DISPLAY": virtual_display}
    args = ["--webcam", clip, "-o", rec, "--model", invert_model, "--json"]
    res = subprocess.run(
        [*CLI, *map(str, args)], capture_output=True, text=True, timeout=120, env=env
    )
    assert res.returncode == 0, res.stderr
    summary = json.loads(res.stdout)
    assert summary["frames_in"] == 25
    assert summary["frames_out"] + summary["dropped"] == 25 and summary["frames_out"] > 10
    assert summary["latency_ms_p50"] > 0
    frames, times, _ = media.decode_video(rec)
    assert len(frames) == summary["frames_out"]
    assert times == sorted(times) and len(set(times)) == len(times)


def test_model_metadata_is_shown_as_text_never_interpreted(media, tmp_path, monkeypatch):
    """A style name with rich markup or shell syntax is printed verbatim and runs nothing."""
    from stream_astgan import catalog

    hostile = "[bold red]pwned[/] $(touch HACKED) `rm -rf ~`"
    models = tmp_path / "models"
    models.mkdir()
    write_invert_model(models / "evil.onnx", {"style": hostile, "source": "../../etc/passwd"})
    monkeypatch.setattr(catalog, "MODELS_DIR", models)
    from typer.testing import CliRunner

    from stream_astgan.cli import app

    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["models"], terminal_width=200)
    assert result.exit_code == 0
    assert "[bold red]pwned[/]" in result.output
    assert not (tmp_path / "HACKED").exists()
