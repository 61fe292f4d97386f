"""Option parsing shared by the `tfcdr` command and its sub-commands (kept apart so none imports another)."""


def comma_names(text):
    """A comma-separated option as a list of its non-empty names ([] when not given)."""
    return [name.strip() for name in str(text or "").split(",") if name.strip()]
