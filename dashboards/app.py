"""orderhub dashboards: the app frame. Run with ``streamlit run dashboards/app.py``.

The frame sets up the page, renders the language switch and the navigation, then runs the chosen page.
Each page is one file under ``views/``; add a page by adding a file there and an entry to ``pages()``
(planned sections: finance, inventory, dispatch, data quality).
"""

from __future__ import annotations

import streamlit as st

from dashboards.i18n import Lang, t
from dashboards.ui import current_lang, language_toggle


def pages(lang: Lang) -> dict[str, list[st.Page]]:
    """The navigation menu: section title -> pages. Page paths are relative to this file."""
    return {
        t("nav.operations", lang): [
            st.Page(
                "views/live.py",
                title=t("page.live", lang),
                icon=":material/monitoring:",
                url_path="live",  # fixed, so the URL does not change with the language
                default=True,
            ),
        ],
    }


def main() -> None:
    st.set_page_config(page_title="orderhub", page_icon=":material/storefront:", layout="wide")
    language_toggle()
    lang = current_lang()
    st.navigation(pages(lang)).run()


if __name__ == "__main__":
    main()
