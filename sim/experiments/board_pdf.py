"""The board report as a PDF, through WeasyPrint (which needs the system's Pango library).

WeasyPrint is imported here, on the first PDF asked for: it takes about a second to load, and a
machine without Pango can still make the HTML report (which prints to PDF from any browser).
"""

from __future__ import annotations

from functools import lru_cache


class PdfUnavailable(RuntimeError):
    """WeasyPrint or the Pango library it needs cannot be loaded on this machine (one line)."""


def pdf_bytes(page: str) -> bytes:
    """The HTML report laid out on A4 pages (its own print style), as PDF bytes."""
    try:  # here, not at the top: about a second to load, and it needs Pango (see above)
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: the Pango library is missing
        raise PdfUnavailable(f"a PDF needs WeasyPrint and the Pango library ({type(exc).__name__}:"
                             f" {' '.join(str(exc).split())[:160]}); the HTML report prints to PDF from"
                             " any browser") from None
    # the report holds no external resource (its charts are data: URIs), so nothing is fetched
    return weasyprint.HTML(string=page).write_pdf()


@lru_cache(maxsize=1)
def available() -> bool:
    """Whether a PDF can be made here (WeasyPrint and Pango load), checked once a process."""
    try:  # here, not at the top: see pdf_bytes
        import weasyprint  # noqa: F401
    except (ImportError, OSError):
        return False
    return True
