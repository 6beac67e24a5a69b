"""Small pieces shared by the app frame and its pages: the language switch and the big-screen mode."""

from __future__ import annotations

import streamlit as st

from dashboards.i18n import DEFAULT_LANG, Lang, t

# Session-state key of the sidebar's "English" toggle (rendered by app.py, read by every page).
ENGLISH_TOGGLE_KEY = "ui_english"
# Session-state key of the sidebar's big-screen toggle, and the URL query parameter it is bound to: a wall
# display opens http://host:8501/?wall=true and starts in big-screen mode.
WALL_KEY = "wall"

# Big-screen mode: large tiles and stamp, no Streamlit header or toolbar, the page using the whole width.
# (Element test ids of Streamlit 1.5x–1.6x; an unknown selector just does nothing.)
WALL_CSS = """
<style>
[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stDecoration"] { display: none !important; }
[data-testid="stMainBlockContainer"] { padding-top: 1.2rem; padding-left: 2rem; padding-right: 2rem;
                                       max-width: 100%; }
[data-testid="stMetricValue"], [data-testid="stMetricValue"] p { font-size: 3.6rem !important; line-height: 1.15; }
[data-testid="stMetricLabel"] p { font-size: 1.35rem !important; }
[data-testid="stMetricDelta"], [data-testid="stMetricDelta"] * { font-size: 1.15rem !important; }
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] p { font-size: 1.0rem !important; }
h1 { font-size: 2.6rem !important; padding-top: 0 !important; }
</style>
"""


def language_toggle() -> None:
    """The sidebar switch between Chinese (default) and English."""
    st.sidebar.toggle("English", key=ENGLISH_TOGGLE_KEY)


def current_lang() -> Lang:
    """The language the user picked; Chinese when the page runs without the app frame."""
    return "en" if st.session_state.get(ENGLISH_TOGGLE_KEY, False) else DEFAULT_LANG


def wall_toggle(lang: Lang) -> bool:
    """The sidebar switch for big-screen mode, kept in the URL (``?wall=true``)."""
    return st.sidebar.toggle(t("wall.toggle", lang), key=WALL_KEY, bind="query-params", help=t("wall.help", lang))


def wall_mode() -> bool:
    """True in big-screen mode; False when the page runs without the app frame."""
    return bool(st.session_state.get(WALL_KEY, False))
