"""Parameter descriptions from Google, NumPy and Sphinx docstrings."""

from pepperpy.tools._docstrings import parse_docstring


def test_google() -> None:
    doc = parse_docstring("""Fetch rows.

    Longer explanation
    over two lines.

    Args:
        table (str): The table
            to read.
        limit: How many.
        *columns: Which columns.

    Returns:
        The rows.

    Raises:
        KeyError: never a parameter.
    """)
    assert doc.description == "Fetch rows.\n\nLonger explanation\nover two lines."
    assert doc.params == {"table": "The table to read.", "limit": "How many.", "columns": "Which columns."}


def test_numpy() -> None:
    doc = parse_docstring("""Plot points.

    Parameters
    ----------
    x, y : array_like
        The coordinates.
    color : str, optional
        A colour name,
        or a hex code.

    Returns
    -------
    Axes
        Not a parameter.
    """)
    assert doc.description == "Plot points."
    assert doc.params == {"x": "The coordinates.", "y": "The coordinates.", "color": "A colour name, or a hex code."}


def test_sphinx() -> None:
    doc = parse_docstring("""Send a message.

    :param str to: The recipient,
        an email address.
    :param body: The text.
    :type body: str
    :returns: the message id.
    """)
    assert doc.description == "Send a message."
    assert doc.params == {"to": "The recipient, an email address.", "body": "The text."}


def test_no_sections_and_no_docstring() -> None:
    assert parse_docstring("Just text.\n\nMore.").description == "Just text.\n\nMore."
    assert parse_docstring(None).description == "" and parse_docstring(None).params == {}
