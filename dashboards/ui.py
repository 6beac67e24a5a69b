"""Small pieces shared by the app frame and its pages: the language switch."""

from __future__ import annotations

import streamlit as st

from dashboards.i18n import DEFAULT_LANG, Lang

# Session-state key of the sidebar's "English" toggle (rendered by app.py, read by every page).
ENGLISH_TOGGLE_KEY = "ui_english"


def language_toggle() -> None:
    """The sidebar switch between Chinese (default) and English."""
    st.sidebar.toggle("English", key=ENGLISH_TOGGLE_KEY)


def current_lang() -> Lang:
    """The language the user picked; Chinese when the page runs without the app frame."""
    return "en" if st.session_state.get(ENGLISH_TOGGLE_KEY, False) else DEFAULT_LANG
