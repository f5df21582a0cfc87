"""The project's own error types, in a module that imports nothing of the project.

Why a module of its own: configs, data sets, the distribution-filter schema and the CLI all raise
or catch these, and importing them must never pull in (and cycle through) the registries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # a type only: the command line imports this module before anything heavy
    from pydantic import ValidationError


class TransformrecError(Exception):
    """Base of the errors a user can act on; the CLI prints them as one line, without a traceback."""


class ConfigError(TransformrecError, ValueError):
    """A config file that cannot be read or does not validate; the message says where and why."""


class RunExistsError(TransformrecError):
    """The output folder already holds a run, and neither resuming nor overwriting it was asked for.

    The message names the way out in the API that was used: ``resume=True`` / ``overwrite=True``
    in Python (``str``), ``--resume`` / ``--overwrite`` on the command line
    (:meth:`command_line_message`, which the CLI prints).
    """

    def __init__(self, output_dir: object, found: list[str] | tuple[str, ...] = ()) -> None:
        self.output_dir, self.found = output_dir, list(found)
        super().__init__(self._message("resume=True", "overwrite=True"))

    def _message(self, resume: str, overwrite: str) -> str:
        return (
            f"{self.output_dir} already holds a run ({', '.join(self.found)}); pass {resume} to continue it, "
            f"{overwrite} to replace it, or choose another output_dir"
        )

    def command_line_message(self) -> str:
        return self._message("--resume", "--overwrite")


class CheckpointError(TransformrecError, RuntimeError):
    """A checkpoint or weights file that cannot be used: unreadable, truncated, not one this project
    wrote, or missing what the caller needs; the message names the file and what is wrong."""


class RunLockedError(TransformrecError):
    """Another live process is running in the same output folder (its lock file names it)."""


class CheckpointMismatchError(TransformrecError):
    """A checkpoint or weights file does not fit the model the config describes (another width, other heads)."""


class TrainingInterruptedError(TransformrecError):
    """SIGINT / SIGTERM stopped training after a step; a checkpoint was saved to continue from."""

    exit_code = 130


def validation_problems(error: ValidationError) -> list[str]:
    """One ``dotted.field: message`` line per problem pydantic found."""
    return [f"{'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}" for e in error.errors()]
