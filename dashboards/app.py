"""orderhub dashboards: the app frame. Run with ``streamlit run dashboards/app.py``.

The frame sets up the page, renders the language switch and the navigation, then runs the chosen page.
Each page is one file under ``views/`` (rendering, inside ``components.run_page``) and one under ``queries/``
(its SQL and ``fetch_<page>``); add a page by adding both, an entry to ``SECTIONS`` and one to
``queries.PAGE_FETCHERS``.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboards.i18n import Lang, t
from dashboards.ui import WALL_CSS, current_lang, language_toggle, wall_toggle

# (file under views/, text key of the title, Material icon, url path): url paths are fixed, so a page's URL
# does not change with the language.
SECTIONS: dict[str, tuple[tuple[str, str, str, str], ...]] = {
    "nav.operations": (
        ("views/live.py", "page.live", ":material/monitoring:", "live"),
        ("views/exceptions.py", "page.exceptions", ":material/report:", "exceptions"),
        ("views/parcels.py", "page.parcels", ":material/package_2:", "parcels"),
    ),
    "nav.inventory": (("views/stock.py", "page.stock", ":material/inventory_2:", "stock"),),
    "nav.dispatch": (("views/dispatch.py", "page.dispatch", ":material/route:", "dispatch"),),
    "nav.finance": (
        ("views/reconciliation.py", "page.reconciliation", ":material/account_balance:", "reconciliation"),
    ),
    "nav.quality": (("views/quality.py", "page.quality", ":material/fact_check:", "quality"),),
}
DEFAULT_PAGE = "views/live.py"
FAVICON = Path(__file__).resolve().parent / "static" / "favicon.png"


def pages(lang: Lang) -> dict[str, list[st.Page]]:
    """The navigation menu: section title -> pages. Page paths are relative to this file."""
    return {
        t(section, lang): [
            st.Page(file, title=t(title, lang), icon=icon, url_path=url_path, default=file == DEFAULT_PAGE)
            for file, title, icon, url_path in entries
        ]
        for section, entries in SECTIONS.items()
    }


def main() -> None:
    language_toggle()
    lang = current_lang()
    wall = wall_toggle(lang)
    # A local icon: a Material icon name would make the browser fetch it from Google's font servers. In
    # big-screen mode (?wall=true) the sidebar starts collapsed.
    # (Only then: setting the sidebar state on every run makes the browser re-apply it on each navigation.)
    st.set_page_config(
        page_title="orderhub",
        page_icon=str(FAVICON),
        layout="wide",
        **({"initial_sidebar_state": "collapsed"} if wall else {}),
    )
    if wall:
        st.html(WALL_CSS)
    st.navigation(pages(lang)).run()


if __name__ == "__main__":
    main()
