"""The one exception type for mistakes a user can make with their input."""


class DataError(ValueError):
    """Bad input a user can fix: a file, a column, a value or a name.

    The message always names where the problem is (file and line when there
    is one) and the value at fault, so the user can go straight to it.

    Args:
        message: what is wrong.
        path: the file at fault, if any.
        line: 1-based line number in that file, if known.
        value: the offending value, if any.
    """

    def __init__(self, message, path=None, line=None, value=None):
        self.path = None if path is None else str(path)
        self.line = line
        self.value = value
        where = ""
        if self.path is not None:
            where = self.path + (f", line {line}" if line is not None else "") + ": "
        what = f" (value: {value!r})" if value is not None else ""
        super().__init__(f"{where}{message}{what}")
