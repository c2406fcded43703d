"""Files the site hands out: CSV and XLSX tables, PDF bulletins."""

from __future__ import annotations

from flask import Response

MIMETYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


def file_response(data: bytes, name: str, *, inline: bool = False) -> Response:
    """``data`` as a file called ``name``, its type from the extension; ``inline`` shows it in
    the browser (a PDF) instead of saving it."""
    response = Response(data, mimetype=MIMETYPES[name.rsplit(".", 1)[-1]])
    disposition = "inline" if inline else "attachment"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{name}"'
    return response
