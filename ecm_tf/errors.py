"""User-facing errors: main.py prints them as one line and exits non-zero."""


class InputError(Exception):
    """Bad user input (file, flag, checkpoint). The message names the file:line or flag."""


def at(path, line=None, record=None):
    """Formats a location prefix: 'path:12' or 'path record 3'."""
    if line is not None:
        return f"{path}:{line}"
    if record is not None:
        return f"{path} record {record}"
    return str(path)
