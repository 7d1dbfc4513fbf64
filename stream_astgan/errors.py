"""Errors a user can cause. The CLI prints their message as one line and exits with `exit_code`."""

from __future__ import annotations


class AstganError(Exception):
    """Base of every error whose message tells the user what to do; never shown as a traceback."""

    exit_code = 2


class InputError(AstganError):
    """The input (file, folder, webcam) is missing, unreadable or not a video/image."""


class OutputError(AstganError):
    """The output cannot be written: it exists, is the input, or its folder is not writable."""


class ModelError(AstganError):
    """The model is missing, corrupt or does not follow the ONNX contract."""


class ProviderError(AstganError):
    """An execution provider that was asked for explicitly cannot run here."""


class UsageError(AstganError):
    """Options that contradict each other or are out of range."""
