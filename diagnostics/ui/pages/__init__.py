"""One Streamlit page script per module; each runs `main()` when Streamlit executes it."""
