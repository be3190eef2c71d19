"""Streamlit page helpers: thin glue between the page and analysis/ (no analysis logic)."""
